import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { describeUNet } from '../../activities/network/architecture';
import type { UNetStagePlan } from '../../activities/network/architecture';
import { concatChannelsPureJs, convNd, convOfConcat, convOnPureJs, convPortable, instanceNormByMatmul, instanceNormByMoments, upsampleTransposed } from '../../activities/network/ops';
import { buildUNet } from '../../activities/network/unet';
import { BadInputError } from '../../activities/common/errors';
import { readVector } from '../helpers/vectors';


interface PlannedStage extends UNetStagePlan { generic_unet_num_parameters: number }
interface PlannerVector { kind: string; fingerprint: { modalities: Record<string, string>; all_classes: number[] }; plans: Record<'3d' | '2d', { stages: PlannedStage[] }> }

function plannedStages(): { label: string; stage: PlannedStage; inChannels: number; numClasses: number }[] {
  const vectors = readVector<{ vectors: PlannerVector[] }>('planner_nnunet_v1.json').vectors;
  return vectors.flatMap((v, i) => (['3d', '2d'] as const).flatMap((k) => v.plans[k].stages.map((stage, s) => ({
    label: `${i}:${v.kind}/${k}/stage${s}`,
    stage,
    inChannels: Object.keys(v.fingerprint.modalities).length,
    numClasses: v.fingerprint.all_classes.length + 1,
  }))));
}

before(async () => {
  await tf.setBackend('cpu');
});

test('parameter count equals nnU-Net Generic_UNet for every planned stage', () => {
  const stages = plannedStages();
  assert.ok(stages.length >= 30);
  for (const s of stages) {
    const arch = describeUNet(s.stage, { inChannels: s.inChannels, numClasses: s.numClasses });
    assert.equal(arch.numParameters, s.stage.generic_unet_num_parameters, s.label);
  }
});

test('real networks built from planned stages hold exactly that many parameters', () => {
  // The smallest isotropic 3D and 2D plans and the smallest anisotropic 3D plan (kernels 1x3x3, pools 1x2x2);
  // the large ones are checked by the shape-only count above.
  const stages = plannedStages();
  const chosen = [
    ...stages.filter((p) => p.stage.generic_unet_num_parameters < 6e6).slice(0, 2),
    stages.filter((p) => p.stage.conv_kernel_sizes[0]!.length === 3 && p.stage.conv_kernel_sizes[0]![0] === 1).sort((a, b) => a.stage.generic_unet_num_parameters - b.stage.generic_unet_num_parameters)[0]!,
  ];
  for (const s of chosen) {
    const net = buildUNet(s.stage, { inChannels: s.inChannels, numClasses: s.numClasses });
    try {
      const real = net.variables.reduce((n, v) => n + v.size, 0);
      assert.equal(real, s.stage.generic_unet_num_parameters, s.label);
      assert.equal(new Set(net.architecture.params.map((p) => p.name)).size, net.variables.length);
      assert.match(net.summary(), new RegExp(`parameters: ${real}`));
    } finally {
      net.dispose();
    }
  }
});

test('He init: conv weights have std sqrt(2/(1+0.01^2)/fan_in), biases 0, norms 1/0', () => {
  const net = buildUNet({ pool_op_kernel_sizes: [[2, 2, 2]], conv_kernel_sizes: [[3, 3, 3], [3, 3, 3]] }, { inChannels: 1, numClasses: 2 });
  try {
    const w = net.getWeights();
    const names = net.architecture.params.map((p) => p.name);
    const big = w[names.indexOf('conv_blocks_context.1.1.blocks.0.conv.weight')]!; // 27*64 fan-in, 27*64*64 values
    const std = Math.sqrt(big.reduce((a, v) => a + v * v, 0) / big.length);
    assert.ok(Math.abs(std / (Math.sqrt(2 / 1.0001) / Math.sqrt(27 * 64)) - 1) < 0.02, `std ${std}`);
    assert.ok(w[names.indexOf('conv_blocks_context.0.blocks.0.conv.bias')]!.every((v) => v === 0));
    assert.ok(w[names.indexOf('conv_blocks_context.0.blocks.0.instnorm.weight')]!.every((v) => v === 1));
  } finally {
    net.dispose();
  }
});

