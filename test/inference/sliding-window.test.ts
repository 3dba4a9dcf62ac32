import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianImportanceMap, gaussianKernel1d, numpySum } from '../../activities/inference/gaussian';
import { cartesian, computeSteps, padImage, paddingForPatch, slidingWindowPredict, unpad } from '../../activities/inference/sliding-window';

test('tile starts equal nnU-Net\'s _compute_steps_for_sliding_window (values computed with numpy)', () => {
  const cases: Array<[number[], number[], number, number[][]]> = [
    [[40, 56, 40], [40, 56, 40], 0.5, [[0], [0], [0]]],
    [[20, 20, 20], [33, 35, 41], 0.5, [[0, 6, 13], [0, 8, 15], [0, 7, 14, 21]]], // 6.5 → 6 and 7.5 → 8: half-even
    [[128, 128, 128], [482, 512, 512], 0.5, [[0, 59, 118, 177, 236, 295, 354], [0, 64, 128, 192, 256, 320, 384], [0, 64, 128, 192, 256, 320, 384]]],
    [[80, 192, 160], [215, 285, 285], 0.5, [[0, 34, 68, 101, 135], [0, 93], [0, 62, 125]]],
    [[56, 40], [103, 77], 0.5, [[0, 24, 47], [0, 18, 37]]],
    [[64, 64, 64], [130, 200, 64], 0.25, [[0, 13, 26, 40, 53, 66], [0, 15, 30, 45, 60, 76, 91, 106, 121, 136], [0]]],
    [[64, 64, 64], [130, 200, 65], 1.0, [[0, 33, 66], [0, 45, 91, 136], [0, 1]]],
    [[5, 7, 9], [17, 29, 31], 0.3, [[0, 2, 3, 4, 6, 8, 9, 10, 12], [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22], [0, 2, 5, 7, 10, 12, 15, 17, 20, 22]]],
  ];
  for (const [patch, image, step, want] of cases) assert.deepEqual(computeSteps(patch, image, step), want, `${patch} ${image} ${step}`);
  assert.throws(() => computeSteps([10], [9], 0.5), /pad/);
  assert.throws(() => computeSteps([10], [20], 0), /step/);
  assert.deepEqual(cartesian([[0, 5], [1], [2, 3]]), [[0, 1, 2], [0, 1, 3], [5, 1, 2], [5, 1, 3]]);
});

test('padding: below = diff//2, above = the rest; unpad(pad(x)) = x', () => {
  const p = paddingForPatch([3, 10, 4], [6, 8, 7]);
  assert.deepEqual(p, { shape: [3, 10, 4], paddedShape: [6, 10, 7], below: [1, 0, 1], above: [2, 0, 2] });
  const img = Float32Array.from({ length: 2 * 3 * 10 * 4 }, (_, i) => i + 1);
  const padded = padImage(img, 2, p);
  assert.equal(padded.length, 2 * 6 * 10 * 7);
  assert.equal(padded[0], 0);
  assert.equal(padded[((0 * 6 + 1) * 10 + 0) * 7 + 1], 1); // first voxel lands at the below offsets
  assert.deepEqual(unpad(padded, 2, p), img);
  let sum = 0;
  for (const v of padded) sum += v;
  assert.equal(sum, (img.length * (img.length + 1)) / 2);
});

test('gaussian: max 1 at P//2, symmetric about P//2, no zeros, float32, nnU-Net\'s formula', () => {
  for (const patch of [[7, 9, 5], [8, 6, 10], [1, 12, 12], [20, 16]]) {
    const g = gaussianImportanceMap(patch);
    const c = patch.map((p) => Math.floor(p / 2));
    const at = (idx: number[]): number => g[idx.reduce((a, v, d) => a * patch[d] + v, 0)];
    assert.equal(at(c), 1);
    assert.equal(Math.max(...g), 1);
    assert.ok(g.every((v) => v > 0));
    for (let d = 0; d < patch.length; d++) {
      for (let off = 1; c[d] - off >= 0 && c[d] + off < patch[d]; off++) {
        const lo = [...c]; lo[d] -= off;
        const hi = [...c]; hi[d] += off;
        assert.equal(at(lo), at(hi), `patch ${patch} axis ${d} offset ${off}`);
      }
    }
    // the product over axes of exp(-(i − P//2)² / (2σ²)), σ = P/8, to float32 rounding
    const idx = patch.map((p) => p - 1);
    const want = patch.reduce((a, p, d) => a * (p === 1 ? 1 : Math.exp(-((idx[d] - c[d]) ** 2) / (2 * (p / 8) ** 2))), 1);
    assert.ok(Math.abs(at(idx) - want) <= 1e-6 * want + 1e-12, `corner of ${patch}: ${at(idx)} vs ${want}`);
  }
});

