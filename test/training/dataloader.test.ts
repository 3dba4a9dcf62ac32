import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../activities/io/npy';
import { PatchDataLoader, cropBounds } from '../../activities/training/dataloader';

/** Channel 0 encodes the position (z*10000 + y*100 + x + 1) so every patch voxel says where it came from. */
function writeCase(dir: string, id: string, shape: [number, number, number], fg: (z: number, y: number, x: number) => number): void {
  const [Z, Y, X] = shape;
  const n = Z * Y * X;
  const data = new Float32Array(2 * n);
  const locs: Record<string, number[][]> = {};
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    const i = (z * Y + y) * X + x;
    data[i] = z * 10000 + y * 100 + x + 1;
    const label = fg(z, y, x);
    data[n + i] = label;
    if (label > 0) (locs[String(label)] ??= []).push([z, y, x]);
  }
  fs.writeFileSync(path.join(dir, `${id}.npy`), encodeNpy({ data, shape: [2, Z, Y, X], dtype: 'float32' }));
  fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({ class_locations: { '1': locs['1'] ?? [], '2': locs['2'] ?? [] } }));
}

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function stageDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-dl-'));
  dirs.push(dir);
  // A tiny fg blob far from the centre: random patches seldom hit it.
  writeCase(dir, 'a', [30, 30, 30], (z, y, x) => (z >= 26 && y >= 26 && x >= 26 ? 1 : 0));
  writeCase(dir, 'b', [20, 30, 24], (z, y, x) => (z < 2 && y < 2 && x < 3 ? 2 : 0));
  writeCase(dir, 'small', [4, 5, 6], () => 0);
  return dir;
}

test('cropBounds follows need_to_pad', () => {
  assert.deepEqual(cropBounds([30], [12], [8]), { lb: [-2], ub: [20] });
  // Smaller than the patch: need = 12 - 5 = 7, lb = -ceil(7/2), ub = 5 + 3 + 1 - 12.
  assert.deepEqual(cropBounds([5], [12], [8]), { lb: [-4], ub: [-3] });
});

test('3D batches: shapes, contiguous crops, forced foreground in the last third', () => {
  const dir = stageDir();
  const loader = new PatchDataLoader({ dir, caseIds: ['a', 'b'], patchSize: [10, 10, 10], finalPatchSize: [8, 8, 8], batchSize: 3, seed: 1 });
  let forcedHits = 0;
  let randomHits = 0;
  const rounds = 40;
  for (let r = 0; r < rounds; r++) {
    const b = loader.next();
    assert.deepEqual(b.dataShape, [3, 1, 10, 10, 10]);
    assert.deepEqual(b.segShape, [3, 1, 10, 10, 10]);
    for (let j = 0; j < 3; j++) {
      const seg = b.seg.subarray(j * 1000, (j + 1) * 1000);
      const img = b.data.subarray(j * 1000, (j + 1) * 1000);
      // Inside the case, x neighbours differ by 1 in the position code: the crop is a translation.
      for (let i = 0; i < 999; i++) if (i % 10 !== 9 && img[i]! > 0 && img[i + 1]! > 0) assert.equal(img[i + 1]! - img[i]!, 1);
      for (let i = 0; i < 1000; i++) if (img[i] === 0) assert.equal(seg[i], -1, 'padding: image 0 with seg -1');
      const hasFg = seg.some((v) => v > 0);
      if (j === 2) forcedHits += hasFg ? 1 : 0;
      else randomHits += hasFg ? 1 : 0;
    }
  }
  assert.equal(forcedHits, rounds, 'every forced sample contains foreground');
  assert.ok(randomHits < rounds, `random samples hit fg less often (${randomHits}/${2 * rounds})`);
});

test('a case smaller than the patch is padded: image 0, seg -1, content intact', () => {
  const dir = stageDir();
  const loader = new PatchDataLoader({ dir, caseIds: ['small'], patchSize: [8, 8, 8], finalPatchSize: [8, 8, 8], batchSize: 1, seed: 3 });
  const b = loader.next();
  const inside = b.data.filter((v) => v > 0);
  assert.equal(inside.length, 4 * 5 * 6, 'the whole small case is in the patch');
  assert.equal(b.seg.filter((v) => v === -1).length, 512 - 120);
  assert.equal(b.seg.filter((v) => v === 0).length, 120);
});

