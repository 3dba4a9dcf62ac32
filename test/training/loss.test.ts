import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchDiceFor, deepSupervisionLoss, diceCeLoss } from '../../activities/training/loss';
import { deepSupervisionScales, deepSupervisionTargets, deepSupervisionWeights, downsampleSegmentation } from '../../activities/network/deep-supervision';

before(async () => {
  await tf.setBackend('cpu');
});

/** Float64 reference of nnU-Net's DC_and_CE_loss (docs/network.md, 'Loss and optimiser'). Layout [B, V, K]. */
function refLoss(logits: Float64Array, labels: Int32Array, B: number, V: number, K: number, batchDice: boolean): number {
  const p = new Float64Array(logits.length);
  let ce = 0;
  for (let v = 0; v < B * V; v++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[v * K + k]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(logits[v * K + k]! - max);
    for (let k = 0; k < K; k++) p[v * K + k] = Math.exp(logits[v * K + k]! - max) / z;
    ce -= logits[v * K + labels[v]!]! - max - Math.log(z);
  }
  ce /= B * V;
  const groups = batchDice ? 1 : B;
  let dcSum = 0;
  for (let g = 0; g < groups; g++) {
    for (let k = 1; k < K; k++) {
      let tp = 0, fp = 0, fn = 0;
      for (let b = batchDice ? 0 : g; b < (batchDice ? B : g + 1); b++) {
        for (let v = 0; v < V; v++) {
          const y = labels[b * V + v] === k ? 1 : 0;
          const q = p[(b * V + v) * K + k]!;
          tp += q * y; fp += q * (1 - y); fn += (1 - q) * y;
        }
      }
      dcSum += (2 * tp + 1e-5) / (2 * tp + fp + fn + 1e-5 + 1e-8);
    }
  }
  return ce - dcSum / (groups * (K - 1));
}

function fixture(B: number, V: number, K: number, seed: number): { logits: Float64Array; labels: Int32Array } {
  let s = seed;
  const next = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  const logits = Float64Array.from({ length: B * V * K }, () => 3 * (next() - 0.5));
  // class 2 absent from sample 0: exercises the smoothing term
  const labels = Int32Array.from({ length: B * V }, (_, i) => Math.floor(next() * (i < V ? 2 : K)));
  return { logits, labels };
}

for (const batchDice of [false, true]) {
  test(`Dice+CE value and gradient match a float64 reference and finite differences (batchDice=${batchDice})`, () => {
    const [B, Y, X, K] = [2, 3, 4, 3];
    const V = Y * X;
    const { logits, labels } = fixture(B, V, K, batchDice ? 7 : 11);
    const lossOf = (l: tf.Tensor): tf.Scalar => diceCeLoss(l, tf.tensor(labels, [B, Y, X], 'int32'), { batchDice });
    const x = tf.tensor(Float32Array.from(logits), [B, Y, X, K]);
    const value = lossOf(x).dataSync()[0]!;
    const ref = refLoss(Float64Array.from(Float32Array.from(logits)), labels, B, V, K, batchDice);
    assert.ok(Math.abs(value - ref) < 1e-5, `value ${value} vs reference ${ref}`);
    const grad = tf.grad((l: tf.Tensor) => lossOf(l))(x).dataSync();
    const h = 1e-5;
    for (let i = 0; i < logits.length; i++) {
      const plus = Float64Array.from(logits); plus[i]! += h;
      const minus = Float64Array.from(logits); minus[i]! -= h;
      const numeric = (refLoss(plus, labels, B, V, K, batchDice) - refLoss(minus, labels, B, V, K, batchDice)) / (2 * h);
      assert.ok(Math.abs(grad[i]! - numeric) < 2e-5 + 1e-3 * Math.abs(numeric), `d/dlogit[${i}]: ${grad[i]} vs ${numeric}`);
    }
    x.dispose();
  });
}

test('deep supervision: scales, weights and weighted sum', () => {
  assert.deepEqual(deepSupervisionScales([[1, 2, 2], [2, 2, 2], [2, 2, 2]]), [[1, 1, 1], [1, 0.5, 0.5], [0.5, 0.25, 0.25]]);
  const w5 = deepSupervisionWeights(5);
  [0.5333, 0.2667, 0.1333, 0.0667, 0].forEach((v, i) => assert.ok(Math.abs(w5[i]! - v) < 1e-4));
  assert.deepEqual(deepSupervisionWeights(1), [1]);
  assert.deepEqual(deepSupervisionWeights(2), [1, 0]);
  tf.tidy(() => {
    const a = tf.randomNormal([1, 4, 4, 3], 0, 1, 'float32', 1);
    const b = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 2);
    const ta = tf.tensor([0, 1, 2, 1, 0, 0, 2, 2, 1, 1, 0, 0, 2, 1, 0, 1], [1, 4, 4], 'int32');
    const tb = tf.tensor([0, 1, 2, 1], [1, 2, 2], 'int32');
    const total = deepSupervisionLoss([a, b], [ta, tb], [0.75, 0.25], { batchDice: false }).dataSync()[0]!;
    const parts = 0.75 * diceCeLoss(a, ta, { batchDice: false }).dataSync()[0]! + 0.25 * diceCeLoss(b, tb, { batchDice: false }).dataSync()[0]!;
    assert.ok(Math.abs(total - parts) < 1e-6);
  });
});

test('deep-supervision targets: nearest-neighbour resize as scipy zoom(order 0, grid mode) gives', () => {
  // Reference outputs printed by scipy.ndimage.zoom(a, out/in, order=0, mode='nearest', grid_mode=True).
  const a3 = Int32Array.from({ length: 5 * 7 * 9 }, (_, i) => i);
  const r3 = downsampleSegmentation(a3, [1, 5, 7, 9], [0.5, 0.5, 0.5]); // round(2.5, 3.5, 4.5) = 2, 4, 4
  assert.deepEqual(r3.shape, [1, 2, 4, 4]);
  assert.deepEqual(Array.from(r3.data), [64, 66, 68, 70, 82, 84, 86, 88, 100, 102, 104, 106, 118, 120, 122, 124, 190, 192, 194, 196, 208, 210, 212, 214, 226, 228, 230, 232, 244, 246, 248, 250]);
  const a2 = Int32Array.from({ length: 2 * 12 * 10 }, (_, i) => i % 120);
  const r2 = downsampleSegmentation(a2, [2, 12, 10], [0.25, 0.5]);
  assert.deepEqual(r2.shape, [2, 3, 5]);
  const expected = [21, 23, 25, 27, 29, 61, 63, 65, 67, 69, 101, 103, 105, 107, 109];
  assert.deepEqual(Array.from(r2.data), [...expected, ...expected]);
  const seg = new Uint8Array(2 * 8 * 8 * 8);
  const targets = deepSupervisionTargets(seg, [2, 8, 8, 8], [[2, 2, 2], [1, 2, 2], [2, 2, 2]]);
  assert.deepEqual(targets.map((t) => t.shape), [[2, 8, 8, 8], [2, 4, 4, 4], [2, 4, 2, 2]]);
  assert.ok(targets[1]!.data instanceof Uint8Array);
});

test('batch Dice per configuration', () => {
  assert.equal(batchDiceFor('2d', false), true);
  assert.equal(batchDiceFor('3d_fullres', false), false);
  assert.equal(batchDiceFor('3d_fullres', true), true);
  assert.equal(batchDiceFor('3d_cascade_fullres', true), true);
  assert.equal(batchDiceFor('3d_lowres', true), false);
});
