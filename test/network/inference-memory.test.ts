/**
 * UNet.predict frees each block's intermediates as it goes (inference memory): same logits as the tidy-wrapped
 * forward of apply(), no tensor left behind, and a tensor-memory peak bounded by the skips plus a few
 * activations, where the one-tidy forward holds every intermediate until its end.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../activities/network/backend';
import { NATIVE_BACKEND } from '../helpers/native-backend';
import type { UNetArchitecture, UNetStagePlan } from '../../activities/network/architecture';
import { buildUNet, type UNet } from '../../activities/network/unet';

const NETS: { label: string; stage: UNetStagePlan }[] = [
  { label: '3D anisotropic', stage: { patch_size: [8, 16, 16], pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]] } },
  { label: '2D', stage: { patch_size: [32, 24], pool_op_kernel_sizes: [[2, 2], [2, 2], [2, 2]], conv_kernel_sizes: [[3, 3], [3, 3], [3, 3], [3, 3]] } },
];
const IN_CHANNELS = 2;

function build(stage: UNetStagePlan): UNet {
  // Deep supervision on, so predict also has to skip the auxiliary heads.
  return buildUNet(stage, { inChannels: IN_CHANNELS, numClasses: 3, deepSupervision: true, baseFeatures: 4, maxFeatures: 16, seed: 7 });
}

function input(stage: UNetStagePlan): tf.Tensor {
  return tf.randomNormal([1, ...stage.patch_size!, IN_CHANNELS], 0, 1, 'float32', 3);
}

/** The forward as predict ran it before: apply()'s graph inside one tidy, highest-resolution head. */
const oneTidyForward = (net: UNet, x: tf.Tensor): tf.Tensor => tf.tidy(() => net.apply(x)[0]!);

/**
 * What predict may hold at once on a native backend: the caller's input, the encoder skips, four of the largest
 * activation (a decoder stage's upsampled + skip + their concat + the conv output), and 1 KiB of per-channel
 * statistics.
 */
function peakBound(a: UNetArchitecture, inputBytes: number): number {
  const bytes = (shape: number[] | undefined, channels: number): number => 4 * channels * shape!.reduce((p, v) => p * v, 1);
  const skips = a.encoder.slice(0, -1).reduce((s, st) => s + bytes(st.shape, st.features), 0);
  const largest = Math.max(...[...a.encoder, ...a.decoder].map((st) => bytes(st.shape, st.features)));
  return inputBytes + skips + 4 * largest + 1024;
}

async function peakBytesOf(f: () => tf.Tensor): Promise<{ peak: number; out: tf.Tensor }> {
  let out!: tf.Tensor;
  const start = tf.memory().numBytes;
  const info = await tf.profile(() => (out = f()));
  return { peak: info.peakBytes - start, out };
}

const backends: { name: string; init: () => Promise<unknown> }[] = [{ name: 'cpu', init: () => tf.setBackend('cpu') }];
if (NATIVE_BACKEND) backends.push({ name: NATIVE_BACKEND, init: () => initBackend({ preference: NATIVE_BACKEND, threads: 1 }) });

after(async () => {
  await tf.setBackend('cpu');
});

for (const backend of backends) {
  for (const { label, stage } of NETS) {
    test(`${backend.name} ${label}: predict gives the one-tidy forward's logits bit for bit and leaks nothing`, async () => {
      await backend.init();
      const net = build(stage);
      const x = input(stage);
      const before = tf.memory();
      const got = net.predict(x);
      assert.equal(tf.memory().numTensors, before.numTensors + 1, 'predict leaves only its output');
      const want = oneTidyForward(net, x);
      assert.deepEqual(got.shape, [1, ...stage.patch_size!, 3]);
      assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()));
      assert.ok(!x.isDisposed, 'the caller keeps its input');
      got.dispose();
      want.dispose();
      assert.equal(tf.memory().numTensors, before.numTensors);
      assert.equal(tf.memory().numBytes, before.numBytes);
      x.dispose();
      net.dispose();
    });

    test(`${backend.name} ${label}: predict's tensor-memory peak is a third of the one-tidy forward's${backend.name === 'cpu' ? '' : ', within the skips plus four activations'}`, async () => {
      await backend.init();
      const net = build(stage);
      const x = input(stage);
      const lean = await peakBytesOf(() => net.predict(x));
      const old = await peakBytesOf(() => oneTidyForward(net, x));
      lean.out.dispose();
      old.out.dispose();
      assert.ok(3 * lean.peak < old.peak, `predict peak ${lean.peak} B < one-tidy peak ${old.peak} B / 3`);
      // The pure-JS backend's matmul instance norm holds a few more full-size tensors inside a block.
      if (backend.name !== 'cpu') {
        const bound = peakBound(net.architecture, 4 * x.size);
        assert.ok(lean.peak <= bound, `predict peak ${lean.peak} B <= bound ${bound} B`);
        assert.ok(old.peak > bound, `one-tidy peak ${old.peak} B > bound ${bound} B (the bound tells the two apart)`);
      }
      x.dispose();
      net.dispose();
    });
  }
}

test('predict under a gradient tape falls back to the recorded forward (gradients still flow)', async () => {
  await tf.setBackend('cpu');
  const { stage } = NETS[0]!;
  const net = build(stage);
  const x = input(stage);
  const { value, grads } = tf.variableGrads(() => tf.sum(net.predict(x)) as tf.Scalar, [...net.variables]);
  assert.ok(Number.isFinite(value.dataSync()[0]));
  assert.ok(Object.values(grads).some((g) => g.abs().max().dataSync()[0]! > 0));
  tf.dispose([value, ...Object.values(grads), x]);
  net.dispose();
});
