/**
 * The pipeline's first stages on datasets in other image formats (the .mha and 2D PNG demos): they verify clean,
 * the .mha demo's fingerprint equals the NIfTI demo's (same voxels and geometry, another file format), labels land
 * in gt_segmentations as NIfTI, and the predict input folder is listed in the dataset's format; RGB pictures are
 * three channels.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TaskPaths } from '../../activities/contract';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import type { DatasetPropertiesJson } from '../../activities/fingerprint/dataset-properties';
import { writeDemoDataset, type DemoFormat } from '../../activities/io/demo';
import { readDataset } from '../../activities/io/dataset';
import { gtSegmentationFile } from '../../activities/io/layout';
import { readNifti } from '../../activities/io/nifti';
import { plotTaskPngs } from '../../activities/io/task-pngs';
import { verifyDatasetFolder } from '../../activities/io/verify';
import { listInputCases } from '../../activities/inference/predict-folder';
import { writeImageFile } from '../../activities/io/image-formats/registry';
import { naturalImageGeometry } from '../../activities/io/image-formats/natural-image-io';
import { tmpDir } from '../io/helpers';

async function demoTask(root: string, format: DemoFormat): Promise<TaskPaths> {
  const r = await writeDemoDataset(root, { taskId: 960, cases: 3, testCases: 1, seed: 3, format });
  return {
    taskName: r.taskName,
    rawDir: r.outDir,
    croppedDir: path.join(root, 'cropped', r.taskName),
    preprocessedDir: path.join(root, 'preprocessed', r.taskName),
    resultsDir: path.join(root, 'results'),
  };
}

/** The fingerprint without what names files (paths, the input signature). */
function comparable(p: DatasetPropertiesJson): Record<string, unknown> {
  const { input_signature: _s, ...rest } = p as DatasetPropertiesJson & { input_signature?: string };
  return JSON.parse(JSON.stringify(rest, (k, v: unknown) => (k === 'list_of_data_files' || k === 'seg_file' ? undefined : v))) as Record<string, unknown>;
}

test('the .mha demo verifies clean and fingerprints exactly as the same demo in NIfTI', async () => {
  const root = tmpDir('image-formats-');
  const [nifti, mha] = [await demoTask(root, 'nifti'), await demoTask(root, 'mha')];
  assert.equal(readDataset(mha.rawDir).readerWriter, 'SimpleITKIO');
  assert.deepEqual((await verifyDatasetFolder(mha.rawDir)).problems, []);
  const a = await runFingerprint(nifti, { numProcesses: 1 });
  const b = await runFingerprint(mha, { numProcesses: 1 });
  const [pa, pb] = [a, b].map((r) => JSON.parse(fs.readFileSync(r.fingerprintFile, 'utf8')) as DatasetPropertiesJson);
  assert.deepEqual(comparable(pb), comparable(pa));
  const gt = await readNifti(gtSegmentationFile(mha.croppedDir, 'demo_000'));
  const ref = await readNifti(gtSegmentationFile(nifti.croppedDir, 'demo_000'));
  assert.deepEqual(Array.from(gt.data), Array.from(ref.data));
  assert.deepEqual(gt.geometry, ref.geometry);
  fs.rmSync(root, { recursive: true, force: true });
});

test('the 2D PNG demo verifies clean, fingerprints as one slice with spacing (999, 1, 1), its test folder lists as PNG, overlays plot', async () => {
  const root = tmpDir('image-formats-');
  const png = await demoTask(root, 'png');
  assert.equal(readDataset(png.rawDir).readerWriter, 'NaturalImage2DIO');
  assert.deepEqual((await verifyDatasetFolder(png.rawDir)).problems, []);
  const r = await runFingerprint(png, { numProcesses: 1 });
  const props = JSON.parse(fs.readFileSync(r.fingerprintFile, 'utf8')) as DatasetPropertiesJson;
  assert.deepEqual(props.all_spacings, [[999, 1, 1], [999, 1, 1], [999, 1, 1]]);
  assert.ok(props.all_sizes.every((s) => s[0] === 1), 'one slice per case');
  assert.deepEqual(props.all_classes, [1, 2]);
  const gt = await readNifti(gtSegmentationFile(png.croppedDir, 'demo_000'));
  assert.equal(gt.shape[0], 1);
  const cases = await listInputCases(path.join(png.rawDir, 'imagesTs'), 1);
  assert.deepEqual(cases.map((c) => path.basename(c.files[0])), ['demo_test_000_0000.png']);
  const overlays = path.join(root, 'overlays');
  assert.deepEqual(await plotTaskPngs({ rawDir: png.rawDir, preprocessedDir: '', dataIdentifier: '', outDir: overlays, useRaw: true }), ['demo_000', 'demo_001', 'demo_002']);
  assert.ok(fs.readFileSync(path.join(overlays, 'demo_000.png')).subarray(1, 4).equals(Buffer.from('PNG')));
  fs.rmSync(root, { recursive: true, force: true });
});

