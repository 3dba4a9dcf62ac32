import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confusionFor, evaluateCase, jointHistogram, labelsPresent, metricsFromCounts } from '../../activities/evaluation/metrics';
import { BadInputError } from '../../activities/common/errors';

const isNaN = (v: number): boolean => Number.isNaN(v);

test('confusion counts and metrics of a crafted two-class case', () => {
  //             0  1  2  3  4  5  6  7  8  9
  const ref = Uint8Array.from([0, 1, 1, 1, 2, 2, 0, 0, 1, 0]);
  const pred = Uint8Array.from([0, 1, 1, 0, 2, 1, 2, 0, 1, 1]);
  const h = jointHistogram(ref, pred);
  assert.deepEqual(confusionFor(h, 1), { tp: 3, fp: 2, fn: 1, tn: 4 });
  assert.deepEqual(confusionFor(h, 2), { tp: 1, fp: 1, fn: 1, tn: 7 });
  assert.deepEqual(confusionFor(h, [1, 2]), { tp: 5, fp: 2, fn: 1, tn: 2 });
  const m = evaluateCase(ref, pred, [1, 2]);
  assert.equal(m['1'].Dice, 6 / 9);
  assert.equal(m['1'].Jaccard, 3 / 6);
  assert.equal(m['1'].Precision, 3 / 5);
  assert.equal(m['1'].Recall, 3 / 4);
  assert.equal(m['1']['Total Positives Reference'], 4);
  assert.equal(m['1']['Total Positives Test'], 5);
  assert.equal(m['1'].Accuracy, 7 / 10);
  assert.equal(m['1']['True Negative Rate'], 4 / 6);
  assert.equal(m['1']['False Positive Rate'], 1 - 4 / 6);
  assert.equal(m['1']['False Omission Rate'], 1 / 5);
  assert.equal(m['1']['Negative Predictive Value'], 1 - 1 / 5);
  assert.equal(m['1']['False Discovery Rate'], 1 - 3 / 5);
  assert.equal(m['1']['False Negative Rate'], 1 - 3 / 4);
  assert.equal(m['2'].Dice, 2 / 4);
  assert.deepEqual([m['2'].TP, m['2'].FP, m['2'].FN, m['2'].TN], [1, 1, 1, 7]);
});

test('empty reference and/or prediction follow nnU-Net (nan_for_nonexisting)', () => {
  // both empty: Dice, Jaccard, Precision, Recall are NaN
  const both = metricsFromCounts({ tp: 0, fp: 0, fn: 0, tn: 10 });
  assert.ok(isNaN(both.Dice) && isNaN(both.Jaccard) && isNaN(both.Precision) && isNaN(both.Recall));
  assert.ok(isNaN(both['False Discovery Rate']) && isNaN(both['False Negative Rate']));
  assert.equal(both['True Negative Rate'], 1);
  assert.equal(both.Accuracy, 1);
  // reference empty, prediction not: Dice 0, Recall NaN, Precision 0
  const refEmpty = metricsFromCounts({ tp: 0, fp: 3, fn: 0, tn: 7 });
  assert.equal(refEmpty.Dice, 0);
  assert.equal(refEmpty.Jaccard, 0);
  assert.equal(refEmpty.Precision, 0);
  assert.ok(isNaN(refEmpty.Recall));
  // prediction empty, reference not: Dice 0, Precision NaN, Recall 0
  const predEmpty = metricsFromCounts({ tp: 0, fp: 0, fn: 4, tn: 6 });
  assert.equal(predEmpty.Dice, 0);
  assert.ok(isNaN(predEmpty.Precision));
  assert.equal(predEmpty.Recall, 0);
  // reference fills the image: TNR/FPR NaN; prediction fills it: FOR/NPV NaN
  const full = metricsFromCounts({ tp: 10, fp: 0, fn: 0, tn: 0 });
  assert.equal(full.Dice, 1);
  assert.ok(isNaN(full['True Negative Rate']) && isNaN(full['False Positive Rate']));
  assert.ok(isNaN(full['False Omission Rate']) && isNaN(full['Negative Predictive Value']));
});

test('a label absent from both volumes scores NaN Dice; a label only in one scores 0', () => {
  const ref = new Uint8Array(27);
  const pred = new Uint8Array(27);
  pred[5] = 3;
  const m = evaluateCase(ref, pred, [1, 3]);
  assert.ok(isNaN(m['1'].Dice));
  assert.equal(m['3'].Dice, 0);
});

test('labels present, large label values and float label arrays', () => {
  const ref = Uint16Array.from([0, 700, 700, 5]);
  const pred = Float32Array.from([0, 700, 5, 5]);
  const h = jointHistogram(ref, pred);
  assert.deepEqual(labelsPresent(h), [0, 5, 700]);
  assert.deepEqual(confusionFor(h, 700), { tp: 1, fp: 0, fn: 1, tn: 2 });
  // many distinct labels force the histogram to grow
  const many = Uint8Array.from({ length: 200 }, (_, i) => i);
  const hm = jointHistogram(many, many);
  assert.equal(hm.labels.length, 200);
  assert.deepEqual(confusionFor(hm, 150), { tp: 1, fp: 0, fn: 0, tn: 199 });
});

test('bad input: shape mismatch, negative or fractional labels', () => {
  assert.throws(() => jointHistogram(new Uint8Array(4), new Uint8Array(5), 'x.nii.gz'), (e: unknown) => e instanceof BadInputError && /x\.nii\.gz/.test(e.message));
  assert.throws(() => jointHistogram(Int16Array.from([0, -1]), new Int16Array(2)), BadInputError);
  assert.throws(() => jointHistogram(new Float32Array(2), Float32Array.from([0, 0.5])), BadInputError);
});

test('matches a per-class brute force on random volumes', () => {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let trial = 0; trial < 5; trial++) {
    const n = 500;
    const ref = Uint8Array.from({ length: n }, () => Math.floor(rand() * 4));
    const pred = Uint8Array.from({ length: n }, () => Math.floor(rand() * 4));
    const h = jointHistogram(ref, pred);
    for (let l = 0; l < 4; l++) {
      let tp = 0, fp = 0, fn = 0, tn = 0;
      for (let i = 0; i < n; i++) {
        const t = pred[i] === l, r = ref[i] === l;
        if (t && r) tp++; else if (t) fp++; else if (r) fn++; else tn++;
      }
      assert.deepEqual(confusionFor(h, l), { tp, fp, fn, tn });
    }
  }
});
