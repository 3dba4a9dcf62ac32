/** numpy semantics of activities/common/numeric.ts; expected values printed by numpy 2.4 (bit-exact). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { argmaxLastTie, mean, median, percentile, roundHalfEven, std } from '../../activities/common/numeric';

test('roundHalfEven is Python/numpy rounding', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 215.5, 2.4999].map(roundHalfEven).map((x) => x + 0), [0, 2, 2, 0, -2, 216, 2]);
});

test('percentile / median / mean / std match numpy bit for bit', () => {
  const a = [3.1, 0.2, 7.7, 1.5, 9.9, 2.25, 4.0];
  assert.equal(percentile(a, 10), 0.9800000000000001);
  assert.equal(percentile(a, 99.5), 9.834);
  assert.equal(percentile(a, 0.5), 0.23900000000000002);
  assert.equal(median(a), 3.1);
  assert.equal(median(a.slice(0, 6)), 2.675);
  assert.equal(std(a), 3.229377269849469);
  assert.equal(mean(a), 4.0928571428571425);
  const r = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 7 - 50);
  assert.equal(std(r), 41.2392843224585);
  assert.equal(mean(r), 21.357142857142854);
  assert.equal(percentile(r, 99.5), 92.00071428571428);
  assert.equal(percentile(r, 0.5), -49.28642857142857);
  assert.equal(median(r), 21.35714285714286);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('argmaxLastTie resolves ties to the last index like np.argsort(...)[-1]', () => {
  assert.equal(argmaxLastTie([1, 3, 3]), 2);
  assert.equal(argmaxLastTie([3, 1, 2]), 0);
});
