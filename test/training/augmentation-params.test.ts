import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { firstForcedForegroundIndex, getPatchSize, setupAugmentationParams, GENERATOR_SCALE_RANGE } from '../../activities/training/patch-size';

const deg = (d: number) => [(-d * Math.PI) / 180, (d * Math.PI) / 180] as const;

test("get_patch_size matches nnU-Net's examples (docs/augmentation.md, 'The enlarged patch')", () => {
  assert.deepEqual(getPatchSize([40, 56, 40], deg(30), deg(30), deg(30), GENERATOR_SCALE_RANGE), [73, 80, 64]);
  assert.deepEqual(getPatchSize([128, 128, 128], deg(30), deg(30), deg(30), GENERATOR_SCALE_RANGE), [205, 205, 205]);
  assert.deepEqual(getPatchSize([56, 40], deg(180), deg(180), deg(180), GENERATOR_SCALE_RANGE), [65, 65]);
  // No rotation: only the scale enlarges.
  assert.deepEqual(getPatchSize([20, 10], [0, 0], [0, 0], [0, 0], [0.5, 2]), [40, 20]);
});

test('setup_DA_params of nnUNetTrainerV2: 3D, dummy 2D and 2D', () => {
  const p3 = setupAugmentationParams({ patch_size: [40, 56, 40], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2], [1, 2, 1]] });
  assert.deepEqual(p3.generatorPatchSize, [73, 80, 64]);
  assert.equal(p3.dummy2D, false);
  assert.ok(Math.abs(p3.rotation.x[1] - Math.PI / 6) < 1e-12);
  assert.deepEqual(p3.scaling.range, [0.7, 1.4]);
  assert.deepEqual(p3.mirrorAxes, [0, 1, 2]);
  assert.deepEqual(p3.deepSupervisionScales, [[1, 1, 1], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]]);
  assert.deepEqual(p3.lowRes.ignoreAxes, []);

  const pd = setupAugmentationParams({ patch_size: [10, 160, 128], do_dummy_2D_data_aug: true, pool_op_kernel_sizes: [] }, { 0: true, 1: false });
  assert.equal(pd.dummy2D, true);
  assert.ok(Math.abs(pd.rotation.x[1] - Math.PI) < 1e-12);
  // In-plane (160,128) with the 2D rule at 90°: max((128,160),(160,128)) / 0.85.
  assert.deepEqual(pd.generatorPatchSize, [10, 188, 188]);
  assert.deepEqual(pd.lowRes.ignoreAxes, [0]);
  assert.deepEqual(pd.maskChannels, [0]);

  const p2 = setupAugmentationParams({ patch_size: [56, 40], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2]] });
  assert.deepEqual(p2.generatorPatchSize, [65, 65]);
  assert.deepEqual(p2.mirrorAxes, [0, 1]);
  const p2a = setupAugmentationParams({ patch_size: [160, 64], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [] });
  assert.ok(Math.abs(p2a.rotation.x[1] - Math.PI / 12) < 1e-12, 'anisotropic 2D patch rotates ±15°');
});

test('foreground forcing starts at round_half_even(B·0.67)', () => {
  assert.equal(firstForcedForegroundIndex(2), 1);
  assert.equal(firstForcedForegroundIndex(9), 6);
  assert.equal(firstForcedForegroundIndex(12), 8);
  assert.equal(firstForcedForegroundIndex(1), 1);
});
