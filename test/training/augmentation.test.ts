import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { setupAugmentationParams } from '../../activities/training/patch-size';
import { Rng } from '../../activities/training/augmentation/random';
import { centerCrop, embed2d, transformImage, transformSegmentation, spatialTransform, type Channels } from '../../activities/training/augmentation/spatial';
import { brightnessMultiplicative, contrast, gamma, gaussianNoise } from '../../activities/training/augmentation/intensity';
import { gaussianBlur, gaussianFilter, gaussianKernel } from '../../activities/training/augmentation/blur';
import { simulateLowResolution } from '../../activities/training/augmentation/lowres';
import { flipAxis, mirror } from '../../activities/training/augmentation/mirror';
import { applyMask, augmentBatch, augmentSample, validationBatch } from '../../activities/training/augmentation/pipeline';
import { rotationX } from '../../activities/training/patch-size';

const I3 = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

function randomVolume(shape: number[], channels = 1, seed = 1): Channels {
  const rng = Rng.seeded(seed);
  const n = channels * shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => rng.uniform(-1, 3)), channels, shape };
}

function labelVolume(shape: number[], seed = 2): Channels {
  const rng = Rng.seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => rng.randint(-1, 3)), channels: 1, shape };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const at3 = (x: Channels, z: number, y: number, k: number) => x.data[(z * x.shape[1]! + y) * x.shape[2]! + k]!;

test('spatial: identity matrix reproduces the input; no transform is a centre crop at (D-P)//2', () => {
  const v = randomVolume([6, 7, 8], 2);
  assert.deepEqual(transformImage(v, [6, 7, 8], I3, 1).data, v.data);
  assert.ok(maxDiff(transformImage(v, [6, 7, 8], I3, 3).data, v.data) < 1e-5);
  const s = labelVolume([6, 7, 8]);
  assert.deepEqual(transformSegmentation(s, [6, 7, 8], I3).data, s.data);
  const c = centerCrop(v, [4, 4, 4]);
  assert.equal(at3(c, 0, 0, 0), at3(v, 1, 1, 2));
  assert.equal(c.data.length, 2 * 64);
});

test('spatial sampling equals scipy map_coordinates (mode constant) for order 1 and 3', () => {
  // Vectors: v = 3·sin(0.7·arange(210)).reshape(5,6,7); scipy.ndimage.map_coordinates(v, pts.T, order, mode='constant', cval=0).
  const shape = [5, 6, 7];
  const data = Float32Array.from({ length: 210 }, (_, i) => Math.sin(i * 0.7) * 3);
  const pts = [[2.3, 1.7, 3.1], [0, 0, 0], [4, 5, 6], [0.2, 5.9, 0.4], [-0.4, 2, 3], [4.3, 2, 3], [1.5, 2.5, 6.0], [3.9, 0.1, 5.5], [2, -0.01, 2], [1.25, 3.75, 2.5]];
  const expected = {
    1: [1.504903076, 0.0, 2.9303252144, 0.0, 0.0, 0.0, -0.934172556, 1.971992469, 0.0, 0.6896317119],
    3: [2.8326236526, 0.0, 2.9303252144, 0.0, 0.0, 0.0, -2.2212517582, 2.2880048131, 0.0, 1.2363064785],
  };
  const ctr = shape.map((d) => d / 2 - 0.5);
  for (const order of [1, 3] as const) {
    pts.forEach((p, k) => {
      // A [1,1,2] output whose first voxel (centred coordinate -0.5 on the last axis) lands on p.
      const m = [[0, 0, 0], [0, 0, 0], ctr.map((c, d) => (c - p[d]!) / 0.5)];
      const r = transformImage({ data, channels: 1, shape }, [1, 1, 2], m, order);
      assert.ok(Math.abs(r.data[0]! - expected[order][k]!) < 1e-5, `order ${order} point ${p}: ${r.data[0]} vs ${expected[order][k]}`);
    });
  }
});

test('spatial: labels outside −1..255 or not integral (hashed, not tabled) resample like small ones', () => {
  const s = labelVolume([4, 6, 6]);
  const m = rotationX(0.3);
  const small = transformSegmentation(s, [4, 6, 6], m);
  // Increasing maps that keep 0 (what a voxel no label reaches gets): the result maps the same way.
  for (const f of [(v: number) => v * 1000, (v: number) => (v === 0 ? 0 : v + 0.5)]) {
    const mapped = transformSegmentation({ ...s, data: s.data.map(f) }, [4, 6, 6], m);
    assert.deepEqual(mapped.data, small.data.map(f));
  }
});