test('tiny 3D and 2D networks: output shapes per deep-supervision level, predict = first output', () => {
  const cases: { stage: UNetStagePlan; input: number[]; expected: number[][] }[] = [
    {
      stage: { pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]], patch_size: [4, 16, 12] },
      input: [2, 4, 16, 12, 2],
      expected: [[2, 4, 16, 12, 3], [2, 4, 8, 6, 3]],
    },
    {
      stage: { pool_op_kernel_sizes: [[2, 2], [2, 1], [2, 2]], conv_kernel_sizes: [[3, 3], [3, 3], [3, 3], [3, 3]], patch_size: [16, 8] },
      input: [1, 16, 8, 2],
      expected: [[1, 16, 8, 3], [1, 8, 4, 3], [1, 4, 4, 3]],
    },
  ];
  for (const c of cases) {
    const net = buildUNet(c.stage, { inChannels: 2, numClasses: 3, baseFeatures: 4 });
    try {
      tf.tidy(() => {
        const x = tf.randomNormal(c.input, 0, 1, 'float32', 1);
        const outs = net.apply(x);
        assert.deepEqual(outs.map((o) => o.shape), c.expected);
        const p = net.predict(x);
        assert.deepEqual(Array.from(p.dataSync()), Array.from(outs[0]!.dataSync()));
      });
      assert.match(net.summary(), /bottleneck/);
    } finally {
      net.dispose();
    }
  }
});

