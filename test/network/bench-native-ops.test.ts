// The fast forms ops.ts uses on native backends (hand-written gradients, broadcast reduction gradients) give
// the same values and gradients as the composed autodiff forms; a native training step leaks no tensors.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LEAKY_SLOPE } from '../../activities/network/architecture';
import { initBackend } from '../../activities/network/backend';
import { NATIVE_BACKEND } from '../helpers/native-backend';
import { deepSupervisionTargets, deepSupervisionWeights } from '../../activities/network/deep-supervision';
import { biasNormLrelu, instanceNormByMoments, instanceNormWithGradient } from '../../activities/network/ops';
import { trainStep } from '../../activities/training/train-step';
import { buildUNet } from '../../activities/network/unet';
import { NesterovSgd } from '../../activities/training/optimizer';

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what} [${i}]: ${actual[i]} vs ${expected[i]}`);
}

/** Seeded values with a spread of signs and scales (so the leaky-ReLU mask has both sides). */
const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (1 + (i % 5)) + 0.3 * seed);

test('instance norm with the closed-form gradient equals autodiff through moments (values and gradients, 3D and 2D)', async () => {
  await tf.setBackend('cpu');
  for (const shape of [[2, 3, 4, 5, 3], [3, 6, 5, 2]]) {
    const c = shape[shape.length - 1]!;
    const x = tf.tensor(values(shape.reduce((a, b) => a * b, 1), 1), shape);
    const gamma = tf.tensor(values(c, 2));
    const beta = tf.tensor(values(c, 3));
    const probe = tf.tensor(values(x.size, 4), shape);
    const run = (norm: typeof instanceNormByMoments) => tf.tidy(() => {
      const out = norm(x, gamma, beta).dataSync() as Float32Array;
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(norm(a, g, b), probe)))([x, gamma, beta]);
      return { out: Float32Array.from(out), grads: grads.map((t) => Float32Array.from(t.dataSync() as Float32Array)) };
    });
    const ref = run(instanceNormByMoments);
    const got = run(instanceNormWithGradient);
    assertClose(got.out, ref.out, 0, `${shape} forward (same ops, same values)`);
    got.grads.forEach((g, i) => assertClose(g, ref.grads[i]!, 1e-4 * Math.max(1, ...Array.from(ref.grads[i]!, Math.abs)), `${shape} gradient ${i}`));
    tf.dispose([x, gamma, beta, probe]);
  }
});

test('fused bias + instance norm + leaky ReLU equals the separate ops (values and all four gradients)', async () => {
  await tf.setBackend('cpu');
  const shape = [2, 3, 4, 4, 3];
  const y = tf.tensor(values(shape.reduce((a, b) => a * b, 1), 5), shape);
  const [bias, gamma, beta] = [6, 7, 8].map((s) => tf.tensor(values(3, s)));
  const probe = tf.tensor(values(y.size, 9), shape);
  const separate = (a: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => tf.leakyRelu(instanceNormByMoments(tf.add(a, b), g, be), LEAKY_SLOPE);
  const run = (f: typeof separate) => tf.tidy(() => ({
    out: Float32Array.from(f(y, bias!, gamma!, beta!).dataSync() as Float32Array),
    grads: tf.grads((a: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => tf.sum(tf.mul(f(a, b, g, be), probe)))([y, bias!, gamma!, beta!])
      .map((t) => Float32Array.from(t.dataSync() as Float32Array)),
  }));
  const ref = run(separate);
  const got = run(biasNormLrelu);
  assert.ok(ref.out.some((v) => v < 0) && ref.out.some((v) => v > 0), 'both sides of the leaky ReLU are exercised');
  assertClose(got.out, ref.out, 0, 'forward');
  got.grads.forEach((g, i) => assertClose(g, ref.grads[i]!, 1e-4 * Math.max(1, ...Array.from(ref.grads[i]!, Math.abs)), `gradient ${i}`));
  tf.dispose([y, bias!, gamma!, beta!, probe]);
});

test('on libtensorflow: Sum/Mean gradients equal tfjs-core\'s ones-tensor form bit for bit; a U-Net step leaks no tensors', async (t) => {
  try {
    if (!NATIVE_BACKEND) throw new Error('not installed (npm run setup:native)');
    await initBackend({ preference: NATIVE_BACKEND, threads: 1 });
  } catch (err) {
    return t.skip(`libtensorflow backend unavailable: ${(err as Error).message}`);
  }
  try {
    const x = tf.tensor(values(2 * 3 * 4 * 2, 10), [2, 3, 4, 2]);
    for (const axes of [[1, 2], [0, 1, 2], [3]]) {
      const n = axes.reduce((a, i) => a * x.shape[i]!, 1);
      const [dSum, dMean] = [tf.sum, tf.mean].map((reduce) => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.square(reduce(a, axes, false)), 0.5)))(x).dataSync()));
      // tfjs-core's forms: reshape(dy) * ones(x.shape) (and / n for the mean); dy = reduce(x) here.
      const [refSum, refMean] = tf.tidy(() => {
        const keep = (r: tf.Tensor) => tf.mul(r, tf.ones(x.shape));
        return [keep(tf.sum(x, axes, true)).dataSync(), tf.div(keep(tf.mean(x, axes, true)), n).dataSync()];
      });
      assert.deepEqual(Array.from(dSum!), Array.from(refSum!), `sum over ${axes}`);
      assert.deepEqual(Array.from(dMean!), Array.from(refMean!), `mean over ${axes}`);
    }
    x.dispose();

    const stage = { pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]], patch_size: [4, 8, 8] };
    const net = buildUNet(stage, { inChannels: 1, numClasses: 3, baseFeatures: 4 });
    const opt = new NesterovSgd(net.variables);
    const segShape = [2, ...stage.patch_size];
    const labels = Int32Array.from({ length: segShape.reduce((a, b) => a * b, 1) }, (_, i) => (i * 7) % 3);
    const data = tf.tensor(values(labels.length, 12), [...segShape, 1]);
    const targets = deepSupervisionTargets(labels, segShape, stage.pool_op_kernel_sizes).map((s) => tf.tensor(s.data, s.shape, 'int32'));
    const before = tf.memory().numTensors;
    const losses = [0, 1, 2].map(() => trainStep(net, opt, { data, targets }, deepSupervisionWeights(targets.length), { batchDice: false }).loss);
    assert.equal(tf.memory().numTensors, before, 'a native training step leaks tensors');
    assert.ok(losses.every(Number.isFinite));
    tf.dispose([data, ...targets]);
    opt.dispose();
    net.dispose();
  } finally {
    await tf.setBackend('cpu');
  }
});