test('spatial: a 90° rotation about axis 0 is a transpose + flip of the last two axes', () => {
  const v = randomVolume([4, 6, 6]);
  const s = labelVolume([4, 6, 6]);
  const m = rotationX(Math.PI / 2);
  const r = transformImage(v, [4, 6, 6], m, 1);
  const rc = transformImage(v, [4, 6, 6], m, 3);
  const rs = transformSegmentation(s, [4, 6, 6], m);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) for (let k = 0; k < 6; k++) {
    assert.ok(Math.abs(at3(r, i, j, k) - at3(v, i, k, 5 - j)) < 1e-5);
    assert.ok(Math.abs(at3(rc, i, j, k) - at3(v, i, k, 5 - j)) < 1e-4, 'cubic interpolates the samples');
    assert.equal(at3(rs, i, j, k), at3(s, i, k, 5 - j));
  }
  // The 2D path (a [1, y, x] volume) does the same in-plane.
  const v2 = randomVolume([6, 6]);
  const r2 = transformImage(v2, [6, 6], embed2d([[0, -1], [1, 0]]));
  for (let j = 0; j < 6; j++) for (let k = 0; k < 6; k++) assert.ok(Math.abs(r2.data[j * 6 + k]! - v2.data[k * 6 + 5 - j]!) < 1e-5);
});

test('spatial: rotated and scaled segmentations keep integer labels; outside the input is 0 for seg and 0 for image', () => {
  const s = labelVolume([8, 8, 8]);
  const v = randomVolume([8, 8, 8]);
  const m = rotationX(0.3).map((row) => row.map((x) => x * 1.3));
  const r = spatialTransform(v, s, [8, 8, 8], m);
  for (const x of r.seg.data) assert.ok([-1, 0, 1, 2].includes(x), `label ${x}`);
  // Zoomed out by 3: the patch corners sample far outside the volume.
  const far = spatialTransform(v, s, [8, 8, 8], I3.map((row) => row.map((x) => x * 3)));
  assert.equal(far.image.data[0], 0);
  assert.equal(far.seg.data[0], 0);
});

test('intensity transforms are identities at zero strength', () => {
  const v = randomVolume([5, 6, 7], 2);
  const rng = Rng.seeded(5);
  const copy = () => ({ ...v, data: v.data.slice() });
  let x = copy(); gaussianNoise(x, [0, 0], rng); assert.deepEqual(x.data, v.data);
  x = copy(); brightnessMultiplicative(x, [1, 1], rng); assert.deepEqual(x.data, v.data);
  x = copy(); contrast(x, [1, 1], rng); assert.ok(maxDiff(x.data, v.data) < 1e-6);
  x = copy(); gamma(x, [1, 1], false, rng); assert.ok(maxDiff(x.data, v.data) < 1e-5);
  x = copy(); gamma(x, [1, 1], true, rng); assert.ok(maxDiff(x.data, v.data) < 1e-5);
  x = copy(); gaussianBlur(x, [0.1, 0.1], 1, rng); assert.deepEqual(x.data, v.data);
  x = copy(); simulateLowResolution(x, [1, 1], 1, [], rng); assert.ok(maxDiff(x.data, v.data) < 1e-6);
});

test('intensity transforms: value ranges and retained statistics', () => {
  const v = randomVolume([6, 6, 6]);
  const [lo, hi] = [Math.min(...v.data), Math.max(...v.data)];
  const rng = Rng.seeded(9);
  const c = { ...v, data: v.data.slice() };
  contrast(c, [1.25, 1.25], rng);
  assert.ok(Math.min(...c.data) >= lo && Math.max(...c.data) <= hi, 'contrast is clipped to the original range');
  const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;
  const sd = (a: Float32Array) => { const m = mean(a); return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length); };
  for (const invert of [false, true]) {
    const g = { ...v, data: v.data.slice() };
    gamma(g, [1.5, 1.5], invert, rng);
    assert.ok(maxDiff(g.data, v.data) > 1e-3, 'gamma changed the values');
    assert.ok(Math.abs(mean(g.data) - mean(v.data)) < 1e-4 && Math.abs(sd(g.data) - sd(v.data)) < 1e-4, 'mean and std retained');
  }
  const b = { ...v, data: v.data.slice() };
  brightnessMultiplicative(b, [0.75, 0.75], rng);
  assert.ok(maxDiff(b.data, v.data.map((x) => x * 0.75)) < 1e-6);
  const zero = { data: new Float32Array(20000), channels: 1, shape: [20000] };
  gaussianNoise(zero, [0.1, 0.1], rng);
  assert.ok(Math.abs(sd(zero.data) - 0.1) < 0.005, 'noise std = the drawn "variance"');
  const l = { ...v, data: v.data.slice() };
  simulateLowResolution(l, [0.5, 0.5], 1, [], rng);
  assert.ok(Math.min(...l.data) >= lo - 1e-6 && Math.max(...l.data) <= hi + 1e-6);
  assert.ok(maxDiff(l.data, v.data) > 1e-3);
});

