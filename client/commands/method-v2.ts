/**
 * `--method v2` of `nnunet fingerprint` and `nnunet preprocess`: nnU-Net v2's DatasetFingerprintExtractor and
 * DefaultPreprocessor on a dataset folder (v2 Dataset or v1 Task), writing where nnU-Net v2 writes:
 * nnUNet_preprocessed/<dataset>/dataset_fingerprint.json and nnUNet_preprocessed/<dataset>/<data_identifier>/.
 */
import * as fs from 'node:fs';
import type { TaskPaths } from '../../activities/contract';
import { datasetFingerprintFile, plansV2File } from '../../activities/io/layout';
import { UsageError } from '../context';

export const METHODS = ['v1', 'v2'] as const;
export type Method = (typeof METHODS)[number];

/** Parses `--method`; v1 (nnU-Net v1, the default) or v2. */
export function methodOf(value: string | undefined): Method {
  const m = value ?? 'v1';
  if (!(METHODS as readonly string[]).includes(m)) throw new UsageError(`--method ${m}: use v1 (nnU-Net v1) or v2 (nnU-Net v2)`);
  return m as Method;
}

const progress = (label: string, quiet?: boolean) =>
  quiet || !process.stderr.isTTY ? undefined : (done: number, total: number) => process.stderr.write(`\r${label} ${done}/${total} cases`);

export async function fingerprintV2(paths: TaskPaths, numProcesses: number, json?: boolean) {
  const { runFingerprintV2 } = await import('../../activities/fingerprint/v2/fingerprint');
  const t0 = Date.now();
  const fingerprintFile = datasetFingerprintFile(paths.preprocessedDir);
  const fp = await runFingerprintV2(paths.rawDir, fingerprintFile, { numProcesses, onProgress: progress('fingerprint (v2)', json) });
  if (!json && process.stderr.isTTY) process.stderr.write('\n');
  const seconds = (Date.now() - t0) / 1000;
  if (!json) console.log(`${fingerprintFile}: ${fp.spacings.length} cases (nnU-Net v2, ${seconds.toFixed(1)} s)`);
  return { fingerprintFile, numCases: fp.spacings.length, seconds };
}

/** nnUNetv2_preprocess's default configurations, those the plans hold (the cascade shares 3d_fullres's data). */
const DEFAULT_CONFIGURATIONS = ['2d', '3d_fullres', '3d_lowres'];

export async function preprocessV2(paths: TaskPaths, opts: { plansFile?: string; plansName?: string; configurations?: string[]; numProcesses: number; json?: boolean }) {
  const { readPlansV2 } = await import('../../activities/preprocessing/v2/plans');
  const { runPreprocessV2 } = await import('../../activities/preprocessing/v2/preprocess');
  const plansFile = opts.plansFile ?? plansV2File(paths.preprocessedDir, opts.plansName ?? 'nnUNetPlans');
  if (!fs.existsSync(plansFile)) {
    throw new UsageError(`${plansFile}: no such plans file; write it with \`nnunet plan --fingerprint ${datasetFingerprintFile(paths.preprocessedDir)} --dataset-json DATASET_JSON --json > ${plansFile}\`, or name one with --plans-file`);
  }
  const planned = Object.keys(readPlansV2(plansFile).configurations);
  const configurations = opts.configurations ?? DEFAULT_CONFIGURATIONS.filter((c) => planned.includes(c));
  const results = [];
  for (const configuration of configurations) {
    const t0 = Date.now();
    const r = await runPreprocessV2(paths.rawDir, plansFile, configuration, paths.preprocessedDir, { numProcesses: opts.numProcesses, onProgress: progress(configuration, opts.json) });
    if (!opts.json && process.stderr.isTTY) process.stderr.write('\n');
    const seconds = (Date.now() - t0) / 1000;
    results.push({ configuration, ...r, seconds });
    if (!opts.json) console.log(`${configuration}: ${r.dataFolder} (${r.numCases} cases, nnU-Net v2, ${seconds.toFixed(1)} s)`);
  }
  return results;
}
