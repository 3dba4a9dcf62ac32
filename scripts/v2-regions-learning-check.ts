/**
 * Learning check for region-based training with the nnU-Net v2 trainer (not part of the test suite): the demo task
 * with nested regions (organ = labels {1, 2}, lesion = {2}; `nnunet demo-dataset --regions`, with --ignore-label
 * marking part of each label map as not annotated) placed in nnUNet_raw as a v2 Dataset, nnUNetv2_plan_and_preprocess
 * -c 2d, one 2d fold with nnUNetTrainer (trainFoldV2), then the region Dice of its validation/summary.json (ignored
 * voxels excluded) against the all-background baseline (Dice 0 for every region present).
 * Usage: node dist/scripts/v2-regions-learning-check.js [scratch-dir]   Env: EPOCHS (12) ITERS (20) CASES (10) IGNORE (0)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDemoDataset } from '../activities/io/demo';
import { trainFoldV2 } from '../activities/training/v2/train-fold';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ID = 906;

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '/tmp/v2-regions-learn');
  fs.rmSync(root, { recursive: true, force: true });
  const dirs = { nnUNet_raw: path.join(root, 'nnUNet_raw'), nnUNet_preprocessed: path.join(root, 'nnUNet_preprocessed'), nnUNet_results: path.join(root, 'nnUNet_results') };
  const ignoreLabel = env('IGNORE', 0) === 1;
  const demo = await writeDemoDataset(path.join(root, 'v1'), { taskId: ID, cases: env('CASES', 10), testCases: 0, regions: true, ignoreLabel });
  const dataset = `Dataset${ID}_${path.basename(demo.outDir).replace(/^Task\d+_/, '')}`;
  fs.mkdirSync(dirs.nnUNet_raw, { recursive: true });
  fs.renameSync(demo.outDir, path.join(dirs.nnUNet_raw, dataset));
  const bin = path.join(__dirname, '..', 'client', 'bin', 'nnUNetv2_plan_and_preprocess.js');
  const pp = spawnSync(process.execPath, [bin, '-d', String(ID), '-c', '2d'], { env: { ...process.env, ...dirs, NNUNET_LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  if (pp.status !== 0) throw new Error(`nnUNetv2_plan_and_preprocess exited ${pp.status}`);
  const started = Date.now();
  const r = await trainFoldV2({
    preprocessedDir: path.join(dirs.nnUNet_preprocessed, dataset), resultsRoot: dirs.nnUNet_results, datasetName: dataset, configuration: '2d',
    fold: 0, trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: env('EPOCHS', 12), iterationsPerEpoch: env('ITERS', 20), seed: 1,
  }, { onEpoch: (e) => console.log(`epoch ${e.epoch}: train ${e.trainLoss.toFixed(4)} val ${e.valLoss.toFixed(4)} pseudo Dice [${e.pseudoDice.map((d) => d.toFixed(4)).join(', ')}]`) });
  if (r.status !== 'done' || !r.validation) throw new Error(`training did not finish: ${r.status}`);
  const summary = r.validation.summary;
  const perRegion = Object.entries(summary.mean).map(([k, m]) => `region ${k}: ${m.Dice.toFixed(4)}`);
  console.log(`${dataset} 2d nnUNetTrainer, ${((Date.now() - started) / 60000).toFixed(1)} min: ${perRegion.join(', ')}, foreground mean ${summary.foreground_mean.Dice.toFixed(4)}`);
  const present = Object.entries(summary.mean).map(([k, m]) => `${k}: ${m.n_ref > 0 ? 'present' : 'absent'}`);
  console.log(`all-background baseline: Dice 0 for every region present in the validation cases (${present.join(', ')})`);
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