test('weights round-trip through getWeights/setWeights; bad sizes are refused', () => {
  const stage = { pool_op_kernel_sizes: [[2, 2]], conv_kernel_sizes: [[3, 3], [3, 3]] };
  const a = buildUNet(stage, { inChannels: 1, numClasses: 2, baseFeatures: 4, seed: 1 });
  const b = buildUNet(stage, { inChannels: 1, numClasses: 2, baseFeatures: 4, seed: 2 });
  try {
    b.setWeights(a.getWeights());
    tf.tidy(() => {
      const x = tf.randomNormal([1, 8, 8, 1], 0, 1, 'float32', 3);
      assert.deepEqual(Array.from(b.predict(x).dataSync()), Array.from(a.predict(x).dataSync()));
    });
    assert.throws(() => b.setWeights(a.getWeights().slice(1)));
    b.reinitializeConvs(5);
    assert.notDeepEqual(b.getWeights()[0], a.getWeights()[0]);
    assert.deepEqual(b.getWeights()[2], a.getWeights()[2]); // instance-norm scale untouched
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('bad plans are clear BadInputErrors', () => {
  assert.throws(() => describeUNet({ pool_op_kernel_sizes: [[2, 2]], conv_kernel_sizes: [[3, 3]] }, { inChannels: 1, numClasses: 2 }), BadInputError);
  assert.throws(() => describeUNet({ pool_op_kernel_sizes: [[2, 2]], conv_kernel_sizes: [[3, 3], [3, 3]], patch_size: [7, 8] }, { inChannels: 1, numClasses: 2 }), /divisible/);
  assert.throws(() => describeUNet({ pool_op_kernel_sizes: [[2, 2]], conv_kernel_sizes: [[5, 5], [3, 3]] }, { inChannels: 1, numClasses: 2 }), BadInputError);
});

// ---- the ops against plain-loop references with PyTorch's semantics (3D, channels-last) ----

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
}

/** PyTorch Conv3d (symmetric zero padding) on [D,H,W,Cin] with weight [kd,kh,kw,Cin,Cout]. */
function refConv3d(x: Float32Array, [D, H, W, C]: number[], w: Float32Array, [kd, kh, kw, , O]: number[], s: number[], p: number[]): { out: Float64Array; shape: number[] } {
  const oD = Math.floor((D! + 2 * p[0]! - kd!) / s[0]!) + 1;
  const oH = Math.floor((H! + 2 * p[1]! - kh!) / s[1]!) + 1;
  const oW = Math.floor((W! + 2 * p[2]! - kw!) / s[2]!) + 1;
  const out = new Float64Array(oD * oH * oW * O!);
  for (let z = 0; z < oD; z++) for (let y = 0; y < oH; y++) for (let xx = 0; xx < oW; xx++) for (let o = 0; o < O!; o++) {
    let acc = 0;
    for (let a = 0; a < kd!; a++) for (let b = 0; b < kh!; b++) for (let c = 0; c < kw!; c++) {
      const iz = z * s[0]! - p[0]! + a, iy = y * s[1]! - p[1]! + b, ix = xx * s[2]! - p[2]! + c;
      if (iz < 0 || iy < 0 || ix < 0 || iz >= D! || iy >= H! || ix >= W!) continue;
      for (let ci = 0; ci < C!; ci++) acc += x[((iz * H! + iy) * W! + ix) * C! + ci]! * w[(((a * kh! + b) * kw! + c) * C! + ci) * O! + o]!;
    }
    out[((z * oH + y) * oW + xx) * O! + o] = acc;
  }
  return { out, shape: [oD, oH, oW, O!] };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

test('strided and unstrided convs pad like PyTorch (portable and pure-JS forms, values and gradients)', () => {
  const xs = [5, 6, 4, 2];
  const x = rand(5 * 6 * 4 * 2, 7);
  for (const { k, s, p } of [{ k: [3, 3, 3], s: [2, 2, 2], p: [1, 1, 1] }, { k: [1, 3, 3], s: [1, 2, 2], p: [0, 1, 1] }, { k: [3, 3, 3], s: [1, 1, 1], p: [1, 1, 1] }, { k: [1, 3, 3], s: [2, 1, 2], p: [0, 1, 1] }, { k: [3, 1, 3], s: [1, 1, 1], p: [1, 0, 1] }]) {
    const ws = [...k, 2, 3];
    const w = rand(ws.reduce((a, b) => a * b, 1), 11);
    const ref = refConv3d(x, xs, w, ws, s, p);
    const grads: Float32Array[][] = [];
    for (const conv of [convPortable, (a: tf.Tensor, b: tf.Tensor) => convOnPureJs(a, b, s)]) {
      tf.tidy(() => {
        const got = conv(tf.tensor(x, [1, ...xs]), tf.tensor(w, ws), s, p);
        assert.deepEqual(got.shape, [1, ...ref.shape]);
        assertClose(got.dataSync(), ref.out, 1e-5);
        const probe = tf.tensor(rand(got.size, 5), got.shape);
        grads.push(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b, s, p), probe)))([tf.tensor(x, [1, ...xs]), tf.tensor(w, ws)]).map((g) => g.dataSync() as Float32Array));
      });
    }
    grads[0]!.forEach((g, i) => assertClose(g, grads[1]![i]!, 1e-4));
  }
});

test('2D convs: pure-JS form (via conv3d) equals conv2d with PyTorch padding', () => {
  const x = tf.tensor(rand(2 * 6 * 5 * 3, 1), [2, 6, 5, 3]);
  const w = tf.tensor(rand(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]);
  for (const s of [[1, 1], [2, 2], [2, 1]]) {
    tf.tidy(() => {
      const ref = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s as [number, number], [[0, 0], [1, 1], [1, 1], [0, 0]]);
      assertClose(convOnPureJs(x, w, s).dataSync(), ref.dataSync(), 1e-5);
      assertClose(convPortable(x, w, s, [1, 1]).dataSync(), ref.dataSync(), 1e-5);
      assertClose(convNd(x, w, s, [1, 1]).dataSync(), ref.dataSync(), 1e-5);
    });
  }
  x.dispose();
  w.dispose();
});