test('numpy pairwise sum and scipy kernel basics', () => {
  const a = Float64Array.from({ length: 300 }, (_, i) => 1 / (i + 1));
  let naive = 0;
  for (const v of a) naive += v;
  assert.ok(Math.abs(numpySum(a) - naive) < 1e-12);
  const k = gaussianKernel1d(2, 8);
  assert.equal(k.length, 17);
  assert.ok(Math.abs(numpySum(k) - 1) < 1e-15);
  assert.equal(k[0], k[16]);
});

/** A "network" whose output is a known function of the global voxel position (and the input for class 0). */
function positionNet(patch: number[], shapeOffset: number[]) {
  return (input: Float32Array, start: readonly number[]): Float32Array => {
    const [pz, py, px] = patch;
    const n = pz * py * px;
    const out = new Float32Array(3 * n);
    for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) for (let x = 0; x < px; x++) {
      const i = (z * py + y) * px + x;
      out[i] = input[i]; // class 0: the image itself
      out[n + i] = 1; // class 1: constant
      out[2 * n + i] = (start[0] + z - shapeOffset[0]) * 0.25 + (start[2] + x - shapeOffset[2]) * 0.5; // class 2: position
    }
    return out;
  };
}

test('sliding window with a known function reproduces it, borders and overlaps included', async () => {
  const shape = [13, 21, 17];
  const patch = [8, 8, 8];
  const n = shape[0] * shape[1] * shape[2];
  const image = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  let tiles = 0;
  const r = await slidingWindowPredict(image, 1, shape, patch, 3, positionNet(patch, [0, 0, 0]), { onTile: () => tiles++ });
  assert.deepEqual(r.steps, computeSteps(patch, shape, 0.5));
  assert.equal(r.numTiles, 3 * 5 * 4);
  assert.equal(tiles, r.numTiles);
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) {
    const i = (z * shape[1] + y) * shape[2] + x;
    assert.ok(Math.abs(r.probabilities[i] - image[i]) <= 1e-5, `class 0 at ${z},${y},${x}`);
    assert.equal(r.probabilities[n + i], 1);
    const want = z * 0.25 + x * 0.5;
    assert.ok(Math.abs(r.probabilities[2 * n + i] - want) <= 1e-5 * (1 + want), `class 2 at ${z},${y},${x}`);
  }
});

test('an image smaller than the patch is padded, predicted in one tile without Gaussian, and unpadded', async () => {
  const shape = [3, 10, 4];
  const patch = [6, 8, 7];
  const n = shape[0] * shape[1] * shape[2];
  const image = Float32Array.from({ length: n }, (_, i) => i);
  const padding = paddingForPatch(shape, patch);
  const r = await slidingWindowPredict(image, 1, shape, patch, 3, positionNet(padding.paddedShape.map((p, d) => Math.min(p, patch[d])), padding.below));
  assert.equal(r.numTiles, 2); // axis y: 10 > 8 → two tiles, so this one is Gaussian-weighted
  assert.equal(r.probabilities.length, 3 * n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(r.probabilities[i] - image[i]) <= 1e-4 * (1 + image[i]));
  const single = await slidingWindowPredict(image.subarray(0, 3 * 8 * 4), 1, [3, 8, 4], patch, 3, positionNet(patch, [1, 0, 1]), { useGaussian: true });
  assert.equal(single.numTiles, 1);
  assert.deepEqual(single.probabilities.subarray(0, 3 * 8 * 4), image.subarray(0, 3 * 8 * 4)); // weights 1: exact
});

test('2D sliding window (y, x) works the same way', async () => {
  const shape = [30, 19];
  const patch = [16, 16];
  const image = Float32Array.from({ length: 30 * 19 }, (_, i) => (i % 7) - 3);
  const r = await slidingWindowPredict(image, 1, shape, patch, 1, (input) => input.slice());
  for (let i = 0; i < image.length; i++) assert.ok(Math.abs(r.probabilities[i] - image[i]) <= 1e-5);
});
