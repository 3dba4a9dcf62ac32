import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { BadInputError } from '../../activities/common/errors';
import { arraySpacing, defaultGeometry, type Geometry } from '../../activities/io/geometry';
import { encodeNifti1, readNifti, readNiftiSync, writeNifti, writeNiftiSync } from '../../activities/io/nifti';
import { DTYPES, type Volume } from '../../activities/io/volume';
import { obliqueGeometry, rampVolume, sharedDir, tmpDir } from './helpers';

function assertGeometryClose(actual: Geometry, expected: Geometry, tol = 1e-5): void {
  for (const k of ['spacing', 'origin', 'direction'] as const) {
    actual[k].forEach((v, i) => assert.ok(Math.abs(v - expected[k][i]) <= tol, `${k}[${i}]: ${v} vs ${expected[k][i]}`));
  }
}

function assertBadInput(fn: () => unknown, pattern: RegExp, file?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadInputError, `expected BadInputError, got ${String(err)}`);
    assert.match(err.message, pattern);
    if (file) assert.ok(err.message.includes(file), `message names the file: ${err.message}`);
    return true;
  });
}

test('round trip: every datatype, .nii and .nii.gz, oblique geometry preserved', async () => {
  const dir = tmpDir();
  const geometry = obliqueGeometry();
  for (const dtype of DTYPES) {
    for (const ext of ['.nii', '.nii.gz']) {
      const file = path.join(dir, `${dtype}${ext}`);
      const vol = rampVolume(dtype, [3, 4, 5], geometry);
      writeNiftiSync(file, vol);
      const back = await readNifti(file);
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.shape, [3, 4, 5]);
      assert.deepEqual(Array.from(back.data), Array.from(vol.data));
      assertGeometryClose(back.geometry, geometry);
      assert.equal(back.nifti.qformCode, 1);
      assert.equal(back.nifti.sformCode, 1);
    }
  }
  // The buffer is compressed only for .gz.
  assert.equal(fs.readFileSync(path.join(dir, 'uint8.nii.gz'))[0], 0x1f);
  assert.equal(fs.readFileSync(path.join(dir, 'uint8.nii')).readInt32LE(0), 348);
});

test('4D files are channels first; async writer matches sync writer', async () => {
  const dir = tmpDir();
  const vol = rampVolume('float32', [2, 3, 4, 5], obliqueGeometry());
  await writeNifti(path.join(dir, 'a.nii.gz'), vol);
  writeNiftiSync(path.join(dir, 'b.nii.gz'), vol);
  const a = readNiftiSync(path.join(dir, 'a.nii.gz'));
  assert.deepEqual(a.shape, [2, 3, 4, 5]);
  assert.deepEqual(Array.from(a.data), Array.from(vol.data));
  assert.deepEqual(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'a.nii.gz'))), zlib.gunzipSync(fs.readFileSync(path.join(dir, 'b.nii.gz'))));
});

test('array-order spacing is the reverse of ITK order', () => {
  assert.deepEqual(arraySpacing(obliqueGeometry()), [3.5, 1.25, 0.8]);
});

/** Writes a volume, lets `patch` edit the uncompressed header, returns the .nii path. */
function patched(vol: Volume, patch: (b: Buffer) => void, name = 'p.nii'): string {
  const bytes = encodeNifti1(vol);
  patch(bytes);
  const file = path.join(tmpDir(), name);
  fs.writeFileSync(file, bytes);
  return file;
}

test('scl_slope and scl_inter are applied (result float32, as ITK)', () => {
  const vol = rampVolume('int16', [2, 2, 3], defaultGeometry());
  const file = patched(vol, (b) => { b.writeFloatLE(2, 112); b.writeFloatLE(-5, 116); });
  const back = readNiftiSync(file);
  assert.equal(back.dtype, 'float32');
  assert.deepEqual(Array.from(back.data), Array.from(vol.data, (x) => x * 2 - 5));
});

