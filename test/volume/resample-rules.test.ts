/** Resampling properties that hold analytically, and nnU-Net's separate-z decision.
 * See docs/preprocessing.md, 'Resampling'.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { resampleChannel, resampledShape, resizeData, separateZAxis, type Shape3 } from '../../activities/volume/resample';

function field(shape: Shape3, f: (z: number, y: number, x: number) => number): Float64Array {
  const a = new Float64Array(shape[0] * shape[1] * shape[2]);
  let i = 0;
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) a[i++] = f(z, y, x);
  return a;
}

test('a constant field stays constant (cubic, linear, separate-z)', () => {
  const c = field([5, 6, 7], () => 3.25);
  for (const out of [resizeData(c, [5, 6, 7], [9, 4, 11], 3), resizeData(c, [5, 6, 7], [9, 4, 11], 1),
    resampleChannel(c, [5, 6, 7], [9, 4, 11], { isSeg: false, axis: 0 })]) {
    for (const v of out) assert.ok(Math.abs(v - 3.25) < 1e-12);
  }
});

test('linear interpolation reproduces a ramp exactly inside the grid; cubic reproduces it away from the edges', () => {
  const n = 32;
  const ramp = field([1, 1, n], (_z, _y, x) => 2 * x + 1);
  const m = 40;
  const lin = resizeData(ramp, [1, 1, n], [1, 1, m], 1);
  const cub = resizeData(ramp, [1, 1, n], [1, 1, m], 3);
  for (let k = 0; k < m; k++) {
    const x = (k + 0.5) * (n / m) - 0.5;
    if (x >= 0 && x <= n - 1) assert.ok(Math.abs(lin[k]! - (2 * x + 1)) < 1e-12, `linear at ${x}`);
    if (x >= 8 && x <= n - 9) assert.ok(Math.abs(cub[k]! - (2 * x + 1)) < 1e-4, `cubic at ${x}: ${cub[k]}`);
  }
});

test('downsample then upsample a smooth field stays close to it', () => {
  const shape: Shape3 = [24, 24, 24];
  const f = field(shape, (z, y, x) => Math.sin(z / 5) + Math.cos(y / 6) * Math.sin(x / 7));
  const back = resizeData(resizeData(f, shape, [16, 16, 16], 3), [16, 16, 16], shape, 3);
  let maxErr = 0;
  let i = 0;
  for (let z = 0; z < 24; z++) for (let y = 0; y < 24; y++) for (let x = 0; x < 24; x++, i++) {
    const inner = [z, y, x].every((c) => c >= 3 && c < 21);
    if (inner) maxErr = Math.max(maxErr, Math.abs(back[i]! - f[i]!));
  }
  assert.ok(maxErr < 0.01, `round trip error ${maxErr} (edge-replicated borders excluded)`);
});

test('separate-z is chosen for anisotropy > 3 along a single axis, never for tied low-resolution axes', () => {
  assert.equal(separateZAxis([5, 0.8, 0.8], [1, 1, 1]), 0);
  assert.equal(separateZAxis([1, 1, 1], [0.7, 0.7, 3]), 2);
  assert.equal(separateZAxis([2, 1, 1], [1, 1, 1]), undefined);
  assert.equal(separateZAxis([0.24, 1.25, 1.25], [1, 1, 1]), undefined);
  assert.deepEqual(resampledShape([10, 21, 5], [1, 0.5, 1], [1, 1, 1]), [10, 10, 5]); // 10.5 -> 10 (half-even)
});

test('segmentations keep their labels and type; untouched when the shape already fits', () => {
  const seg = Int16Array.from(field([4, 6, 6], (z, y, x) => (x < 3 ? 0 : y < 3 ? 1 : 2)));
  const up = resampleChannel(seg, [4, 6, 6], [8, 12, 12], { isSeg: true }) as Int16Array;
  assert.ok(up instanceof Int16Array);
  assert.deepEqual([...new Set(up)].sort(), [0, 1, 2]);
  const same = resampleChannel(seg, [4, 6, 6], [4, 6, 6], { isSeg: true });
  assert.deepEqual(Array.from(same), Array.from(seg));
});
