import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BadInputError } from '../../activities/common/errors';
import { convertMsd, parseMsdName } from '../../activities/io/convert-msd';
import { readNiftiSync, writeNiftiSync } from '../../activities/io/nifti';
import { verifyDatasetFolder } from '../../activities/io/verify';
import { obliqueGeometry, rampVolume, sharedDir, tmpDir } from './helpers';
import { tinyLabel, TINY_SHAPE } from './tiny-task';

test('4D MSD images are split into one file per channel with the spatial geometry', async () => {
  const msd = path.join(tmpDir(), 'Task05_Prostate');
  for (const sub of ['imagesTr', 'labelsTr', 'imagesTs']) fs.mkdirSync(path.join(msd, sub), { recursive: true });
  const four = rampVolume('float32', [2, ...TINY_SHAPE], obliqueGeometry());
  writeNiftiSync(path.join(msd, 'imagesTr', 'prostate_00.nii.gz'), four);
  writeNiftiSync(path.join(msd, 'imagesTs', 'prostate_01.nii.gz'), four);
  writeNiftiSync(path.join(msd, 'labelsTr', 'prostate_00.nii.gz'), tinyLabel(0));
  fs.writeFileSync(path.join(msd, 'imagesTr', '._prostate_00.nii.gz'), 'macOS junk');
  fs.writeFileSync(path.join(msd, 'dataset.json'), JSON.stringify({
    name: 'Prostate', modality: { 0: 'T2', 1: 'ADC' }, labels: { 0: 'background', 1: 'PZ', 2: 'TZ' }, numTraining: 1, numTest: 1,
    training: [{ image: './imagesTr/prostate_00.nii.gz', label: './labelsTr/prostate_00.nii.gz' }], test: ['./imagesTs/prostate_01.nii.gz'],
  }));
  const base = tmpDir();
  const r = await convertMsd(msd, base);
  assert.equal(r.taskName, 'Task005_Prostate');
  assert.deepEqual([r.numImages, r.numSplit, r.numLabels], [2, 2, 1]);
  const n = TINY_SHAPE.reduce((a, b) => a * b, 1);
  for (const c of [0, 1]) {
    const ch = readNiftiSync(path.join(r.outDir, 'imagesTr', `prostate_00_000${c}.nii.gz`));
    assert.deepEqual(ch.shape, TINY_SHAPE);
    assert.deepEqual(Array.from(ch.data), Array.from(four.data.subarray(c * n, (c + 1) * n)));
    for (const k of ['spacing', 'origin', 'direction'] as const) ch.geometry[k].forEach((v, i) => assert.ok(Math.abs(v - four.geometry[k][i]) < 1e-5));
  }
  assert.ok(fs.existsSync(path.join(r.outDir, 'imagesTs', 'prostate_01_0001.nii.gz')));
  assert.ok((await verifyDatasetFolder(r.outDir)).ok);
  // Re-running is refused unless overwrite (which keeps files the conversion does not write); -t overrides the id.
  fs.writeFileSync(path.join(r.outDir, 'notes.txt'), 'mine');
  await assert.rejects(convertMsd(msd, base), (e: unknown) => e instanceof BadInputError && /already exists; nothing was changed\. Pass --overwrite/.test(e.message));
  await convertMsd(msd, base, undefined, { overwrite: true });
  assert.equal(fs.readFileSync(path.join(r.outDir, 'notes.txt'), 'utf8'), 'mine');
  assert.ok(fs.existsSync(path.join(r.outDir, 'imagesTr', 'prostate_00_0001.nii.gz')));
  assert.equal((await convertMsd(msd, base, 505)).taskName, 'Task505_Prostate');
  assert.ok(fs.existsSync(path.join(base, 'nnUNet_raw_data', 'Task005_Prostate', 'dataset.json')));
});

test('a folder that is not an MSD task is refused with the reason', async () => {
  const dir = path.join(tmpDir(), 'Hippocampus');
  fs.mkdirSync(dir);
  await assert.rejects(convertMsd(dir, tmpDir()), (e: unknown) => e instanceof BadInputError && /imagesTr is missing/.test(e.message));
  assert.throws(() => parseMsdName('/x/Task4_Liver'), /2-digit id/);
});

test('the real MSD Task04_Hippocampus converts and verifies', async (t) => {
  const shared = sharedDir();
  if (!shared) return t.skip('../shared is absent: real-data conversion skipped');
  const r = await convertMsd(path.join(shared, 'realdata', 'Task04_Hippocampus'), tmpDir());
  assert.equal(r.taskName, 'Task004_Hippocampus');
  assert.deepEqual([r.numImages, r.numSplit, r.numLabels], [30, 0, 30]);
  const report = await verifyDatasetFolder(r.outDir);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.summary?.labels, { 0: 'background', 1: 'Anterior', 2: 'Posterior' });
});
