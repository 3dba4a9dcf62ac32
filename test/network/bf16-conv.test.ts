// bfloat16 convolutions (opt-in mixed precision): forward and gradients match float32 within bfloat16's
// precision, 2D and 3D, strided; a U-Net step with them trains close to float32; without the setting, the
// convs are tfjs's own float32 ones, bit for bit.
import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../activities/network/backend';
import { convBf16, convPrecision, useConvPrecision, whyBf16Slow, whyNoBf16 } from '../../activities/network/bf16-conv';
import { convNd } from '../../activities/network/ops';
import { deepSupervisionTargets, deepSupervisionWeights } from '../../activities/network/deep-supervision';
import { buildUNet } from '../../activities/network/unet';
import { NesterovSgd } from '../../activities/training/optimizer';
import { trainStep } from '../../activities/training/train-step';
import { BadInputError } from '../../activities/common/errors';
import { NATIVE_BACKEND } from '../helpers/native-backend';

const values = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (1 + (i % 5)));

/** Native backend with bfloat16 kernels, or the reason the test skips. */
async function nativeBf16(t: TestContext): Promise<boolean> {
  try {
    if (!NATIVE_BACKEND) throw new Error('not installed (npm run setup:native)');
    await initBackend({ preference: NATIVE_BACKEND, threads: 1 });
  } catch (err) {
    t.skip(`libtensorflow backend unavailable: ${(err as Error).message}`);
    return false;
  }
  const why = whyNoBf16();
  if (why) t.skip(why);
  return !why;
}

/** max |a - b| relative to max |b|. */
function relError(a: tf.Tensor, b: tf.Tensor): number {
  const [x, y] = [a.dataSync(), b.dataSync()];
  let err = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    err = Math.max(err, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return err / scale;
}

test('bfloat16 conv: forward and both gradients close to float32 (max error / max |value| < 5e-2; 0.15 emulated) (2D and 3D, stride 1 same and stride 2 valid)', async (t) => {
  if (!(await nativeBf16(t))) return;
  // oneDNN accumulates in float32 (~2 % error measured); Eigen's emulation (CPUs without AVX-512) rounds its
  // partial sums too: filter gradients, summed over ~1000 positions here, come out ~9 % off.
  const tol = whyBf16Slow() ? 0.15 : 5e-2;
  try {
    const cases: { x: number[]; w: number[]; stride: number[]; pad: 'same' | 'valid' }[] = [
      { x: [2, 6, 8, 10, 3], w: [3, 3, 3, 3, 5], stride: [1, 1, 1], pad: 'same' },
      { x: [2, 7, 9, 9, 3], w: [1, 3, 3, 3, 4], stride: [1, 2, 2], pad: 'valid' },
      { x: [2, 10, 12, 3], w: [3, 3, 3, 5], stride: [1, 1], pad: 'same' },
      { x: [2, 11, 11, 3], w: [3, 3, 3, 4], stride: [2, 2], pad: 'valid' },
    ];
    for (const c of cases) {
      tf.tidy(() => {
        const x = tf.tensor(values(c.x.reduce((a, b) => a * b), 1), c.x);
        const w = tf.tensor(values(c.w.reduce((a, b) => a * b), 2), c.w);
        const f32 = (a: tf.Tensor, k: tf.Tensor): tf.Tensor => (c.stride.length === 3
          ? tf.conv3d(a as tf.Tensor5D, k as tf.Tensor5D, c.stride as [number, number, number], c.pad)
          : tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, c.stride as [number, number], c.pad));
        const bf16 = (a: tf.Tensor, k: tf.Tensor) => convBf16(a, k, c.stride, c.pad);
        const ref = f32(x, w);
        const got = bf16(x, w);
        assert.deepEqual(got.shape, ref.shape);
        assert.equal(got.dtype, 'float32');
        const fwd = relError(got, ref);
        assert.ok(fwd > 0 && fwd < tol, `${JSON.stringify(c)} forward relative error ${fwd}`);
        const probe = tf.tensor(values(ref.size, 3), ref.shape);
        const grads = (conv: typeof f32) => tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(tf.mul(conv(a, k), probe)))([x, w]);
        const [gRef, gGot] = [grads(f32), grads(bf16)];
        gGot.forEach((g, i) => {
          assert.deepEqual(g.shape, gRef[i]!.shape);
          const e = relError(g, gRef[i]!);
          assert.ok(e > 0 && e < tol, `${JSON.stringify(c)} gradient ${i === 0 ? 'x' : 'w'} relative error ${e}`);
        });
      });
    }
  } finally {
    await tf.setBackend('cpu');
  }
});

test('a U-Net step in bfloat16 trains as float32 does (losses over 4 steps within 2e-2) and leaks no tensors', async (t) => {
  if (!(await nativeBf16(t))) return;
  try {
    const stage = { pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]], patch_size: [4, 8, 8] };
    const segShape = [2, ...stage.patch_size];
    const labels = Int32Array.from({ length: segShape.reduce((a, b) => a * b, 1) }, (_, i) => ((i >> 3) * 7) % 3);
    const data = tf.tensor(values(labels.length, 12), [...segShape, 1]);
    const targets = deepSupervisionTargets(labels, segShape, stage.pool_op_kernel_sizes).map((s) => tf.tensor(s.data, s.shape, 'int32'));
    const losses = (precision: 'float32' | 'bfloat16'): number[] => {
      useConvPrecision(precision, { allowEmulated: true });
      tf.randomNormal([1], 0, 1, 'float32', 1).dispose();
      const net = buildUNet(stage, { inChannels: 1, numClasses: 3, baseFeatures: 4 });
      const opt = new NesterovSgd(net.variables);
      const before = tf.memory().numTensors;
      const out = [0, 1, 2, 3].map(() => trainStep(net, opt, { data, targets }, deepSupervisionWeights(targets.length), { batchDice: false }).loss);
      assert.equal(tf.memory().numTensors, before, `a ${precision} training step leaks tensors`);
      opt.dispose();
      net.dispose();
      return out;
    };
    const f32 = losses('float32');
    const bf16 = losses('bfloat16');
    bf16.forEach((l, i) => assert.ok(Math.abs(l - f32[i]!) < 2e-2, `step ${i}: bfloat16 loss ${l} vs float32 ${f32[i]}`));
    assert.ok(bf16[3]! < bf16[0]!, `bfloat16 losses fall: ${bf16.join(', ')}`);
    tf.dispose([data, ...targets]);
  } finally {
    useConvPrecision('float32');
    await tf.setBackend('cpu');
  }
});

test('without the setting, convNd is tfjs\'s float32 conv bit for bit; bfloat16 off the native backend is refused', async () => {
  await tf.setBackend('cpu');
  assert.equal(convPrecision(), 'float32');
  tf.tidy(() => {
    const x = tf.tensor(values(2 * 5 * 6 * 7 * 2, 1), [2, 5, 6, 7, 2]);
    const w = tf.tensor(values(3 * 3 * 3 * 2 * 3, 2), [3, 3, 3, 2, 3]);
    assert.deepEqual(Array.from(convNd(x, w, [1, 1, 1], [1, 1, 1]).dataSync()), Array.from(tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, 'same').dataSync()));
  });
  assert.throws(() => useConvPrecision('bfloat16'), (err: Error) => err instanceof BadInputError && /tfjs-node backend/.test(err.message));
  assert.equal(convPrecision(), 'float32');
  assert.match(whyBf16Slow(new Set(['avx2'])) ?? '', /AVX512_BF16/);
  assert.equal(whyBf16Slow(new Set(['avx512f', 'avx512_bf16'])), undefined);
});