test('int64 labels (nibabel default) are narrowed to int32', () => {
  const vol = rampVolume('int32', [2, 2, 2], defaultGeometry());
  const bytes = encodeNifti1(vol);
  const out = Buffer.alloc(352 + 8 * 8);
  bytes.copy(out, 0, 0, 352);
  out.writeInt16LE(1024, 70);
  out.writeInt16LE(64, 72);
  for (let i = 0; i < 8; i++) out.writeBigInt64LE(BigInt(vol.data[i]), 352 + 8 * i);
  const file = path.join(tmpDir(), 'i64.nii');
  fs.writeFileSync(file, out);
  const back = readNiftiSync(file);
  assert.equal(back.dtype, 'int32');
  assert.deepEqual(Array.from(back.data), Array.from(vol.data));
});

test('RGB, unknown datatypes and 5D files are refused with a clear error', () => {
  const vol = rampVolume('uint8', [2, 2, 3], defaultGeometry());
  const rgb = patched(vol, (b) => { b.writeInt16LE(128, 70); b.writeInt16LE(24, 72); b.writeInt16LE(1, 46); });
  assertBadInput(() => readNiftiSync(rgb), /RGB24 voxels are not supported.*grayscale/, rgb);
  const complex = patched(vol, (b) => b.writeInt16LE(32, 70));
  assertBadInput(() => readNiftiSync(complex), /complex64/, complex);
  const fiveD = patched(vol, (b) => { b.writeInt16LE(5, 40); b.writeInt16LE(1, 48); b.writeInt16LE(1, 50); });
  assert.deepEqual(readNiftiSync(fiveD).shape, [2, 2, 3]); // trailing singleton dims are fine
  const vector = patched(rampVolume('uint8', [3, 2, 2, 3], defaultGeometry()), (b) => { b.writeInt16LE(5, 40); b.writeInt16LE(1, 48); b.writeInt16LE(3, 50); });
  assertBadInput(() => readNiftiSync(vector), /5-D NIfTI/, vector);
});

test('header lies (dims larger than the data) and corrupt headers give a clear error, no crash', () => {
  const vol = rampVolume('float32', [4, 4, 4], defaultGeometry());
  const lies = patched(vol, (b) => b.writeInt16LE(4000, 42));
  assertBadInput(() => readNiftiSync(lies), /header promises 4x4x4000 float32 voxels.*truncated or its header is wrong/, lies);
  const huge = patched(vol, (b) => { b.writeInt16LE(32767, 42); b.writeInt16LE(32767, 44); b.writeInt16LE(32767, 46); });
  assertBadInput(() => readNiftiSync(huge), /header promises/, huge);
  const negative = patched(vol, (b) => b.writeInt16LE(-3, 44));
  assertBadInput(() => readNiftiSync(negative), /corrupt header: dim\[2\] = -3/, negative);
  const notNifti = path.join(tmpDir(), 'x.nii');
  fs.writeFileSync(notNifti, Buffer.alloc(400, 7));
  assertBadInput(() => readNiftiSync(notNifti), /not a readable NIfTI file/, notNifti);
  const tiny = path.join(tmpDir(), 'tiny.nii');
  fs.writeFileSync(tiny, Buffer.from('n+1'));
  assertBadInput(() => readNiftiSync(tiny), /not a readable NIfTI/, tiny);
  assertBadInput(() => readNiftiSync('/nonexistent/file.nii.gz'), /cannot read \(ENOENT\)/, '/nonexistent/file.nii.gz');
});

test('truncated gzip gives a clear error naming the file (sync and async)', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'full.nii.gz');
  writeNiftiSync(file, rampVolume('float32', [8, 8, 8], obliqueGeometry()));
  const gz = fs.readFileSync(file);
  const cut = path.join(dir, 'cut.nii.gz');
  fs.writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
  assertBadInput(() => readNiftiSync(cut), /truncated or corrupt gzip/, cut);
  await assert.rejects(readNifti(cut), (err: unknown) => err instanceof BadInputError && /truncated or corrupt gzip/.test(err.message));
});

