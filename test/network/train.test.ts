import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { UNetStagePlan } from '../../activities/network/architecture';
import { deepSupervisionTargets, deepSupervisionWeights } from '../../activities/network/deep-supervision';
import { trainStep } from '../../activities/training/train-step';
import { buildUNet } from '../../activities/network/unet';
import { NesterovSgd, lossAndGradients } from '../../activities/training/optimizer';
import { initBackend } from '../../activities/network/backend';
import { NATIVE_BACKEND } from '../helpers/native-backend';
import { deepSupervisionLoss } from '../../activities/training/loss';

before(async () => {
  await tf.setBackend('cpu');
});

/** A learnable fixed batch: a ball (class 1) and a box (class 2) brighter than noisy background. */
function syntheticBatch(batch: number, spatial: number[]): { image: Float32Array; labels: Int32Array } {
  const n = spatial.reduce((a, b) => a * b, 1);
  const image = new Float32Array(batch * n);
  const labels = new Int32Array(batch * n);
  let s = 42;
  const noise = (): number => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.6;
  const dims = spatial.length;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      const c: number[] = [];
      let r = i;
      for (let d = dims - 1; d >= 0; d--) { c[d] = r % spatial[d]!; r = Math.floor(r / spatial[d]!); }
      const centre = spatial.map((m) => m / 2 + (b === 0 ? -1 : 1));
      const dist = Math.hypot(...c.map((v, d) => v - centre[d]!));
      const label = dist < spatial[0]! / 4 ? 1 : c.every((v, d) => v < spatial[d]! / 5) ? 2 : 0;
      labels[b * n + i] = label;
      image[b * n + i] = label + noise();
    }
  }
  return { image, labels };
}

function trainTiny(stage: UNetStagePlan & { patch_size: number[] }, iterations: number): { losses: number[]; msPerIteration: number } {
  const batch = 2;
  const tensorsAtStart = tf.memory().numTensors;
  const net = buildUNet(stage, { inChannels: 1, numClasses: 3, baseFeatures: 4 });
  const opt = new NesterovSgd(net.variables);
  const { image, labels } = syntheticBatch(batch, stage.patch_size);
  const segShape = [batch, ...stage.patch_size];
  const data = tf.tensor(image, [...segShape, 1]);
  const targets = deepSupervisionTargets(labels, segShape, stage.pool_op_kernel_sizes).map((t) => tf.tensor(t.data, t.shape, 'int32'));
  const weights = deepSupervisionWeights(targets.length);
  const losses: number[] = [];
  const tensorsBefore = tf.memory().numTensors;
  const start = performance.now();
  for (let i = 0; i < iterations; i++) losses.push(trainStep(net, opt, { data, targets }, weights, { batchDice: false }).loss);
  const msPerIteration = (performance.now() - start) / iterations;
  assert.equal(tf.memory().numTensors, tensorsBefore, 'a training step leaks tensors');
  data.dispose();
  targets.forEach((t) => t.dispose());
  opt.dispose();
  net.dispose();
  assert.equal(tf.memory().numTensors, tensorsAtStart, 'network or optimizer leaves tensors behind after dispose');
  return { losses, msPerIteration };
}

const falls = (losses: number[]): boolean => {
  const tail = losses.slice(-3).reduce((a, b) => a + b, 0) / 3;
  return tail < losses[0]! - 0.2;
};