test('deterministic for a seed; the saved state resumes the same stream', () => {
  const dir = stageDir();
  const opts = { dir, caseIds: ['a', 'b'], patchSize: [10, 10, 10], finalPatchSize: [8, 8, 8], batchSize: 2 };
  const l1 = new PatchDataLoader({ ...opts, seed: 42 });
  const l2 = new PatchDataLoader({ ...opts, seed: 42 });
  l1.next();
  l2.next();
  const state = JSON.parse(JSON.stringify(l1.getState()));
  const a = l1.next();
  const b = l2.next();
  assert.deepEqual(a.data, b.data);
  assert.deepEqual(a.keys, b.keys);
  const resumed = new PatchDataLoader({ ...opts, state }).next();
  assert.deepEqual(resumed.data, a.data);
  const other = new PatchDataLoader({ ...opts, seed: 43 });
  other.next();
  assert.notDeepEqual(other.next().data, a.data);
});

test('2D loader samples one slice per sample; forced samples come from foreground slices', () => {
  const dir = stageDir();
  const loader = new PatchDataLoader({ dir, caseIds: ['a', 'b'], patchSize: [12, 12], finalPatchSize: [10, 10], batchSize: 3, seed: 7 });
  for (let r = 0; r < 20; r++) {
    const b = loader.next();
    assert.deepEqual(b.dataShape, [3, 1, 12, 12]);
    for (let j = 0; j < 3; j++) {
      const img = b.data.subarray(j * 144, (j + 1) * 144);
      const zs = new Set([...img].filter((v) => v > 0).map((v) => Math.floor((v - 1) / 10000)));
      assert.equal(zs.size, 1, 'one slice');
      if (j === 2) assert.ok(b.seg.subarray(j * 144, (j + 1) * 144).some((v) => v > 0), 'forced 2D sample has fg');
    }
  }
});

test("2D forced foreground: v1 draws a slice holding the class, v2 ('voxel') one of the class's voxels", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-dl-'));
  dirs.push(dir);
  // One voxel of class 1 in slice 0, nine in slice 5.
  writeCase(dir, 'c', [8, 16, 16], (z, y, x) => ((z === 0 && y === 0 && x === 0) || (z === 5 && y < 3 && x < 3) ? 1 : 0));
  const fractionInSlice5 = (mode: 'slice' | 'voxel') => {
    const loader = new PatchDataLoader({ dir, caseIds: ['c'], patchSize: [8, 8], finalPatchSize: [8, 8], batchSize: 1, oversampleForegroundPercent: 1, seed: 3, foregroundSampling2D: mode });
    let n = 0;
    for (let r = 0; r < 400; r++) {
      const b = loader.next();
      assert.ok(b.seg.some((v) => v > 0), 'forced sample has fg');
      const z = Math.floor((b.data.find((v) => v > 0)! - 1) / 10000);
      if (z === 5) n++;
    }
    return n / 400;
  };
  assert.ok(Math.abs(fractionInSlice5('slice') - 0.5) < 0.08);
  assert.ok(Math.abs(fractionInSlice5('voxel') - 0.9) < 0.05);
});

test('a missing case is a clear error naming the file', () => {
  const dir = stageDir();
  assert.throws(() => new PatchDataLoader({ dir, caseIds: ['nope'], patchSize: [8, 8, 8], finalPatchSize: [8, 8, 8], batchSize: 1 }), /nope\.npy/);
});

