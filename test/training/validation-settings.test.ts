/**
 * A fold's final validation with nnU-Net's predict options (TTA, step size): the windows and network passes the
 * settings imply, validation_args.json recording them, and a changed request validating again without training.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeSteps } from '../../activities/inference/sliding-window';
import { readPlansFile } from '../../activities/planning/plans-file';
import { stages } from '../../activities/planning/plans';
import { stageFor } from '../../activities/preprocessing/preprocess';
import { readNpyLayout } from '../../activities/training/dataloader-cases';
import { runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { validationSettingsOf, VALIDATION_ARGS_FILE } from '../../activities/training/fold-validation';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

const input = (over: Partial<TrainFoldInput> = {}): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer: 'nnUNetTrainerV2',
  epochs: 1, iterationsPerEpoch: 2, runtime: { seed: 7, numWorkers: 1, validationIterations: 1 }, ...over,
});

/** Sliding windows over a case's preprocessed grid (padded to the patch where smaller), as nnU-Net tiles it. */
function windowsFor(caseId: string, stepSize: number): number {
  const plans = readPlansFile(task.plansFile);
  const sel = stageFor(plans, '3d_fullres', task.paths.preprocessedDir, task.plansFile);
  const patch = stages(plans)[sel.stageIndex]!.patch_size;
  const shape = readNpyLayout(path.join(sel.dataDir, `${caseId}.npy`), 'case').shape.slice(1);
  return computeSteps(patch, shape.map((s, d) => Math.max(s, patch[d]!)), stepSize).reduce((n, axis) => n * axis.length, 1);
}

test('validation settings: defaults are nnU-Net\'s; nonsense is refused naming the field', () => {
  assert.deepEqual(validationSettingsOf(input()), { tta: true, stepSize: 0.5 });
  assert.throws(() => validationSettingsOf(input({ validation: { tta: true, stepSize: 0 } })), /validation\.stepSize must be in \(0, 1\], got 0/);
  assert.throws(() => validationSettingsOf(input({ validation: { tta: true, stepSize: 1.5 } })), /validation\.stepSize/);
});

test('TTA off + step 1: one pass per window; same settings return at once; defaults validate again, no training', async () => {
  const lines: string[] = [];
  const hooks = { log: (l: string) => lines.push(l) };
  const fast = await runTrainingFold(input({ validation: { tta: false, stepSize: 1 } }), hooks);
  assert.equal(fast.status, 'done');
  if (fast.status !== 'done') return;
  const validationDir = path.join(fast.foldDir, 'validation_raw');
  const splits = JSON.parse(fs.readFileSync(path.join(task.paths.preprocessedDir, 'splits_final.json'), 'utf8')) as { val: string[] }[];
  const valCases = splits[0]!.val;
  assert.ok(valCases.length > 0);
  for (const id of valCases) {
    const w = windowsFor(id, 1);
    assert.ok(lines.includes(`validated ${id}: ${w} sliding windows, ${w} network passes`), `step 1, no TTA: ${w} windows, 1 pass each\n${lines.join('\n')}`);
  }
  assert.ok(fs.existsSync(path.join(validationDir, 'summary.json')));
  assert.equal(typeof fast.validationMeanDice, 'number');
  const args = () => JSON.parse(fs.readFileSync(path.join(validationDir, VALIDATION_ARGS_FILE), 'utf8'));
  assert.deepEqual([args().do_mirroring, args().step_size], [false, 1]);

  // The same request: the finished fold returns at once, nothing validated.
  lines.length = 0;
  assert.deepEqual(await runTrainingFold(input({ validation: { tta: false, stepSize: 1 } }), hooks), fast);
  assert.equal(lines.length, 0, lines.join('\n'));

  // nnU-Net's defaults now: only the validation runs again, from the final checkpoint (8 mirrors per window).
  const checkpointMtime = fs.statSync(fast.finalCheckpoint).mtimeMs;
  const full = await runTrainingFold(input(), hooks);
  assert.equal(full.status, 'done');
  if (full.status !== 'done') return;
  assert.ok(lines.some((l) => /validating again with mirroring TTA on, step size 0\.5 from model_final_checkpoint\.model/.test(l)), lines.join('\n'));
  for (const id of valCases) {
    const w = windowsFor(id, 0.5);
    assert.ok(lines.includes(`validated ${id}: ${w} sliding windows, ${8 * w} network passes`), `step 0.5 with TTA: ${w} windows × 8 mirrors\n${lines.join('\n')}`);
  }
  assert.ok(!lines.some((l) => /^training \d+ cases/.test(l)), 'no training the second time');
  assert.equal(fs.statSync(fast.finalCheckpoint).mtimeMs, checkpointMtime);
  assert.equal(full.epochs, fast.epochs);
  assert.deepEqual([args().do_mirroring, args().step_size], [true, 0.5]);
  assert.ok(fs.existsSync(path.join(validationDir, 'summary.json')));
  const id = valCases[0]!;
  console.log(`${id}: TTA off, step 1: ${windowsFor(id, 1)} passes, Dice ${fast.validationMeanDice?.toFixed(4)}; `
    + `TTA on, step 0.5: ${8 * windowsFor(id, 0.5)} passes, Dice ${full.validationMeanDice?.toFixed(4)}`);
});
