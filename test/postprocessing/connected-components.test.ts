import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  keepLargestComponent, labelComponents, membership, neighbourOffsets, removeAllButLargestComponent, type Connectivity, type Shape3,
} from '../../activities/volume/connected-components';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * Brute force: every region voxel starts with its own index as label; labels relax to the neighbourhood minimum
 * until nothing changes; components are then renumbered by first appearance in raster order.
 */
function bruteForce(mask: Uint8Array, [Z, Y, X]: Shape3, connectivity: Connectivity): Int32Array {
  const n = mask.length;
  const lab = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) if (mask[i]) lab[i] = i;
  const offs = neighbourOffsets(connectivity);
  let changed = true;
  while (changed) {
    changed = false;
    for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
      const i = (z * Y + y) * X + x;
      if (!mask[i]) continue;
      for (const [a, b, c] of offs) {
        const nz = z + a, ny = y + b, nx = x + c;
        if (nz < 0 || ny < 0 || nx < 0 || nz >= Z || ny >= Y || nx >= X) continue;
        const j = (nz * Y + ny) * X + nx;
        if (mask[j] && lab[j] < lab[i]) {
          lab[i] = lab[j];
          changed = true;
        }
      }
    }
  }
  const out = new Int32Array(n);
  const renumber = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    if (!renumber.has(lab[i])) renumber.set(lab[i], renumber.size + 1);
    out[i] = renumber.get(lab[i])!;
  }
  return out;
}

test('neighbourhoods have 6, 18 and 26 members', () => {
  assert.equal(neighbourOffsets(6).length, 6);
  assert.equal(neighbourOffsets(18).length, 18);
  assert.equal(neighbourOffsets(26).length, 26);
});

test('labelling matches a brute-force flood on random volumes, for 6-, 18- and 26-connectivity', () => {
  const rand = rng(42);
  const shapes: Shape3[] = [[5, 6, 7], [1, 9, 8], [8, 1, 3], [4, 4, 4], [3, 10, 2]];
  for (const shape of shapes) {
    for (const density of [0.3, 0.5, 0.7]) {
      const n = shape[0] * shape[1] * shape[2];
      const mask = Uint8Array.from({ length: n }, () => (rand() < density ? 1 : 0));
      for (const conn of [6, 18, 26] as const) {
        const got = labelComponents(mask, shape, membership([1]), conn);
        const want = bruteForce(mask, shape, conn);
        assert.deepEqual(got.labels, want, `shape ${shape} density ${density} connectivity ${conn}`);
        const sizes = new Array(got.count + 1).fill(0);
        for (const l of want) if (l) sizes[l]++;
        assert.deepEqual(got.sizes, sizes);
      }
    }
  }
});

test('diagonal neighbours join only with 18/26; corner neighbours only with 26', () => {
  const shape: Shape3 = [2, 2, 2];
  const edge = Uint8Array.from([1, 0, 0, 1, 0, 0, 0, 0]); // (0,0,0) and (0,1,1): share an edge
  assert.equal(labelComponents(edge, shape, membership([1]), 6).count, 2);
  assert.equal(labelComponents(edge, shape, membership([1]), 18).count, 1);
  const corner = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1]); // (0,0,0) and (1,1,1): share a corner
  assert.equal(labelComponents(corner, shape, membership([1]), 18).count, 2);
  assert.equal(labelComponents(corner, shape, membership([1]), 26).count, 1);
});

test('a long snake fills the ring queue beyond its first size', () => {
  const shape: Shape3 = [40, 40, 50];
  const mask = new Uint8Array(shape[0] * shape[1] * shape[2]).fill(1);
  const r = labelComponents(mask, shape, membership([1]), 26);
  assert.equal(r.count, 1);
  assert.equal(r.sizes[1], mask.length);
});

test('keep largest: small blobs removed per class, joint region treats classes as one, ties survive', () => {
  // one row of 12 voxels: [1 1 1 0 1 0 2 2 0 2 1 2]
  const shape: Shape3 = [1, 1, 12];
  const seg = Uint8Array.from([1, 1, 1, 0, 1, 0, 2, 2, 0, 2, 1, 2]);
  const a = seg.slice();
  const r1 = keepLargestComponent(a, shape, 1);
  assert.deepEqual([...a], [1, 1, 1, 0, 0, 0, 2, 2, 0, 2, 0, 2]);
  assert.deepEqual(r1, { keptVoxels: 3, removedVoxels: 2, numComponents: 3 });
  const b = seg.slice();
  keepLargestComponent(b, shape, [1, 2]); // joint components: {0-2}, {4}, {6,7}, {9,10,11}: sizes 3,1,2,3 → tie at 3
  assert.deepEqual([...b], [1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 2]);
  const c = seg.slice();
  removeAllButLargestComponent(c, shape, [[1, 2], 2]);
  // then class 2 alone: {9} and {11} (10 is class 1) are a tie of size 1, both survive
  assert.deepEqual([...c], [1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 2]);
  assert.throws(() => keepLargestComponent(seg.slice(), shape, [0, 1]), /background/);
  const empty = new Uint8Array(12);
  assert.deepEqual(keepLargestComponent(empty, shape, 1), { keptVoxels: 0, removedVoxels: 0, numComponents: 0 });
});