test('cascade: the previous stage segmentation is a second seg channel, same box, padded with 0 (v1) or -1 (v2)', () => {
  const dir = stageDir();
  const prevDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-dl-prev-'));
  dirs.push(prevDir);
  // Previous-stage labels (uint8, like nnU-Net's segFromPrevStage) encode x % 3 so the crop is checkable.
  const [Z, Y, X] = [20, 30, 24];
  const prev = Uint8Array.from({ length: Z * Y * X }, (_, i) => (i % X) % 3);
  fs.writeFileSync(path.join(prevDir, 'b_segFromPrevStage.npy'), encodeNpy({ data: prev, shape: [Z, Y, X], dtype: 'uint8' }));
  for (const pad of [undefined, 0, -1] as const) {
    const opts = { dir, caseIds: ['b'], patchSize: [24, 12, 30], finalPatchSize: [20, 10, 26], batchSize: 2, seed: 2, previousStageDir: prevDir };
    const b = new PatchDataLoader(pad === undefined ? opts : { ...opts, previousStagePad: pad }).next();
    assert.deepEqual(b.segShape, [2, 2, 24, 12, 30]);
    const n = 24 * 12 * 30;
    let padded = 0;
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < n; i++) {
        const code = b.data[j * n + i]!;
        const p = b.seg[(2 * j + 1) * n + i]!;
        if (code === 0) { padded++; assert.equal(p, pad ?? 0, 'padding of the previous stage'); }
        else assert.equal(p, ((code - 1) % 100) % 3, 'same box as the image');
      }
    }
    assert.ok(padded > 0);
  }
  assert.throws(() => new PatchDataLoader({ dir, caseIds: ['a'], patchSize: [8, 8, 8], finalPatchSize: [8, 8, 8], batchSize: 1, previousStageDir: prevDir }),
    /a_segFromPrevStage\.npy/);
});

/** A case whose class_locations hold v2 keys: a region over labels 1 and 2, and an ignore label's annotated voxels. */
function writeV2KeyedCase(dir: string, id: string, locations: Record<string, number[][]>): void {
  const [Z, Y, X] = [30, 30, 30];
  const n = Z * Y * X;
  const data = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) data[i] = i + 1;
  fs.writeFileSync(path.join(dir, `${id}.npy`), encodeNpy({ data, shape: [2, Z, Y, X], dtype: 'float32' }));
  fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({ class_locations: locations }));
}

/** Whether a patch (channel 0 = flat index + 1) contains the voxel (z, y, x) of a 30³ case. */
const patchHolds = (img: Float32Array, [z, y, x]: number[]): boolean => img.includes((z! * 30 + y!) * 30 + x! + 1);

test('v2 keys: forced patches centre on a region key, unforced ones on the annotated voxels of an ignore label', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-dl-'));
  dirs.push(dir);
  const region = [27, 27, 27], annotated = [2, 2, 2];
  writeV2KeyedCase(dir, 'r', { '1,2': [region], '2': [] });
  writeV2KeyedCase(dir, 'i', { '1': [], '-1,0,1': [annotated] });
  const forced = new PatchDataLoader({ dir, caseIds: ['r'], patchSize: [8, 8, 8], finalPatchSize: [8, 8, 8], batchSize: 2, oversampleForegroundPercent: 1, seed: 3 });
  const unforced = new PatchDataLoader({ dir, caseIds: ['i'], patchSize: [8, 8, 8], finalPatchSize: [8, 8, 8], batchSize: 2, oversampleForegroundPercent: 0, seed: 3 });
  for (let r = 0; r < 10; r++) {
    const a = forced.next(), b = unforced.next();
    for (let j = 0; j < 2; j++) {
      assert.ok(patchHolds(a.data.subarray(j * 512, (j + 1) * 512), region), 'the region voxel is in every forced patch');
      assert.ok(patchHolds(b.data.subarray(j * 512, (j + 1) * 512), annotated), 'the only annotated voxel is in every patch');
    }
  }
  // forced, with nothing but the annotated key left: v2 centres on annotated voxels
  const onlyAnnotated = new PatchDataLoader({ dir, caseIds: ['i'], patchSize: [8, 8, 8], finalPatchSize: [8, 8, 8], batchSize: 1, oversampleForegroundPercent: 1, seed: 4 });
  assert.ok(patchHolds(onlyAnnotated.next().data, annotated));
});

test('a class_locations key that is neither label nor region is bad input', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-dl-'));
  dirs.push(dir);
  writeV2KeyedCase(dir, 'x', { '(1, 2)': [] });
  assert.throws(() => new PatchDataLoader({ dir, caseIds: ['x'], patchSize: [8, 8, 8], finalPatchSize: [8, 8, 8], batchSize: 1 }).next(), /class_locations key "\(1, 2\)" is neither a label nor a region/);
});