test('conv of a channel concat equals the conv of the concatenated tensor; the pure-JS concat splits its gradient', () => {
  tf.tidy(() => {
    const a = tf.tensor(rand(1 * 4 * 4 * 4 * 2, 3), [1, 4, 4, 4, 2]);
    const b = tf.tensor(rand(1 * 4 * 4 * 4 * 3, 4), [1, 4, 4, 4, 3]);
    const w = tf.tensor(rand(27 * 5 * 2, 6), [3, 3, 3, 5, 2]);
    assertClose(convOfConcat([a, b], w, [1, 1, 1], [1, 1, 1]).dataSync(), convPortable(tf.concat([a, b], -1), w, [1, 1, 1], [1, 1, 1]).dataSync(), 1e-5);
    const probe = tf.tensor(rand(4 * 4 * 4 * 5, 8), [1, 4, 4, 4, 5]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(concatChannelsPureJs(x, y), probe)))([a, b]);
    const [ea, eb] = tf.split(probe, [2, 3], -1);
    assert.deepEqual(Array.from(ga!.dataSync()), Array.from(ea!.dataSync()));
    assert.deepEqual(Array.from(gb!.dataSync()), Array.from(eb!.dataSync()));
  });
});

test('transposed conv (kernel = stride) matches PyTorch ConvTranspose3d', () => {
  const [D, H, W, C, O] = [2, 3, 2, 3, 2];
  const k = [1, 2, 2];
  const x = rand(D * H * W * C, 3);
  const w = rand(C * k[0]! * k[1]! * k[2]! * O, 5); // [C, kd, kh, kw, O]
  const ref = new Float64Array(D * k[0]! * H * k[1]! * W * k[2]! * O);
  const [oH, oW] = [H * k[1]!, W * k[2]!];
  for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++)
    for (let a = 0; a < k[0]!; a++) for (let b = 0; b < k[1]!; b++) for (let c = 0; c < k[2]!; c++) for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let ci = 0; ci < C; ci++) acc += x[((z * H + y) * W + xx) * C + ci]! * w[(((ci * k[0]! + a) * k[1]! + b) * k[2]! + c) * O + o]!;
      ref[(((z * k[0]! + a) * oH + y * k[1]! + b) * oW + xx * k[2]! + c) * O + o] = acc;
    }
  const got = tf.tidy(() => upsampleTransposed(tf.tensor(x, [1, D, H, W, C]), tf.tensor(w, [C, ...k, O])));
  assert.deepEqual(got.shape, [1, D * k[0]!, oH, oW, O]);
  assertClose(got.dataSync(), ref, 1e-5);
  got.dispose();
});

test('instance norm normalises each sample and channel over space (biased variance, eps 1e-5), both forms', () => {
  const x = rand(2 * 3 * 4 * 2, 9);
  for (const norm of [instanceNormByMoments, instanceNormByMatmul]) {
    const got = tf.tidy(() => norm(tf.tensor(x, [2, 3, 4, 2]), tf.tensor([2, 1]), tf.tensor([0.5, 0])).dataSync());
    for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) {
      const vals: number[] = [];
      for (let i = 0; i < 12; i++) vals.push(x[(b * 12 + i) * 2 + c]!);
      const mean = vals.reduce((a, v) => a + v, 0) / 12;
      const variance = vals.reduce((a, v) => a + (v - mean) ** 2, 0) / 12;
      for (let i = 0; i < 12; i++) {
        const expected = ((vals[i]! - mean) / Math.sqrt(variance + 1e-5)) * (c === 0 ? 2 : 1) + (c === 0 ? 0.5 : 0);
        assert.ok(Math.abs(got[(b * 12 + i) * 2 + c]! - expected) < 1e-4);
      }
    }
  }
  // gradients of the two forms agree
  const probe = tf.tensor(rand(48, 13), [2, 3, 4, 2]);
  const [g1, g2] = [instanceNormByMoments, instanceNormByMatmul].map((norm) => tf.tidy(() => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(norm(a, g, b), probe)))([tf.tensor(x, [2, 3, 4, 2]), tf.tensor([2, 1]), tf.tensor([0.5, 0])]).map((t) => t.dataSync() as Float32Array)));
  g1!.forEach((g, i) => assertClose(g, g2![i]!, 1e-4));
  probe.dispose();
});