test('qform/sform precedence follows ITK', () => {
  const g = obliqueGeometry();
  const vol = rampVolume('uint8', [2, 3, 4], g);
  // sform_code 0: geometry from the qform alone.
  const qOnly = readNiftiSync(patched(vol, (b) => { b.writeInt16LE(0, 254); b.fill(0, 280, 328); }));
  assert.equal(qOnly.nifti.xformSource, 'qform');
  assertGeometryClose(qOnly.geometry, g);
  // qform_code 0: geometry from the sform alone.
  const sOnly = readNiftiSync(patched(vol, (b) => { b.writeInt16LE(0, 252); b.fill(0, 256, 280); }));
  assert.equal(sOnly.nifti.xformSource, 'sform');
  assertGeometryClose(sOnly.geometry, g);
  // sform shifted by 10 mm in x: with sform_code 1 the sform wins, with sform_code 2 (aligned) the qform wins.
  const shift = (code: number) => (b: Buffer) => { b.writeFloatLE(b.readFloatLE(292) + 10, 292); b.writeInt16LE(code, 254); };
  const code1 = readNiftiSync(patched(vol, shift(1)));
  assert.equal(code1.nifti.xformSource, 'sform');
  assert.ok(Math.abs(code1.geometry.origin[0] - (g.origin[0] - 10)) < 1e-4);
  const code2 = readNiftiSync(patched(vol, shift(2)));
  assert.equal(code2.nifti.xformSource, 'qform');
  assertGeometryClose(code2.geometry, g);
  // Both codes 0: identity at the origin, spacing from pixdim.
  const none = readNiftiSync(patched(vol, (b) => { b.writeInt16LE(0, 252); b.writeInt16LE(0, 254); }));
  assert.deepEqual(none.geometry.origin, [0, 0, 0]);
  assert.deepEqual(none.geometry.direction, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assertGeometryClose(none.geometry, { ...none.geometry, spacing: g.spacing });
});

/** A NIfTI-2 file (540-byte header, doubles) for the same volume, hand-assembled from the NIfTI-2 layout. */
function nifti2Bytes(vol: Volume, srow: number[][], pixdim: number[]): Buffer {
  const header = Buffer.alloc(544);
  header.writeInt32LE(540, 0);
  header.write('n+2\0\r\n\x1a\n', 4, 'latin1');
  header.writeInt16LE(16, 12);
  header.writeInt16LE(32, 14);
  [3, vol.shape[2], vol.shape[1], vol.shape[0], 1, 1, 1, 1].forEach((d, i) => header.writeBigInt64LE(BigInt(d), 16 + 8 * i));
  pixdim.forEach((p, i) => header.writeDoubleLE(p, 104 + 8 * i));
  header.writeBigInt64LE(544n, 168);
  header.writeDoubleLE(1, 176);
  header.writeInt32LE(0, 344);
  header.writeInt32LE(1, 348);
  srow.forEach((row, r) => row.forEach((v, c) => header.writeDoubleLE(v, 400 + 32 * r + 8 * c)));
  header.writeInt32LE(2, 500);
  const data = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  return Buffer.concat([header, data]);
}

test('NIfTI-2 is read (geometry from its double-precision sform)', () => {
  const vol = rampVolume('float32', [2, 3, 4], defaultGeometry());
  const srow = [[-0.5, 0, 0, 10], [0, -2, 0, 20], [0, 0, 3, -30]];
  const file = path.join(tmpDir(), 'n2.nii.gz');
  fs.writeFileSync(file, zlib.gzipSync(nifti2Bytes(vol, srow, [1, 0.5, 2, 3, 1, 1, 1, 1])));
  const back = readNiftiSync(file);
  assert.equal(back.nifti.version, 2);
  assert.deepEqual(back.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(back.data), Array.from(vol.data));
  assert.deepEqual(back.geometry, { spacing: [0.5, 2, 3], origin: [-10, -20, -30], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
});

interface ManifestEntry { file: string; shape: number[]; spacing_mm: number[]; dtype: string; min: number; max: number; label_values?: number[]; srow: number[][]; sform_code: number }

test('real files in ../shared/realdata match their manifests', (t) => {
  const shared = sharedDir();
  if (!shared) return t.skip('../shared is absent: real-data checks skipped');
  let checked = 0;
  for (const folder of ['Task04_Hippocampus', 'SCT_errsm30']) {
    const base = path.join(shared, 'realdata', folder);
    const manifest = JSON.parse(fs.readFileSync(path.join(base, 'manifest.json'), 'utf8')) as { cases: Array<Record<string, ManifestEntry>> };
    for (const c of manifest.cases) {
      for (const entry of [c.image, c.label]) {
        const v = readNiftiSync(path.join(base, entry.file));
        assert.deepEqual(v.shape, [...entry.shape].reverse(), entry.file);
        v.geometry.spacing.forEach((s, i) => assert.ok(Math.abs(s - entry.spacing_mm[i]) < 1e-6, entry.file));
        assert.equal(v.nifti.fileDatatype, entry.dtype, entry.file);
        let min = Infinity; let max = -Infinity;
        for (const x of v.data) { if (x < min) min = x; if (x > max) max = x; }
        assert.ok(Math.abs(min - entry.min) < 1e-3 && Math.abs(max - entry.max) < 1e-3 * Math.max(1, Math.abs(entry.max)), entry.file);
        if (entry.label_values) assert.deepEqual([...new Set(v.data)].sort((a, b) => a - b), entry.label_values, entry.file);
        // The origin is the sform's translation in LPS (every file here has sform_code > 0 and ITK picks it).
        assert.equal(v.nifti.xformSource, 'sform', entry.file);
        assert.ok(Math.abs(v.geometry.origin[0] + entry.srow[0][3]) < 1e-5 && Math.abs(v.geometry.origin[2] - entry.srow[2][3]) < 1e-5, entry.file);
        checked++;
      }
    }
  }
  assert.ok(checked >= 68, `checked ${checked} files`);
});

test('big-endian NIfTI-1 (header and voxels byte-swapped) is read', () => {
  const b = Buffer.alloc(352 + 2 * 6);
  b.writeInt32BE(348, 0);
  [3, 3, 2, 1, 1, 1, 1, 1].forEach((d, i) => b.writeInt16BE(d, 40 + 2 * i));
  b.writeInt16BE(4, 70);
  b.writeInt16BE(16, 72);
  [1, 0.5, 0.75, 2, 1, 1, 1, 1].forEach((p, i) => b.writeFloatBE(p, 76 + 4 * i));
  b.writeFloatBE(352, 108);
  b.writeInt16BE(1, 254);
  [[0.5, 0, 0, -1], [0, 0.75, 0, -2], [0, 0, 2, 3]].forEach((row, r) => row.forEach((v, c) => b.writeFloatBE(v, 280 + 16 * r + 4 * c)));
  b.write('n+1\0', 344, 'latin1');
  [1, -2, 300, -400, 5, 32767].forEach((v, i) => b.writeInt16BE(v, 352 + 2 * i));
  const file = path.join(tmpDir(), 'be.nii');
  fs.writeFileSync(file, b);
  const v = readNiftiSync(file);
  assert.deepEqual(Array.from(v.data), [1, -2, 300, -400, 5, 32767]);
  assert.deepEqual(v.shape, [1, 2, 3]);
  assert.deepEqual(v.geometry, { spacing: [0.5, 0.75, 2], origin: [1, 2, 3], direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] });
});
