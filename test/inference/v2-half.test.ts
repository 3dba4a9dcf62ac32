/** Bulk float16 rounding (inference/v2/half.ts) equals numpy's float32 → float16 cast (io/npz.ts floatToHalf) everywhere. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { floatToHalf, halfToFloat } from '../../activities/io/npz';
import { roundToHalfInPlace } from '../../activities/inference/v2/half';

test('roundToHalfInPlace equals the one-value float16 cast on random, tie, subnormal and overflow values', () => {
  const values: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e6, Infinity, -Infinity, 2 ** -14, 2 ** -15, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -26, 1e-9];
  // exact ties between two float16 values (normal and subnormal ranges)
  for (let h = 1; h < 0x7bff; h += 97) values.push((halfToFloat(h) + halfToFloat(h + 1)) / 2, -(halfToFloat(h) + halfToFloat(h + 1)) / 2);
  let seed = 1;
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  for (let i = 0; i < 200000; i++) values.push((random() - 0.5) * 2 ** Math.floor(random() * 44 - 28));
  const ours = roundToHalfInPlace(Float32Array.from(values));
  const expected = Float32Array.from(values, (v) => halfToFloat(floatToHalf(v)));
  const differ = [...ours.keys()].filter((i) => !Object.is(ours[i], expected[i]));
  assert.deepEqual(differ.slice(0, 5).map((i) => [values[i], ours[i], expected[i]]), []);
  assert.ok(Number.isNaN(roundToHalfInPlace(Float32Array.of(NaN))[0]));
});
