/**
 * nnU-Net v2's nnUNetPredictor on a preprocessed case (inference/v2): the logits of the v2 model fixtures
 * (test/fixtures/nnunet-v2-model, scripts/parity/make_v2_model.py) against nnUNetPredictor's own, for a 2d model
 * over a 3D case with two folds and a 3d ResidualEncoderUNet over a case thinner than its patch. nnU-Net
 * accumulates in float16; so do we: > 99.8% of the logits are identical, the rest one float16 rounding apart.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { repoRoot } from '../../config';
import { readNpySync } from '../../activities/io/npy';
import { loadV2Model } from '../../activities/network/v2/model-folder';
import { predictPreprocessedV2 } from '../../activities/inference/v2/model-predictor';
import { gaussianMapV2, mirrorCombinations } from '../../activities/inference/v2/sliding-window';
import { toHalf } from '../../activities/inference/v2/half';

const FIXTURE = path.join(repoRoot(), 'test', 'fixtures', 'nnunet-v2-model');

before(async () => {
  await tf.setBackend('cpu');
});

test('mirror combinations come in itertools order; the Gaussian is float16 with maximum 10', () => {
  assert.deepEqual(mirrorCombinations([0, 1, 2]), [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]);
  const g = gaussianMapV2([8, 16, 16]);
  assert.equal(Math.max(...g), 10);
  assert.ok(g.every((v) => v > 0 && toHalf(v) === v));
});

for (const c of [
  { model: 'nnUNetTrainer__nnUNetPlans__2d', expected: 'nnUNetPlans__2d', folds: [0, 1] },
  { model: 'nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres', expected: 'nnUNetResEncUNetMPlans__3d_fullres', folds: [0] },
]) {
  test(`${c.model}: nnUNetPredictor's logits of a preprocessed case, bit for bit but for float16 rounding flips`, async () => {
    const model = loadV2Model(path.join(FIXTURE, 'Dataset999_V2Tiny', c.model));
    try {
      assert.deepEqual(model.folds, c.folds);
      const image = readNpySync(path.join(FIXTURE, 'expected', c.expected, 'preprocessed.npy'));
      const reference = readNpySync(path.join(FIXTURE, 'expected', c.expected, 'sliding_window_logits.npy')).data as Float32Array;
      const ours = await predictPreprocessedV2(model, image.data as Float32Array, image.shape.slice(1));
      assert.equal(ours.length, reference.length);
      let identical = 0;
      let worst = 0;
      reference.forEach((r, i) => {
        if (ours[i] === r) identical++;
        worst = Math.max(worst, Math.abs(ours[i]! - r));
      });
      // Where the network's float32 values differ from PyTorch's by ~1e-6, a float16 rounding of an accumulator
      // (magnitude ~10 x logit) can go the other way: one float16 step of it, divided by the weights, ~5e-4.
      assert.ok(identical >= 0.99 * reference.length, `${identical} of ${reference.length} logits identical`);
      assert.ok(worst <= 1e-3, `largest logit difference ${worst}`);
    } finally {
      model.dispose();
    }
  });
}
