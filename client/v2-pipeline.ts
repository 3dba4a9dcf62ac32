/**
 * nnUNetv2_extract_fingerprint, nnUNetv2_preprocess and nnUNetv2_plan_and_preprocess with v2's meaning
 * (plan_and_preprocess_api.py): per dataset the fingerprint (kept when it exists, unless --clean), the experiment
 * planning (client/v2-commands.ts planDatasets), and DefaultPreprocessor for each configuration of the plans that
 * -c names (a configuration the plans lack is skipped, as v2), then the training labels copied to
 * nnUNet_preprocessed/DatasetXXX/gt_segmentations.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Config } from '../config';
import type { TaskPaths } from '../activities/contract';
import { BadInputError } from '../activities/common/errors';
import { copyGroundTruthV2 } from '../activities/preprocessing/v2/ground-truth';
import { datasetFingerprintFile, plansV2File } from '../activities/io/layout';
import { fingerprintV2, preprocessV2 } from './commands/method-v2';
import { verifyTask } from './commands/verify';
import { UsageError } from './context';
import type { V2Args, V2Value } from './v2-argparse';
import { planDatasets, resolveDataset, type V2Handler } from './v2-commands';

const list = (v: V2Value): Array<string | number> => (Array.isArray(v) ? v : v === null || v === false ? [] : [v as string | number]);

/** v2's process counts, bounded by this machine's cores (more workers than cores only cost memory). */
const threads = (n: number): number => Math.max(1, Math.min(n, os.cpus().length));

function datasetPaths(prog: string, args: V2Args, config: Config): TaskPaths[] {
  const ids = list(args.values.d);
  if (ids.length === 0) throw new UsageError(`${prog}: -d is required (the dataset ids, e.g. -d 4)`);
  return ids.map((id) => resolveDataset(config, id).paths);
}

/** extract_fingerprint_dataset: verify (when asked), keep an existing fingerprint unless --clean, else compute it. */
async function fingerprintStep(prog: string, args: V2Args, config: Config, numProcesses: number): Promise<TaskPaths[]> {
  const fpe = String(args.values.fpe);
  if (fpe !== 'DatasetFingerprintExtractor') throw new UsageError(`${prog}: -fpe ${fpe}: only DatasetFingerprintExtractor exists here`);
  const datasets = datasetPaths(prog, args, config);
  for (const paths of datasets) {
    if (args.values.verify_dataset_integrity === true && !(await verifyTask(paths.rawDir)).ok) {
      throw new BadInputError(`${paths.rawDir}: the dataset failed verification (problems above)`, paths.rawDir);
    }
    const file = datasetFingerprintFile(paths.preprocessedDir);
    if (args.values.clean !== true && fs.existsSync(file)) {
      console.log(`${prog}: ${paths.taskName}: fingerprint exists (${file}); as in nnU-Net v2 it is kept (--clean recomputes it)`);
      continue;
    }
    fs.mkdirSync(paths.preprocessedDir, { recursive: true });
    await fingerprintV2(paths, threads(numProcesses));
  }
  return datasets;
}

export const extractFingerprint: V2Handler = async (prog, args, config) => {
  await fingerprintStep(prog, args, config, Number(args.values.np));
};

/** v2's -np: none → 8 per configuration (4 for 3d_fullres); one value → every configuration; else one each. */
function processCounts(prog: string, configurations: readonly string[], np: V2Value): number[] {
  const given = list(np).map(Number);
  if (given.length === 0) return configurations.map((c) => (c === '3d_fullres' ? 4 : c === '2d' || c === '3d_lowres' ? 8 : 4));
  if (given.length === 1) return configurations.map(() => given[0]!);
  if (given.length !== configurations.length) {
    throw new UsageError(`${prog}: -np takes one number or one per configuration (${configurations.length} configurations: ${configurations.join(' ')}); got ${given.length}`);
  }
  return given;
}

/** preprocess_dataset for one dataset and plans. */
async function preprocessDataset(prog: string, paths: TaskPaths, plansName: string, configurations: readonly string[], np: V2Value): Promise<void> {
  const counts = processCounts(prog, configurations, np);
  const plansFile = plansV2File(paths.preprocessedDir, plansName);
  if (!fs.existsSync(plansFile)) throw new BadInputError(`${plansFile}: no such plans file; run nnUNetv2_plan_experiment -d ${paths.taskName} first`, plansFile);
  const planned = Object.keys((JSON.parse(fs.readFileSync(plansFile, 'utf8')) as { configurations: Record<string, unknown> }).configurations);
  for (const [i, c] of configurations.entries()) {
    if (!planned.includes(c)) {
      console.log(`${prog}: INFO: Configuration ${c} not found in plans file ${plansName}.json of dataset ${paths.taskName}. Skipping.`);
      continue;
    }
    await preprocessV2(paths, { plansFile, configurations: [c], numProcesses: threads(counts[i]!) });
  }
  copyGroundTruthV2(paths);
}

export const preprocess: V2Handler = async (prog, args, config) => {
  const configurations = list(args.values.c).map(String);
  for (const paths of datasetPaths(prog, args, config)) await preprocessDataset(prog, paths, String(args.values.plans_name), configurations, args.values.np);
};

/** nnUNetv2_plan_and_preprocess: fingerprint, plan, and (unless --no_pp) preprocess with the plans just written. */
export const planAndPreprocess: V2Handler = async (prog, args, config) => {
  await fingerprintStep(prog, args, config, Number(args.values.npfp));
  const planned = await planDatasets(prog, args, config);
  if (args.values.no_pp === true) return;
  const configurations = list(args.values.c).map(String);
  for (const { paths, plansName } of planned) await preprocessDataset(prog, paths, plansName, configurations, args.values.np);
};
