/**
 * The image reader/writer registry: fixtures written by SimpleITK, tifffile and skimage (the libraries behind
 * nnU-Net v2's readers; scripts/parity/make_image_formats.py, with what they read back in expected.json) read as
 * they read them, every format round-trips, and the class is chosen as v2 chooses it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../config';
import { BadInputError } from '../../activities/common/errors';
import { arraySpacing, defaultGeometry, type Geometry, type Mat3, type Vec3 } from '../../activities/io/geometry';
import { readImageFile, readerWriterName, writeImageFile, imageEndingOf } from '../../activities/io/image-formats/registry';
import { spacingSidecar } from '../../activities/io/image-formats/tiff3d-io';
import type { DType, Volume } from '../../activities/io/volume';
import { obliqueGeometry, rampVolume, tmpDir } from './helpers';

const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'image-formats');

interface Expected {
  file: string;
  reader: string;
  arrayShape: number[];
  dtype: string;
  values: number[];
  dimension?: number;
  spacing?: number[];
  origin?: number[];
  direction?: number[];
  nnunetSpacing?: number[];
}

const expected = (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as { files: Record<string, Expected> }).files;

function assertClose(actual: readonly number[], want: readonly number[], what: string, tol = 1e-12): void {
  assert.equal(actual.length, want.length, `${what}: length`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${v} vs ${want[i]}`));
}

/** SimpleITKIO's view of SimpleITK's values: 2D gets a third axis (999 x the largest spacing), 4D keeps x, y, z. */
function sitkGeometry(e: Expected): Geometry {
  const d = e.dimension!;
  const dir = (r: number, c: number) => (r < d && c < d ? e.direction![d * r + c] : Number(r === c));
  const direction = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => dir(r, c))) as Mat3;
  if (d === 2) return { spacing: [e.spacing![0], e.spacing![1], 999 * Math.max(...e.spacing!)], origin: [e.origin![0], e.origin![1], 0], direction };
  return { spacing: e.spacing!.slice(0, 3) as Vec3, origin: e.origin!.slice(0, 3) as Vec3, direction };
}

for (const e of Object.values(expected)) {
  test(`${e.file} reads as ${e.reader} reads it`, async () => {
    const v = await readImageFile(path.join(FIXTURES, e.file));
    const shape = e.dimension === 2 ? [1, ...e.arrayShape] : e.arrayShape[0] === 1 && e.arrayShape.length === 4 ? e.arrayShape.slice(1) : e.arrayShape;
    assert.deepEqual(v.shape, shape);
    assert.equal(v.dtype, e.dtype);
    assert.deepEqual(Array.from(v.data), e.values);
    if (e.reader === 'SimpleITKIO') {
      const g = sitkGeometry(e);
      assertClose(v.geometry.spacing, g.spacing, 'spacing');
      assertClose(v.geometry.origin, g.origin, 'origin');
      assertClose(v.geometry.direction, g.direction, 'direction', 1e-9);
    } else {
      assertClose(arraySpacing(v.geometry), e.nnunetSpacing!, 'nnU-Net spacing');
      assert.deepEqual(v.geometry.origin, [0, 0, 0]);
      assert.deepEqual(v.geometry.direction, defaultGeometry().direction);
    }
  });
}

function assertSameVolume(back: Volume, vol: Volume, geometry: Geometry, file: string): void {
  assert.deepEqual(back.shape, vol.shape, `${file}: shape`);
  assert.deepEqual(Array.from(back.data), Array.from(vol.data), `${file}: voxels`);
  assertClose(back.geometry.spacing, geometry.spacing, `${file}: spacing`, 1e-6);
  assertClose(back.geometry.origin, geometry.origin, `${file}: origin`, 1e-6);
  assertClose(back.geometry.direction, geometry.direction, `${file}: direction`, 1e-6);
}

test('3D round trip keeps voxels, spacing, origin and direction: NIfTI and the SimpleITK formats', async () => {
  const dir = tmpDir();
  for (const ending of ['.nii.gz', '.nii', '.nrrd', '.mha', '.mhd']) {
    for (const dtype of ['uint8', 'int16', 'float32'] as DType[]) {
      const file = path.join(dir, `case_${dtype}${ending}`);
      const vol = rampVolume(dtype, [3, 4, 5], obliqueGeometry());
      await writeImageFile(file, vol, 'image');
      assertSameVolume(await readImageFile(file), vol, vol.geometry, file);
    }
  }
  // .gipl stores no direction: spacing and origin only.
  const file = path.join(dir, 'label.gipl');
  const vol = rampVolume('uint8', [3, 4, 5], { ...obliqueGeometry(), direction: defaultGeometry().direction });
  await writeImageFile(file, vol);
  assertSameVolume(await readImageFile(file, 'seg'), vol, vol.geometry, file);
});

test('a 2D .mha slice round-trips as a 2D file with SimpleITKIO\'s 999 x spacing', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'slice.mha');
  const geometry: Geometry = { spacing: [0.5, 0.25, 999 * 0.5], origin: [3, 4, 0], direction: [0, 1, 0, 1, 0, 0, 0, 0, 1] };
  const vol = rampVolume('int16', [1, 6, 7], geometry);
  await writeImageFile(file, vol, 'image');
  assert.match(fs.readFileSync(file, 'latin1'), /NDims = 2/);
  assertSameVolume(await readImageFile(file), vol, geometry, file);
});

