import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bboxOfMask, cropToNonzero, fillHoles, nonzeroMask, type Shape3 } from '../../activities/volume/crop';

const idx = (s: Shape3, z: number, y: number, x: number) => (z * s[1] + y) * s[2] + x;

/** A hollow 3x3x3 shell (center empty) placed at z,y,x offsets 1..3 inside a 5x6x7 zero volume. */
function shell(shape: Shape3): Float32Array {
  const v = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let z = 1; z <= 3; z++) for (let y = 1; y <= 3; y++) for (let x = 2; x <= 4; x++) {
    if (!(z === 2 && y === 2 && x === 3)) v[idx(shape, z, y, x)] = 5;
  }
  return v;
}

test('fillHoles fills an enclosed cavity and leaves border-connected background', () => {
  const s: Shape3 = [5, 6, 7];
  const mask = fillHoles(nonzeroMask([shell(s)], s), s);
  assert.equal(mask[idx(s, 2, 2, 3)], 1, 'the cavity is a hole');
  assert.equal(mask[idx(s, 0, 0, 0)], 0);
  assert.equal(mask.reduce((a, b) => a + b, 0), 27);
});

test('fillHoles uses face connectivity: a cavity touching outside only by an edge is still a hole', () => {
  // 2D-like slab z=1 of a 3x4x4 volume: ring around (1,1) with the diagonal neighbour (0,0) background.
  const s: Shape3 = [3, 4, 4];
  const m = new Uint8Array(48);
  for (let z = 0; z < 3; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
    if (!(z === 1 && y === 1 && x === 1)) m[idx(s, z, y, x)] = 1;
  }
  m[idx(s, 0, 0, 0)] = 0; // a corner notch: touches the cavity (1,1,1) only through an edge/vertex
  fillHoles(m, s);
  assert.equal(m[idx(s, 1, 1, 1)], 1);
  assert.equal(m[idx(s, 0, 0, 0)], 0);
});

test('a cavity opened to the border by a tunnel is not filled', () => {
  const s: Shape3 = [5, 6, 7];
  const v = shell(s);
  v[idx(s, 2, 2, 2)] = 0; // tunnel from the cavity (2,2,3) to x=1 which is outside the shell
  const mask = fillHoles(nonzeroMask([v], s), s);
  assert.equal(mask[idx(s, 2, 2, 3)], 0);
});

test('bboxOfMask is [min, max+1) per axis and null when empty', () => {
  const s: Shape3 = [5, 6, 7];
  assert.deepEqual(bboxOfMask(nonzeroMask([shell(s)], s), s), [[1, 4], [1, 4], [2, 5]]);
  assert.equal(bboxOfMask(new Uint8Array(210), s), null);
});

test('cropToNonzero: OR over channels, seg -1 only for background outside the mask, labels kept', () => {
  const s: Shape3 = [4, 4, 4];
  const a = new Int16Array(64);
  const b = new Float32Array(64);
  a[idx(s, 1, 1, 1)] = 3;
  b[idx(s, 2, 2, 2)] = -1.5;
  const seg = new Uint8Array(64);
  seg[idx(s, 1, 1, 1)] = 1; // inside mask
  seg[idx(s, 1, 2, 2)] = 2; // inside box, outside mask: keeps its label
  const out = cropToNonzero([a, b], seg, s);
  assert.deepEqual(out.bbox, [[1, 3], [1, 3], [1, 3]]);
  assert.deepEqual(out.shape, [2, 2, 2]);
  assert.equal(out.numChannels, 2);
  assert.equal(out.data.length, 3 * 8);
  const ch = (c: number, z: number, y: number, x: number) => out.data[c * 8 + (z * 2 + y) * 2 + x];
  assert.equal(ch(0, 0, 0, 0), 3);
  assert.equal(ch(1, 1, 1, 1), -1.5);
  assert.equal(ch(2, 0, 0, 0), 1);
  assert.equal(ch(2, 0, 1, 1), 2);
  assert.equal(ch(2, 1, 1, 1), 0, 'in mask, background stays 0');
  assert.equal(ch(2, 1, 0, 0), -1, 'outside mask, background becomes -1');
  assert.deepEqual(out.classes, [-1, 0, 1, 2]);
  assert.equal(out.hadNonzeroVoxels, true);
});

test('cropToNonzero without seg synthesises 0 inside, -1 outside; NaN counts as nonzero', () => {
  const s: Shape3 = [1, 3, 3];
  const a = new Float32Array(9);
  a[idx(s, 0, 0, 0)] = NaN;
  a[idx(s, 0, 1, 1)] = 2;
  const out = cropToNonzero([a], null, s);
  assert.deepEqual(out.bbox, [[0, 1], [0, 2], [0, 2]]);
  assert.deepEqual([...out.data.subarray(4)], [0, -1, -1, 0]);
  assert.deepEqual(out.classes, [-1, 0]);
});

test('cropToNonzero resets seg values below -1 to 0 after recording classes', () => {
  const s: Shape3 = [1, 1, 2];
  const out = cropToNonzero([new Float32Array([1, 1])], new Int8Array([-3, 1]), s);
  assert.deepEqual(out.classes, [-3, 1]);
  assert.deepEqual([...out.data.subarray(2)], [0, 1]);
});

test('an all-zero image is not cropped and is reported', () => {
  const s: Shape3 = [2, 2, 2];
  const out = cropToNonzero([new Float32Array(8)], new Uint8Array(8), s);
  assert.equal(out.hadNonzeroVoxels, false);
  assert.deepEqual(out.shape, [2, 2, 2]);
});

test('pseudo-2D volumes (1, y, x): every voxel touches the border, so a ring is not filled (as scipy in 3D)', () => {
  const s: Shape3 = [1, 5, 5];
  const m = new Uint8Array(25);
  for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) if (!(y === 2 && x === 2)) m[idx(s, 0, y, x)] = 1;
  fillHoles(m, s);
  assert.equal(m[idx(s, 0, 2, 2)], 0);
});
