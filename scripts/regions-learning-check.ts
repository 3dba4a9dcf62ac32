/**
 * Learning check for region-based training (not part of the test suite): the demo task with nested regions
 * (organ = labels {1, 2}, lesion = {2}; `nnunet demo-dataset --regions`, with --ignore-label marking part of each
 * label map as not annotated), fingerprint, plan, preprocess, one 2d fold with nnUNetTrainerV2, then the region Dice
 * of its validation (ignored voxels excluded) against the all-background baseline (Dice 0 for every region present).
 * Usage: node dist/scripts/regions-learning-check.js [scratch-dir]   Env: EPOCHS (12) ITERS (20) CASES (10) IGNORE (1)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runFingerprint } from '../activities/fingerprint/fingerprint';
import { writeDemoDataset } from '../activities/io/demo';
import { taskPaths } from '../activities/io/dataset';
import { plan } from '../activities/planning/activity';
import { runPreprocess } from '../activities/preprocessing/preprocess';
import { runTrainingFold } from '../activities/training/train-fold';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '/tmp/regions-learn');
  fs.rmSync(root, { recursive: true, force: true });
  const roots = { rawDataBase: path.join(root, 'raw'), preprocessed: path.join(root, 'preprocessed'), results: path.join(root, 'results') };
  const ignoreLabel = env('IGNORE', 1) === 1;
  const demo = await writeDemoDataset(roots.rawDataBase, { taskId: 905, cases: env('CASES', 10), testCases: 0, regions: true, ignoreLabel });
  const paths = taskPaths(demo.outDir, roots);
  const fp = await runFingerprint(paths, { numProcesses: 1 });
  const planned = await plan({ paths, fingerprintFile: fp.fingerprintFile });
  const plansFile = planned.plansFiles['2d']!;
  await runPreprocess(paths, plansFile, '2d', { numProcesses: 1 });
  const started = Date.now();
  const r = await runTrainingFold({
    paths, plansFile, configuration: '2d', fold: 0, trainer: 'nnUNetTrainerV2', epochs: env('EPOCHS', 12), iterationsPerEpoch: env('ITERS', 20),
    runtime: { seed: 1 },
  }, { log: (line: string) => { if (/epoch:|train loss|Dice|validation/.test(line)) console.log(line); } });
  if (r.status !== 'done') throw new Error(`training did not finish: ${r.status}`);
  const summary = JSON.parse(fs.readFileSync(path.join(r.foldDir, 'validation_raw', 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null'));
  const perRegion = Object.entries(summary.mean as Record<string, { Dice: number }>).map(([k, m]) => `region ${k}: ${m.Dice.toFixed(4)}`);
  console.log(`${demo.taskName} 2d, ${((Date.now() - started) / 60000).toFixed(1)} min: ${perRegion.join(', ')}, foreground mean ${summary.foreground_mean.Dice.toFixed(4)}`);
  console.log('all-background baseline: Dice 0 for every region (each validation case contains the organ and the lesion)');
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
