/**
 * The tfjs predictor: mirroring TTA flips back correctly (checked against a hand-computed average on a fake
 * position-dependent model), and a real tiny U-Net saved as a trainer checkpoint (model_final_checkpoint.model)
 * loads by name and predicts a raw case end to end into a NIfTI with the image geometry.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildUNet } from '../../activities/network/unet';
import { writeCheckpoint } from '../../activities/training/checkpoint';
import { loadModel, loadUNet, mirrorVariants, networkPatchPredictor } from '../../activities/inference/network-predictor';
import { resolveConfiguration } from '../../activities/planning/configuration';
import { predictFolder } from '../../activities/inference/predict-folder';
import { readSoftmax } from '../../activities/inference/write-prediction';
import { readNifti, writeNifti } from '../../activities/io/nifti';
import type { Plans } from '../../activities/planning/plans';

before(async () => {
  await tf.setBackend('cpu');
});

test('mirror variants are every subset of the axes', () => {
  assert.deepEqual(mirrorVariants([0, 1, 2]).length, 8);
  assert.deepEqual(mirrorVariants([0, 1]), [[], [0], [1], [0, 1]]);
});

test('mirroring TTA averages softmax over flips and flips each back', async () => {
  // fake 2D network: logits [0, x + ramp] with ramp = column index, so flipping changes the answer
  const P = [2, 3];
  const ramp = tf.tensor([0, 1, 2], [1, 1, 3, 1]);
  const fake = { predict: (x: tf.Tensor) => tf.concat([tf.zerosLike(x), tf.add(x, ramp)], -1) };
  const patch = Float32Array.from([0.5, -1, 2, 0, 1, -2]);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const onlyX = await networkPatchPredictor(fake, { patchSize: P, inChannels: 1, mirrorAxes: [1] })(patch, [0, 0]);
  const none = await networkPatchPredictor(fake, { patchSize: P, inChannels: 1, tta: false })(patch, [0, 0]);
  for (let i = 0; i < 6; i++) {
    const col = i % 3;
    assert.ok(Math.abs(none[6 + i] - sig(patch[i] + col)) < 1e-6);
    const expected = (sig(patch[i] + col) + sig(patch[i] + (2 - col))) / 2;
    assert.ok(Math.abs(onlyX[6 + i] - expected) < 1e-6, `voxel ${i}: ${onlyX[6 + i]} vs ${expected}`);
    assert.ok(Math.abs(onlyX[i] + onlyX[6 + i] - 1) < 1e-6);
  }
  // flipping rows too leaves this model's output unchanged (it does not depend on the row)
  const tensorsBefore = tf.memory().numTensors;
  const all = await networkPatchPredictor(fake, { patchSize: P, inChannels: 1 })(patch, [0, 0]);
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(all[i] - onlyX[i]) < 1e-6);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'every mirror pass frees its tensors');
});

test('a tiny real U-Net checkpoint predicts a raw case end to end', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'netpred-'));
  const stage = { patch_size: [4, 8, 8], current_spacing: [2, 1, 1], pool_op_kernel_sizes: [[1, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3]] };
  const plans = {
    plans_kind: '3d', num_stages: 1, num_modalities: 1, num_classes: 2, modalities: { '0': 'MR' }, base_num_features: 4, unet_max_num_features: 320,
    normalization_schemes: { '0': 'nonCT' }, use_mask_for_norm: { '0': false }, transpose_forward: [0, 1, 2], transpose_backward: [0, 1, 2],
    data_identifier: 'nnUNetData_plans_v2.1', plans_per_stage: { '0': stage }, dataset_properties: { intensityproperties: null },
  } as unknown as Plans;
  const net = buildUNet(stage, { inChannels: 1, numClasses: 3, baseFeatures: 4, seed: 7 });
  const modelDir = path.join(root, 'model');
  writeCheckpoint(path.join(modelDir, 'fold_0', 'model_final_checkpoint.model'), {
    meta: { trainer: 'nnUNetTrainerV2', epoch: 0, info: {} } as never,
    weights: net.getWeights(), weightNames: net.architecture.params.map((p) => p.name), weightShapes: net.architecture.params.map((p) => p.shape), momentum: [],
  });
  const expectedWeights = net.getWeights();
  net.dispose();

  const inDir = path.join(root, 'in');
  fs.mkdirSync(inDir);
  const image = Float32Array.from({ length: 5 * 9 * 10 }, (_, i) => ((i * 7919) % 101) / 10);
  const geometry = { spacing: [1, 1, 2] as [number, number, number], origin: [1, 2, 3] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as [number, number, number, number, number, number, number, number, number] };
  await writeNifti(path.join(inDir, 'x_0000.nii.gz'), { data: image, shape: [5, 9, 10], dtype: 'float32', geometry });

  const model = loadModel(modelDir, resolveConfiguration(plans, 'plans', '3d_fullres'), [0], 'model_final_checkpoint');
  try {
    const r = await predictFolder({ inputDir: inDir, outputDir: path.join(root, 'out'), model, saveNpz: true });
    assert.deepEqual(r.predicted, ['x']);
  } finally {
    model.dispose();
  }
  const seg = await readNifti(path.join(root, 'out', 'x.nii.gz'));
  assert.deepEqual(seg.shape, [5, 9, 10]);
  assert.deepEqual(seg.geometry, geometry);
  const { probabilities } = readSoftmax(path.join(root, 'out'), 'x');
  const n = 450;
  for (let i = 0; i < n; i++) {
    const s = probabilities.data[i] + probabilities.data[n + i] + probabilities.data[2 * n + i];
    assert.ok(Math.abs(s - 1) < 1e-3, `probabilities sum to 1 within float16 rounding, the .npz dtype (${s})`);
    const best = [0, 1, 2].reduce((b, k) => (probabilities.data[k * n + i] > probabilities.data[b * n + i] ? k : b), 0);
    assert.equal(seg.data[i], best);
  }
  const loaded = loadUNet(plans, '3d_fullres', 'plans', path.join(modelDir, 'fold_0', 'model_final_checkpoint.model'));
  assert.deepEqual(loaded.getWeights(), expectedWeights, 'weights loaded by name are the saved ones');
  loaded.dispose();
  assert.throws(() => loadModel(modelDir, resolveConfiguration(plans, 'plans', '3d_fullres'), [1], 'model_final_checkpoint'), /fold_1\/model_final_checkpoint\.model: checkpoint missing/);
});

test('region models: a sigmoid per output channel instead of the softmax over channels', async () => {
  const fake = { predict: (x: tf.Tensor) => tf.concat([tf.onesLike(x), tf.mul(x, 2)], -1) };
  const patch = Float32Array.from([0.5, -1, 2, 0, 1, -2]);
  const out = await networkPatchPredictor(fake, { patchSize: [2, 3], inChannels: 1, tta: false, sigmoid: true })(patch, [0, 0]);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(out[i]! - sig(1)) < 1e-6);
    assert.ok(Math.abs(out[6 + i]! - sig(2 * patch[i]!)) < 1e-6);
  }
});