test('gaussian blur: scipy kernel, mass preserved with reflect borders', () => {
  const k = gaussianKernel(1);
  assert.equal(k.length, 9);
  assert.ok(Math.abs(k[4]! - 0.3989422804014327) < 1e-4);
  const impulse = new Float32Array(7 * 7 * 7);
  impulse[3 * 49 + 3 * 7 + 3] = 1;
  gaussianFilter(impulse, [7, 7, 7], 0.8);
  assert.ok(Math.abs(impulse.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  assert.ok(Math.abs(impulse[3 * 49 + 3 * 7 + 3]! - gaussianKernel(0.8)[3]! ** 3) < 1e-6);
});

test('gaussian blur equals scipy.ndimage.gaussian_filter (reflect, truncate 4), also with a kernel wider than the axis', () => {
  // v = sin(0.9·arange(120)).reshape(4,5,6); gaussian_filter(v, sigma).ravel()[[0,7,33,64,119]].
  const expected: Record<string, number[]> = {
    '0.7': [0.1731850639, 0.1466336382, -0.311594067, 0.2625599582, 0.0037517514],
    '1.3': [0.1405684692, 0.0927674447, 0.01180603, 0.0815007725, -0.0717357171],
  };
  for (const [sigma, want] of Object.entries(expected)) {
    const v = Float32Array.from({ length: 120 }, (_, i) => Math.sin(0.9 * i));
    gaussianFilter(v, [4, 5, 6], Number(sigma));
    [0, 7, 33, 64, 119].forEach((i, k) => assert.ok(Math.abs(v[i]! - want[k]!) < 1e-6, `σ ${sigma} voxel ${i}: ${v[i]} vs ${want[k]}`));
  }
});

test('mirroring is an involution; image and seg flip together', () => {
  const v = randomVolume([3, 4, 5], 2);
  const x = { ...v, data: v.data.slice() };
  for (const axis of [0, 1, 2]) { flipAxis(x, axis); assert.notDeepEqual(x.data, v.data); flipAxis(x, axis); assert.deepEqual(x.data, v.data); }
  flipAxis(x, 2);
  assert.equal(at3(x, 0, 0, 0), at3(v, 0, 0, 4));
  const img = { data: Float32Array.from({ length: 60 }, (_, i) => i), channels: 1, shape: [3, 4, 5] };
  const seg = { data: Float32Array.from({ length: 60 }, (_, i) => i), channels: 1, shape: [3, 4, 5] };
  mirror(img, seg, [0, 1, 2], Rng.seeded(3));
  assert.deepEqual(img.data, seg.data);
});

test('mask: image zeroed where seg < 0 only for masked channels', () => {
  const img = { data: Float32Array.of(1, 2, 3, 4, 5, 6), channels: 2, shape: [3] };
  const seg = { data: Float32Array.of(-1, 0, 1), channels: 1, shape: [3] };
  applyMask(img, seg, [1]);
  assert.deepEqual([...img.data], [1, 2, 3, 0, 5, 6]);
});

test('pipeline: P\' batch → P batch, labels ≥ 0 integers, deterministic per seed', () => {
  const params = setupAugmentationParams({ patch_size: [8, 12, 10], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2]] });
  const P1 = params.generatorPatchSize;
  const n = P1.reduce((a, b) => a * b, 1);
  const src = randomVolume(P1, 2 * 2);
  const seg = labelVolume([2, ...P1]);
  const batch = { data: src.data, dataShape: [2, 2, ...P1], seg: seg.data.slice(0, 2 * n), segShape: [2, 1, ...P1], keys: ['a', 'b'] };
  for (let i = 0; i < 2 * n; i++) batch.seg[i] = ((i * 7919) % 4) - 1;
  const a = augmentBatch(batch, params, Rng.seeded(11));
  const b = augmentBatch(batch, params, Rng.seeded(11));
  assert.deepEqual(a.dataShape, [2, 2, 8, 12, 10]);
  assert.deepEqual(a.segShape, [2, 1, 8, 12, 10]);
  assert.deepEqual(a.data, b.data);
  assert.ok(a.data.every(Number.isFinite));
  for (const v of a.seg) assert.ok(v === 0 || v === 1 || v === 2, `label ${v}`);
});

