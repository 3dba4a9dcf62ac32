// The trainer with batches made in a background worker trains exactly as with batches made in its own thread.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { readCheckpoint } from '../../activities/training/checkpoint';
import { resumedWorkerCount } from '../../activities/training/trainer';
import { runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

const input = (numWorkers: number): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer: 'nnUNetTrainerV2',
  epochs: 2, iterationsPerEpoch: 3, runtime: { seed: 11, skipValidation: true, numWorkers },
});

async function trainWith(numWorkers: number) {
  const r = await runTrainingFold(input(numWorkers));
  assert.equal(r.status, 'done');
  if (r.status !== 'done') throw new Error('not done');
  const c = readCheckpoint(r.finalCheckpoint);
  fs.rmSync(r.foldDir, { recursive: true });
  return c;
}

test('background batch worker (1) and in-thread batches (0): same losses, weights and saved stream state', async () => {
  const inThread = await trainWith(0);
  const worker = await trainWith(1);
  assert.deepEqual(worker.meta.history.trainLosses, inThread.meta.history.trainLosses);
  assert.deepEqual(worker.meta.history.valLosses, inThread.meta.history.valLosses);
  assert.deepEqual(worker.meta.rng, inThread.meta.rng);
  worker.weights.forEach((w, i) => assert.deepEqual(w, inThread.weights[i], `weights of parameter ${i}`));
});

test('a resume keeps the saved worker count, except 0 and 1 which make the same stream', () => {
  const one = { workers: [{ loader: {} as never, augment: {} as never }], nextWorker: 0 };
  assert.equal(resumedWorkerCount(undefined, 3), 3);
  assert.equal(resumedWorkerCount(one, 0), 0);
  assert.equal(resumedWorkerCount(one, 1), 1);
  assert.equal(resumedWorkerCount(one, 4), 1);
  assert.equal(resumedWorkerCount({ workers: [...one.workers, ...one.workers], nextWorker: 1 }, 0), 2);
});