test('a tiny 3D U-Net (base 4 features, 16^3 patch) learns a fixed batch in 20 iterations on the cpu backend', () => {
  const stage = { pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]], patch_size: [16, 16, 16] };
  const { losses, msPerIteration } = trainTiny(stage, 20);
  console.log(`tiny 3D: ${msPerIteration.toFixed(0)} ms/iteration (batch 2, 16^3, cpu backend); loss ${losses[0]!.toFixed(3)} -> ${losses.at(-1)!.toFixed(3)}`);
  assert.ok(falls(losses), `loss did not fall: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
});

test('a tiny 2D U-Net (base 4 features, 32^2 patch) learns a fixed batch in 20 iterations on the cpu backend', () => {
  const stage = { pool_op_kernel_sizes: [[2, 2], [2, 2], [2, 2]], conv_kernel_sizes: [[3, 3], [3, 3], [3, 3], [3, 3]], patch_size: [32, 32] };
  const { losses, msPerIteration } = trainTiny(stage, 20);
  console.log(`tiny 2D: ${msPerIteration.toFixed(0)} ms/iteration (batch 2, 32^2, cpu backend); loss ${losses[0]!.toFixed(3)} -> ${losses.at(-1)!.toFixed(3)}`);
  assert.ok(falls(losses), `loss did not fall: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
});

/** Loss and gradients of a tiny network on the active backend. */
function tinyGradients(stage: UNetStagePlan & { patch_size: number[] }): { loss: number; grads: Float32Array[] } {
  const net = buildUNet(stage, { inChannels: 2, numClasses: 3, baseFeatures: 3, seed: 9 });
  const { image, labels } = syntheticBatch(2, stage.patch_size);
  const shape = [2, ...stage.patch_size];
  const data = tf.tensor(Float32Array.from({ length: image.length * 2 }, (_, i) => image[i >> 1]! * (i % 2 ? -1 : 1)), [...shape, 2]);
  const targets = deepSupervisionTargets(labels, shape, stage.pool_op_kernel_sizes).map((t) => tf.tensor(t.data, t.shape, 'int32'));
  const weights = deepSupervisionWeights(targets.length);
  const { loss, grads } = lossAndGradients(() => deepSupervisionLoss(net.apply(data), targets, weights, { batchDice: true }), net.variables);
  const out = grads.map((g) => (g ? Float32Array.from(g.dataSync() as Float32Array) : new Float32Array(0)));
  grads.forEach((g) => g?.dispose());
  data.dispose();
  targets.forEach((t) => t.dispose());
  net.dispose();
  return { loss, grads: out };
}

// The pure-JS backend runs its own forms of conv, concat and instance norm (ops.ts); libtensorflow runs the
// portable ones with TensorFlow's gradient kernels. Equal gradients check both against each other end to end.
// (A finite-difference check of the whole network is not meaningful in float32: leaky-ReLU kinks and
// instance norm over a few voxels make the loss rough at every step size float32 can resolve.)
test('whole-network gradients on the pure-JS backend equal those on libtensorflow (3D anisotropic, 2D)', async (t) => {
  const stages: (UNetStagePlan & { patch_size: number[] })[] = [
    { pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]], patch_size: [4, 8, 8] },
    { pool_op_kernel_sizes: [[2, 2], [2, 1]], conv_kernel_sizes: [[3, 3], [3, 3], [3, 3]], patch_size: [8, 8] },
  ];
  const onCpu = stages.map(tinyGradients);
  try {
    if (!NATIVE_BACKEND) throw new Error('not installed (npm run setup:native)');
    await initBackend({ preference: NATIVE_BACKEND, threads: 1 });
  } catch (err) {
    return t.skip(`libtensorflow backend unavailable: ${(err as Error).message}`);
  }
  try {
    stages.forEach((stage, k) => {
      const native = tinyGradients(stage);
      assert.ok(Math.abs(native.loss - onCpu[k]!.loss) < 1e-5, `loss ${native.loss} vs ${onCpu[k]!.loss}`);
      native.grads.forEach((g, i) => {
        const ref = onCpu[k]!.grads[i]!;
        const scale = Math.max(1e-3, ...Array.from(ref, Math.abs));
        assert.equal(g.length, ref.length);
        g.forEach((v, j) => assert.ok(Math.abs(v - ref[j]!) <= 1e-3 * scale, `stage ${k} parameter ${i} [${j}]: ${v} vs ${ref[j]}`));
      });
    });
  } finally {
    await tf.setBackend('cpu');
  }
});
