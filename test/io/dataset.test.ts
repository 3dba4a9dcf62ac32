import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BadInputError } from '../../activities/common/errors';
import { readDataset, resolveTask } from '../../activities/io/dataset';
import { writeTinyTask } from './tiny-task';
import { tmpDir } from './helpers';

test('v1 Task folder: cases, channel files, labels', () => {
  const dir = writeTinyTask(tmpDir(), { format: 'v1', cases: 3, test: 1 });
  const d = readDataset(dir);
  assert.equal(d.format, 'v1');
  assert.deepEqual(d.modalities, ['CT', 'MRI']);
  assert.deepEqual(d.labels.map((l) => l.value), [0, 1, 2]);
  assert.deepEqual(d.training.map((c) => c.id), ['case_000', 'case_001', 'case_002']);
  assert.equal(d.training[1].images[1], path.join(dir, 'imagesTr', 'case_001_0001.nii.gz'));
  assert.equal(d.training[1].label, path.join(dir, 'labelsTr', 'case_001.nii.gz'));
  assert.equal(d.test[0].images[0], path.join(dir, 'imagesTs', 'test_000_0000.nii.gz'));
});

test('v2 Dataset folder: channel_names, name->value labels, cases found in imagesTr', () => {
  const dir = writeTinyTask(tmpDir(), { format: 'v2', cases: 2 });
  const d = readDataset(dir);
  assert.equal(d.format, 'v2');
  assert.equal(d.fileEnding, '.nii.gz');
  assert.deepEqual(d.labels, [{ name: 'background', value: 0 }, { name: 'a', value: 1 }, { name: 'b', value: 2 }]);
  assert.deepEqual(d.training.map((c) => c.id), ['case_000', 'case_001']);
});

test('paths in dataset.json that escape the task folder are refused', () => {
  const dir = writeTinyTask(tmpDir(), { format: 'v1', cases: 1 });
  const jsonFile = path.join(dir, 'dataset.json');
  const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  for (const bad of ['../../etc/passwd.nii.gz', '/etc/passwd.nii.gz', './imagesTr/../../x.nii.gz']) {
    json.training[0].image = bad;
    fs.writeFileSync(jsonFile, JSON.stringify(json));
    assert.throws(() => readDataset(dir), (e: unknown) => e instanceof BadInputError && /points outside the task folder/.test(e.message) && e.message.includes(bad));
  }
});

test('invalid dataset.json: clear error naming the field', () => {
  const dir = writeTinyTask(tmpDir(), { format: 'v1', cases: 1 });
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ modality: { 0: 'CT' }, labels: { 0: 'bg' }, training: [{ image: 5 }] }));
  assert.throws(() => readDataset(dir), /not a valid nnU-Net v1 dataset.json: training\.0\.image/);
  fs.writeFileSync(path.join(dir, 'dataset.json'), '{ nope');
  assert.throws(() => readDataset(dir), /not valid JSON/);
});

test('resolveTask: by id across raw/cropped/preprocessed/results, by name, by path; ambiguity and absence', () => {
  const root = tmpDir();
  const roots = { rawDataBase: path.join(root, 'raw'), preprocessed: path.join(root, 'pp'), results: path.join(root, 'res') };
  fs.mkdirSync(path.join(roots.rawDataBase, 'nnUNet_raw_data', 'Task004_Hippocampus'), { recursive: true });
  fs.mkdirSync(path.join(roots.preprocessed, 'Task007_Pancreas'), { recursive: true });
  fs.mkdirSync(path.join(roots.results, 'nnUNet', '3d_fullres', 'Task009_Spleen'), { recursive: true });
  const t4 = resolveTask('4', roots);
  assert.equal(t4.taskName, 'Task004_Hippocampus');
  assert.equal(t4.rawDir, path.join(roots.rawDataBase, 'nnUNet_raw_data', 'Task004_Hippocampus'));
  assert.equal(t4.croppedDir, path.join(roots.rawDataBase, 'nnUNet_cropped_data', 'Task004_Hippocampus'));
  assert.equal(t4.preprocessedDir, path.join(roots.preprocessed, 'Task004_Hippocampus'));
  assert.equal(t4.resultsDir, path.join(roots.results, 'nnUNet'));
  assert.equal(resolveTask('007', roots).taskName, 'Task007_Pancreas');
  assert.equal(resolveTask('9', roots).taskName, 'Task009_Spleen');
  assert.equal(resolveTask('Task004_Hippocampus', roots).taskName, 'Task004_Hippocampus');
  const byPath = writeTinyTask(path.join(root, 'elsewhere'), { format: 'v1', cases: 1 });
  assert.equal(resolveTask(byPath, roots).rawDir, byPath);
  fs.mkdirSync(path.join(roots.preprocessed, 'Task004_Other'), { recursive: true });
  assert.throws(() => resolveTask('4', roots), /ambiguous: Task004_Hippocampus, Task004_Other/);
  assert.throws(() => resolveTask('12', roots), (e: unknown) => e instanceof BadInputError && /no Task012_\*/.test(e.message));
  assert.throws(() => resolveTask('abc', roots), /expected a task id/);
});
