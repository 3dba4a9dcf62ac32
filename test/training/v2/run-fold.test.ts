/**
 * The `train` activity's v2 fold (activities/training/v2/run-fold.ts) on the tiny v2 dataset, without Temporal:
 * progress after every epoch, a finished fold returns at once, a start-over token clears the fold once (its
 * retries continue), a stop writes checkpoint_latest.pth and the next run continues from it; v1-only options and
 * plans outside the preprocessed Dataset folder are BadInput.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainInput, TrainProgress } from '../../../activities/contract';
import { runTrainingFoldV2 } from '../../../activities/training/v2/run-fold';
import { checkpointEpochV2 } from '../../../activities/training/v2/checkpoint';
import { TINY_DATASET, tinyPreprocessedV2 } from './fixture';

const d = tinyPreprocessedV2();
after(() => d.cleanup());
const input: TrainInput = {
  method: 'v2', plansName: 'nnUNetPlans', plansFile: path.join(d.preprocessedDir, 'nnUNetPlans.json'),
  paths: { taskName: TINY_DATASET, rawDir: path.join(d.root, 'raw', TINY_DATASET), croppedDir: '', preprocessedDir: d.preprocessedDir, resultsDir: d.resultsRoot },
  configuration: '3d_fullres', fold: 0, trainer: 'nnUNetTrainer', epochs: 2, iterationsPerEpoch: 1, continueTraining: true,
};
const runtime = { backend: 'cpu', numWorkers: 1, checkpointEveryEpochs: 1 };
const foldDir = path.join(d.resultsRoot, TINY_DATASET, 'nnUNetTrainer__nnUNetPlans__3d_fullres', 'fold_0');
const logCount = () => fs.readdirSync(foldDir).filter((f) => f.startsWith('training_log_')).length;

test('v2 fold: progress per epoch, finished fold at once, start-over once per token, stop and continue', { timeout: 300_000 }, async () => {
  const progress: TrainProgress[] = [];
  const first = await runTrainingFoldV2({ ...input, startOver: 'run-1', runtime }, { onProgress: (p) => progress.push(p) });
  assert.equal(first.status, 'done');
  assert.deepEqual(progress.map((p) => [p.epoch, p.totalEpochs]), [[1, 2], [2, 2]]);
  assert.ok(progress.every((p) => Number.isFinite(p.trainLoss) && Number.isFinite(p.valLoss) && p.pseudoDice?.length === 1));
  assert.ok(first.status === 'done' && typeof first.validationMeanDice === 'number');

  // The same token again (a retry of that run): the finished fold returns at once, nothing trained.
  const logs = logCount();
  const again = await runTrainingFoldV2({ ...input, startOver: 'run-1', runtime });
  assert.ok(again.status === 'done' && again.epochs === 2 && again.validationMeanDice === (first.status === 'done' ? first.validationMeanDice : NaN));
  assert.equal(logCount(), logs, 'no training started');

  // A new token (nnUNetv2_train without --c once more) starts over; a stop request after the first epoch writes checkpoint_latest.
  let epochs = 0;
  const stopped = await runTrainingFoldV2({ ...input, startOver: 'run-2', runtime }, { onProgress: () => epochs++, shouldStop: () => epochs >= 1 });
  assert.equal(stopped.status, 'stopped');
  assert.ok(!fs.existsSync(path.join(foldDir, 'checkpoint_final.pth')), 'the old final checkpoint went with the start-over');
  assert.equal(checkpointEpochV2(path.join(foldDir, 'checkpoint_latest.pth')), 1);
  const resumed = await runTrainingFoldV2({ ...input, startOver: 'run-2', runtime });
  assert.ok(resumed.status === 'done' && resumed.epochs === 2);
  assert.match(fs.readdirSync(foldDir).filter((f) => f.startsWith('training_log_')).map((f) => fs.readFileSync(path.join(foldDir, f), 'utf8')).join(''), /continuing from checkpoint_latest\.pth \(epoch 1\)/);
});

test('v2 fold: v1-only options and plans outside <preprocessed>/<Dataset> are BadInput', async () => {
  await assert.rejects(runTrainingFoldV2({ ...input, validationFolderName: 'val2' }), { name: 'BadInput', message: /--val_folder: nnU-Net v1 options/ });
  await assert.rejects(runTrainingFoldV2({ ...input, plansFile: path.join(d.root, 'nnUNetPlans.json') }), { name: 'BadInput', message: /nnU-Net v2 trains the plans nnUNetPlans from/ });
});
