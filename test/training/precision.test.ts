/**
 * training.precision reaches the training: runtime.precision 'bfloat16' makes the fold set its convs' precision
 * (here refused on the pure-JS backend, a BadInputError naming the setting, before any training), absent leaves float32.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runTrainingFold } from '../../activities/training/train-fold';
import { convPrecision } from '../../activities/network/bf16-conv';
import { BadInputError } from '../../activities/common/errors';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

const fold = (precision?: 'bfloat16') => runTrainingFold({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 1, trainer: 'nnUNetTrainerV2',
  runtime: { backend: 'cpu', seed: 7, numWorkers: 0, findLr: { iterations: 2 }, ...(precision ? { precision } : {}) },
});

test('runtime.precision bfloat16 on the pure-JS backend: BadInputError naming training.precision; absent: float32 convs', async () => {
  await assert.rejects(fold('bfloat16'), (err: Error) => err instanceof BadInputError && /training\.precision/.test(err.message) && /tfjs-node backend/.test(err.message));
  assert.equal(convPrecision(), 'float32');
  const out = await fold();
  assert.equal(out.status, 'done');
  assert.equal(convPrecision(), 'float32');
});
