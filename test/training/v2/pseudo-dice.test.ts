/**
 * The v2 trainer's online pseudo-Dice counts against nnunetv2's own validation_step (get_tp_fp_fn_tn with the ignore
 * mask) on a fixed batch: region outputs (sigmoid > 0.5) and softmax outputs (argmax), ignore label 3. Expected
 * values: scripts/parity/v2-pseudo-dice.py (nnunetv2 2.8.1), the same batch as test/training/region-loss.test.ts.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LabelManager } from '../../../activities/io/label-manager';
import { countRegionOverlap } from '../../../activities/training/trainer';
import { countHard } from '../../../activities/training/v2/trainer';

const [B, H, W] = [2, 4, 5];
const n = B * H * W;
const target = Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % 4);
const logits = (channels: number) => Float32Array.from({ length: n * channels }, (_, i) => Math.sin(0.37 * i + 0.5) * 2);

const EXPECTED = { regions: [[11, 6], [5, 10], [9, 4]], softmax: [[0, 4], [1, 10], [10, 6]] };

const counts = (k: number) => ({ tp: new Float64Array(k), fp: new Float64Array(k), fn: new Float64Array(k) });
const asLists = (c: ReturnType<typeof counts>) => [Array.from(c.tp), Array.from(c.fp), Array.from(c.fn)];

test('region pseudo-Dice counts (sigmoid > 0.5, ignore masked) equal nnunetv2 validation_step', () => {
  const labels = new LabelManager({ labels: { background: 0, a: [1, 2], b: [2], ignore: 3 }, regions_class_order: [1, 2] });
  const c = counts(2);
  countRegionOverlap(logits(2), target, labels, c);
  assert.deepEqual(asLists(c), EXPECTED.regions);
});

test('softmax pseudo-Dice counts (argmax, ignore masked, background dropped) equal nnunetv2 validation_step', () => {
  const x = logits(3);
  const seg = Int32Array.from({ length: n }, (_, v) => [0, 1, 2].reduce((best, c) => (x[v * 3 + c]! > x[v * 3 + best]! ? c : best), 0));
  const c = counts(2);
  countHard(seg, target, 3, c.tp, c.fp, c.fn);
  assert.deepEqual(asLists(c), EXPECTED.softmax);
});