/** A v2 dataset of RGB pictures (one file per case, three channels) with a disc labelled 1. */
async function rgbTask(root: string, channelNames: Record<string, string>): Promise<TaskPaths> {
  const rawDir = path.join(root, 'Dataset961_Rgb');
  const geometry = naturalImageGeometry();
  for (const [folder, ids] of [['imagesTr', ['a', 'b']], ['imagesTs', ['t']]] as const) {
    fs.mkdirSync(path.join(rawDir, folder), { recursive: true });
    for (const [k, id] of ids.entries()) {
      const [ny, nx] = [20 + k, 24];
      const rgb = new Uint8Array(3 * ny * nx);
      const label = new Uint8Array(ny * nx);
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
        const i = y * nx + x;
        const inDisc = (y - 10) ** 2 + (x - 12) ** 2 < 25;
        label[i] = inDisc ? 1 : 0;
        [rgb[i], rgb[ny * nx + i], rgb[2 * ny * nx + i]] = inDisc ? [200, 40 + k, 30] : [20, 90, 160 + x];
      }
      await writeImageFile(path.join(rawDir, folder, `${id}_0000.png`), { data: rgb, shape: [3, 1, ny, nx], dtype: 'uint8', geometry }, 'image');
      if (folder === 'imagesTr') {
        fs.mkdirSync(path.join(rawDir, 'labelsTr'), { recursive: true });
        await writeImageFile(path.join(rawDir, 'labelsTr', `${id}.png`), { data: label, shape: [1, ny, nx], dtype: 'uint8', geometry }, 'seg');
      }
    }
  }
  fs.writeFileSync(path.join(rawDir, 'dataset.json'), JSON.stringify({ channel_names: channelNames, labels: { background: 0, disc: 1 }, numTraining: 2, file_ending: '.png' }));
  return { taskName: 'Dataset961_Rgb', rawDir, croppedDir: path.join(root, 'cropped'), preprocessedDir: path.join(root, 'preprocessed'), resultsDir: path.join(root, 'results') };
}

test('RGB pictures are three channels in one file, as NaturalImage2DIO reads them: verify, fingerprint, predict input', async () => {
  const root = tmpDir('image-formats-');
  const task = await rgbTask(root, { 0: 'R', 1: 'G', 2: 'B' });
  assert.deepEqual(readDataset(task.rawDir).training.map((c) => c.images.map((f) => path.basename(f))), [['a_0000.png'], ['b_0000.png']]);
  assert.deepEqual((await verifyDatasetFolder(task.rawDir)).problems, []);
  const r = await runFingerprint(task, { numProcesses: 1 });
  const props = JSON.parse(fs.readFileSync(r.fingerprintFile, 'utf8')) as DatasetPropertiesJson;
  assert.deepEqual(props.modalities, { 0: 'R', 1: 'G', 2: 'B' });
  const fg = props.intensityproperties as Record<string, { mean: number }>;
  assert.equal(fg['0'].mean, 200);
  assert.equal(fg['2'].mean, 30);
  assert.deepEqual((await listInputCases(path.join(task.rawDir, 'imagesTs'), 3)).map((c) => c.files.map((f) => path.basename(f))), [['t_0000.png']]);
  await assert.rejects(listInputCases(path.join(task.rawDir, 'imagesTs'), 2), /case t: its pictures hold 3 channels, the model takes 2/);
  const two = await rgbTask(tmpDir('image-formats-'), { 0: 'R', 1: 'G' });
  const problems = (await verifyDatasetFolder(two.rawDir)).problems.filter((p) => p.check === 'wrong-channel-count');
  assert.deepEqual(problems.map((p) => p.case), ['a', 'b', 't']);
  fs.rmSync(root, { recursive: true, force: true });
});