test('Tiff3DIO: the stack and its spacing sidecar round-trip (image and segmentation sidecar names)', async () => {
  const dir = tmpDir();
  const geometry: Geometry = { spacing: [0.5, 0.75, 2.5], origin: [0, 0, 0], direction: defaultGeometry().direction };
  for (const [name, role] of [['case_0000.tif', 'image'], ['case.tiff', 'seg']] as const) {
    const file = path.join(dir, name);
    const vol = rampVolume('uint8', [3, 4, 5], geometry);
    await writeImageFile(file, vol, role);
    assert.equal(spacingSidecar(file, role), path.join(dir, 'case.json'));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')), { spacing: [2.5, 0.75, 0.5] });
    assertSameVolume(await readImageFile(file, role, 'Tiff3DIO'), vol, geometry, file);
  }
});

test('NaturalImage2DIO: grayscale and RGB pictures round-trip as (1, y, x) and (3, 1, y, x) with spacing (999, 1, 1)', async () => {
  const dir = tmpDir();
  const geometry: Geometry = { spacing: [1, 1, 999], origin: [0, 0, 0], direction: defaultGeometry().direction };
  for (const ending of ['.png', '.bmp', '.tif']) {
    const seg = rampVolume('uint8', [1, 4, 5], geometry);
    const segFile = path.join(dir, `seg${ending}`);
    await writeImageFile(segFile, seg, 'seg');
    assertSameVolume(await readImageFile(segFile, 'seg'), seg, geometry, segFile);
  }
  const rgb = rampVolume('uint8', [3, 1, 4, 5], geometry);
  const rgbFile = path.join(dir, 'rgb_0000.png');
  await writeImageFile(rgbFile, rgb, 'image');
  assertSameVolume(await readImageFile(rgbFile), rgb, geometry, rgbFile);
});

test('a colour picture is refused as a segmentation, naming the file', async () => {
  await assert.rejects(readImageFile(path.join(FIXTURES, 'rgb.png'), 'seg'), (err: unknown) => err instanceof BadInputError && /rgb\.png: a segmentation .*must be a grayscale/.test(err.message));
});

test('the class is chosen as nnU-Net v2 chooses it', () => {
  assert.equal(readerWriterName({ file_ending: '.png' }), 'NaturalImage2DIO');
  assert.equal(readerWriterName({ file_ending: '.tif' }), 'NaturalImage2DIO');
  assert.equal(readerWriterName({ file_ending: '.tiff' }), 'Tiff3DIO');
  assert.equal(readerWriterName({ file_ending: '.nii.gz' }), 'SimpleITKIO');
  assert.equal(readerWriterName({ file_ending: '.nii' }), 'NibabelIO');
  assert.equal(readerWriterName({ file_ending: '.MHA' }), 'SimpleITKIO');
  assert.equal(readerWriterName({ file_ending: '.tif', overwrite_image_reader_writer: 'Tiff3DIO' }), 'Tiff3DIO');
  assert.equal(readerWriterName({ file_ending: '.nrrd', overwrite_image_reader_writer: 'None' }), 'SimpleITKIO');
  assert.equal(readerWriterName({ file_ending: '.nrrd', overwrite_image_reader_writer: 'NoSuchIO' }), 'SimpleITKIO');
  assert.throws(() => readerWriterName({ file_ending: '.jpg' }, '/x/dataset.json'), /\/x\/dataset\.json: file_ending "\.jpg" has no image reader\/writer/);
  assert.equal(imageEndingOf('a/case_0000.nii.gz'), '.nii.gz');
  assert.equal(imageEndingOf('a/case.jpg'), undefined);
});

test('a 3D tiff named for NaturalImage2DIO is read by Tiff3DIO, as v2 falls back', async () => {
  const v = await readImageFile(path.join(FIXTURES, 'stack_0000.tif'), 'image', 'NaturalImage2DIO');
  assert.deepEqual(v.shape, [3, 4, 5]);
  assertClose(arraySpacing(v.geometry), [2.5, 0.75, 0.5], 'spacing');
});

test('reading and writing NIfTI through the registry never loads itk-wasm', () => {
  const dist = path.join(repoRoot(), 'dist', 'activities', 'io', 'image-formats');
  const script = `
    const r = require(${JSON.stringify(path.join(dist, 'registry.js'))});
    const w = require(${JSON.stringify(path.join(dist, 'itk-wasm.js'))});
    const file = require('node:path').join(require('node:os').tmpdir(), 'lazy-' + process.pid + '.nii.gz');
    const v = { data: new Uint8Array(8), shape: [2, 2, 2], dtype: 'uint8', geometry: { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] } };
    r.writeImageFile(file, v).then(() => r.readImageFile(file)).then(() => { require('node:fs').rmSync(file); console.log(w.imageIoRequested()); });`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.trim(), 'false');
});
