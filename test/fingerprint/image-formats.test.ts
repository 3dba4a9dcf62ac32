/**
 * The pipeline's first stages on datasets in other image formats (the .mha and 2D PNG demos): they verify clean,
 * the .mha demo's fingerprint equals the NIfTI demo's (same voxels and geometry, another file format), labels land
 * in gt_segmentations as NIfTI, and the predict input folder is listed in the dataset's format.
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
import { verifyDatasetFolder } from '../../activities/io/verify';
import { listInputCases } from '../../activities/inference/predict-folder';
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

test('the 2D PNG demo verifies clean, fingerprints as one slice with spacing (999, 1, 1), and its test folder lists as PNG', async () => {
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
  fs.rmSync(root, { recursive: true, force: true });
});
