/**
 * nnUNet_train --find_lr: nnU-Net's find_lr on a tiny fold (learning rates 1e-6 · (1e7)^(i/N), the smoothed loss,
 * the early stop), lr_finder.png written, and nothing else kept: no checkpoint, no validation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingFold } from '../../activities/training/train-fold';
import { translateAlias } from '../../client/aliases';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

test('find_lr: exponential learning rates from 1e-6, a smoothed finite loss, lr_finder.png, no model files', async () => {
  const out = await runTrainingFold({
    paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 2, trainer: 'nnUNetTrainerV2',
    runtime: { seed: 7, numWorkers: 1, findLr: { iterations: 12 } },
  });
  assert.equal(out.status, 'done');
  if (out.status !== 'done' || !out.lrFinder) throw new Error('no finder result');
  const { learningRates, losses, plot } = out.lrFinder;
  assert.ok(losses.length >= 1 && losses.length <= 12);
  assert.equal(learningRates.length, losses.length);
  assert.equal(learningRates[0], 1e-6);
  const mult = (10 / 1e-6) ** (1 / 12);
  learningRates.slice(1).forEach((lr, i) => assert.ok(Math.abs(lr / learningRates[i]! - mult) < 1e-9));
  assert.ok(losses.every(Number.isFinite));
  assert.equal(plot, path.join(out.foldDir, 'lr_finder.png'));
  assert.deepEqual([...fs.readFileSync(plot).subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  assert.deepEqual(fs.readdirSync(out.foldDir).filter((f) => f.endsWith('.model') || f === 'validation_raw'), []);
});

test('nnUNet_train --find_lr runs in this process (no fold workflow): nnunet train … --find-lr', () => {
  assert.deepEqual(translateAlias('nnUNet_train', ['3d_fullres', 'nnUNetTrainerV2', '4', '0', '--find_lr']).steps,
    [['train', '3d_fullres', 'nnUNetTrainerV2', '4', '0', '--find-lr']]);
});