test('dummy 2D: spatial transforms never mix slices of the first axis', () => {
  const params = setupAugmentationParams({ patch_size: [3, 10, 10], do_dummy_2D_data_aug: true, pool_op_kernel_sizes: [] });
  const forced = { ...params, rotation: { ...params.rotation, pPerSample: 1 }, scaling: { ...params.scaling, pPerSample: 1 } };
  const [Z, Y, X] = forced.generatorPatchSize as [number, number, number];
  // Slice z holds the value z + 10 everywhere: after any in-plane op each slice keeps its value (or 0 outside).
  const image = { data: Float32Array.from({ length: Z * Y * X }, (_, i) => Math.floor(i / (Y * X)) + 10), channels: 1, shape: [Z, Y, X] };
  const seg = { data: Float32Array.from({ length: Z * Y * X }, (_, i) => Math.floor(i / (Y * X))), channels: 1, shape: [Z, Y, X] };
  const noIntensity = { ...forced, noise: { ...forced.noise, pPerSample: 0 }, blur: { ...forced.blur, pPerSample: 0 }, brightness: { ...forced.brightness, pPerSample: 0 },
    contrast: { ...forced.contrast, pPerSample: 0 }, lowRes: { ...forced.lowRes, pPerSample: 0 }, invertedGamma: { ...forced.invertedGamma, pPerSample: 0 },
    gamma: { ...forced.gamma, pPerSample: 0 }, mirrorAxes: [1, 2] };
  const r = augmentSample(image, seg, noIntensity, Rng.seeded(4));
  assert.deepEqual(r.image.shape, [3, 10, 10]);
  for (let z = 0; z < 3; z++) {
    for (let i = 0; i < 100; i++) {
      const v = r.image.data[z * 100 + i]!;
      assert.ok(v === 0 || Math.abs(v - (z + 10)) < 1e-4 || (v > 0 && v < z + 10), `slice ${z}: ${v}`);
      assert.ok([0, z].includes(r.seg.data[z * 100 + i]!));
    }
  }
});

test('cascade: previous-stage seg becomes one-hot image channels after augmentation and in validation', () => {
  const params = setupAugmentationParams({ patch_size: [6, 8, 8], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [] }, {}, { cascadeLabels: [1, 2] });
  const P1 = params.generatorPatchSize;
  const n = P1.reduce((a, b) => a * b, 1);
  const image = randomVolume(P1, 1);
  const seg = { data: new Float32Array(2 * n), channels: 2, shape: P1 };
  for (let i = 0; i < n; i++) { seg.data[i] = i % 3; seg.data[n + i] = (i >> 2) % 3; }
  const r = augmentSample(image, seg, params, Rng.seeded(8));
  const m = 6 * 8 * 8;
  assert.equal(r.image.channels, 3);
  assert.equal(r.seg.channels, 1);
  assert.equal(r.seg.data.length, m);
  for (let i = 0; i < m; i++) {
    const a = r.image.data[m + i]!, b = r.image.data[2 * m + i]!;
    assert.ok((a === 0 || a === 1) && (b === 0 || b === 1) && a + b <= 1, 'one-hot of labels 1 and 2');
  }
  const batch = { data: Float32Array.of(5, 6), dataShape: [1, 1, 2], seg: Float32Array.of(-1, 1, 2, 0), segShape: [1, 2, 2], keys: ['x'] };
  const v = validationBatch(batch, [1, 2]);
  assert.deepEqual(v.dataShape, [1, 3, 2]);
  assert.deepEqual([...v.data], [5, 6, 0, 0, 1, 0]); // previous stage [2, 0]: label 1 nowhere, label 2 first voxel
  assert.deepEqual([...v.seg], [0, 1]);
});
