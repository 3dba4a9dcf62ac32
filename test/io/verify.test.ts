import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BadInputError } from '../../activities/common/errors';
import { verifyDataset } from '../../activities/io/activity';
import { taskPaths } from '../../activities/io/dataset';
import { writeNiftiSync } from '../../activities/io/nifti';
import { verifyDatasetFolder, type Problem } from '../../activities/io/verify';
import { obliqueGeometry, rampVolume, tmpDir } from './helpers';
import { TINY_SHAPE, tinyLabel, writeTinyTask } from './tiny-task';

const errors = (ps: Problem[]) => ps.filter((p) => p.severity === 'error');

function find(ps: Problem[], check: string, caseId?: string): Problem {
  const p = ps.find((x) => x.check === check && (caseId === undefined || x.case === caseId));
  assert.ok(p, `expected a '${check}' problem${caseId ? ` for ${caseId}` : ''}; got ${JSON.stringify(ps, null, 1)}`);
  return p;
}

function editJson(dir: string, edit: (j: Record<string, any>) => void): void {
  const f = path.join(dir, 'dataset.json');
  const j = JSON.parse(fs.readFileSync(f, 'utf8'));
  edit(j);
  fs.writeFileSync(f, JSON.stringify(j));
}

test('a valid v1 and v2 task passes; the activity returns its summary', async () => {
  const v1 = writeTinyTask(tmpDir(), { format: 'v1', cases: 2, test: 1 });
  const report = await verifyDatasetFolder(v1);
  assert.deepEqual(report.problems, []);
  assert.ok(report.ok);
  const roots = { rawDataBase: '/r', preprocessed: '/p', results: '/s' };
  const out = await verifyDataset({ paths: taskPaths(v1, roots) });
  assert.deepEqual(out, { numTrainingCases: 2, numTestCases: 1, modalities: ['CT', 'MRI'], labels: { 0: 'background', 1: 'a', 2: 'b' } });
  const v2 = writeTinyTask(tmpDir(), { format: 'v2', cases: 2 });
  assert.deepEqual((await verifyDatasetFolder(v2)).problems, []);
});

test('every problem of a bad dataset is reported in one run, naming case and file', async () => {
  const dir = writeTinyTask(tmpDir(), { format: 'v1', cases: 8, test: 2 });
  const tr = (f: string) => path.join(dir, 'imagesTr', f);
  const geo = obliqueGeometry();
  fs.rmSync(tr('case_000_0001.nii.gz')); // missing modality file
  writeNiftiSync(tr('case_001_0000.nii.gz'), rampVolume('int16', [4, 5, 7], geo)); // shape mismatch
  writeNiftiSync(tr('case_002_0000.nii.gz'), rampVolume('int16', TINY_SHAPE, { ...geo, spacing: [0.8, 1.25, 3.0] })); // spacing mismatch
  const label7 = tinyLabel(0);
  label7.data[5] = 7;
  writeNiftiSync(path.join(dir, 'labelsTr', 'case_003.nii.gz'), label7); // label 7 in a 3-class task
  const nan = rampVolume('float32', TINY_SHAPE, geo);
  nan.data[3] = NaN;
  nan.data[4] = Infinity;
  writeNiftiSync(tr('case_004_0001.nii.gz'), nan); // NaN/Inf
  const gz = fs.readFileSync(tr('case_005_0000.nii.gz'));
  fs.writeFileSync(tr('case_005_0000.nii.gz'), gz.subarray(0, gz.length >> 1)); // truncated file
  writeNiftiSync(tr('case_006_0000.nii.gz'), rampVolume('int16', TINY_SHAPE, { ...geo, origin: [0, 0, 0] })); // origin: a warning
  writeNiftiSync(tr('case_007_0002.nii.gz'), rampVolume('int16', TINY_SHAPE, geo)); // a third channel
  fs.writeFileSync(path.join(dir, 'labelsTr', 'stray.nii.gz'), 'x'); // an unlisted file
  fs.rmSync(path.join(dir, 'imagesTs', 'test_001_0001.nii.gz')); // test case lacking a channel
  const { ok, problems } = await verifyDatasetFolder(dir);
  assert.equal(ok, false);
  assert.equal(find(problems, 'missing-file', 'case_000').file, 'imagesTr/case_000_0001.nii.gz');
  assert.match(find(problems, 'shape-mismatch', 'case_001').message, /shape 4x5x7 \(z,y,x\) differs from case_001\.nii\.gz's 4x5x6/);
  assert.match(find(problems, 'geometry-mismatch', 'case_002').message, /^spacing/);
  const l7 = find(problems, 'label-values', 'case_003');
  assert.equal(l7.file, 'labelsTr/case_003.nii.gz');
  assert.match(l7.message, /label values 7 that dataset.json does not declare \(declared: 0, 1, 2\)/);
  assert.match(find(problems, 'non-finite', 'case_004').message, /1 NaN and 1 Inf/);
  const trunc = find(problems, 'unreadable-file', 'case_005');
  assert.equal(trunc.file, 'imagesTr/case_005_0000.nii.gz');
  assert.match(trunc.message, /truncated or corrupt gzip/);
  const origin = find(problems, 'geometry-mismatch', 'case_006');
  assert.equal(origin.severity, 'warning');
  assert.match(find(problems, 'wrong-channel-count', 'case_007').message, /channel 0002 exists but dataset.json declares 2 modalities/);
  assert.equal(find(problems, 'unexpected-file').file, 'labelsTr/stray.nii.gz');
  assert.equal(find(problems, 'missing-file', 'test_001').file, 'imagesTs/test_001_0001.nii.gz');
  assert.equal(errors(problems).length, 9);
  // strictGeometry turns the origin warning into an error.
  const strict = await verifyDatasetFolder(dir, { strictGeometry: true });
  assert.equal(find(strict.problems, 'geometry-mismatch', 'case_006').severity, 'error');
  // The activity throws one BadInputError listing them all.
  await assert.rejects(verifyDataset({ paths: taskPaths(dir, { rawDataBase: '/r', preprocessed: '/p', results: '/s' }) }), (e: unknown) => {
    assert.ok(e instanceof BadInputError);
    assert.match(e.message, /failed verification with 9 problems/);
    for (const c of ['case_000', 'case_001', 'case_002', 'case_003', 'case_004', 'case_005', 'case_007', 'test_001']) assert.ok(e.message.includes(`case ${c}`), c);
    return true;
  });
});

test('dataset-level problems: escaping path, empty training set, labels, numTraining, duplicates, 4D files', async () => {
  const esc = writeTinyTask(tmpDir(), { format: 'v1', cases: 1 });
  editJson(esc, (j) => { j.training[0].label = '../../secret.nii.gz'; });
  assert.match(find((await verifyDatasetFolder(esc)).problems, 'dataset-json').message, /points outside the task folder/);

  const empty = writeTinyTask(tmpDir(), { format: 'v2', cases: 0 });
  find((await verifyDatasetFolder(empty)).problems, 'no-training-cases');
  const emptyV1 = writeTinyTask(tmpDir(), { format: 'v1', cases: 0 });
  find((await verifyDatasetFolder(emptyV1)).problems, 'no-training-cases');

  const emptied = writeTinyTask(tmpDir(), { format: 'v1', cases: 2 });
  for (const f of fs.readdirSync(path.join(emptied, 'imagesTr'))) fs.rmSync(path.join(emptied, 'imagesTr', f));
  const emptiedProblems = (await verifyDatasetFolder(emptied)).problems;
  assert.match(find(emptiedProblems, 'empty-folder').message, /imagesTr\/ is empty but dataset.json lists 2 training cases/);
  assert.equal(emptiedProblems.filter((p) => p.check === 'missing-file').length, 0, 'one line for the folder, not one per image');

  const labels = writeTinyTask(tmpDir(), { format: 'v1', cases: 2 });
  editJson(labels, (j) => { j.labels = { 0: 'background', 1: 'a', 3: 'b' }; j.numTraining = 5; j.training.push(j.training[0]); });
  const lp = (await verifyDatasetFolder(labels)).problems;
  assert.match(find(lp, 'declared-labels').message, /consecutive 0\.\.K-1; got 0, 1, 3/);
  assert.match(find(lp, 'num-training').message, /numTraining is 5 but 3/);
  find(lp, 'duplicate-case', 'case_000');
  find(lp, 'label-values', 'case_001'); // its label 2 is no longer declared

  const four = writeTinyTask(tmpDir(), { format: 'v1', cases: 1 });
  writeNiftiSync(path.join(four, 'imagesTr', 'case_000_0000.nii.gz'), rampVolume('int16', [2, ...TINY_SHAPE], obliqueGeometry()));
  assert.match(find((await verifyDatasetFolder(four)).problems, '4d-file', 'case_000').message, /convert-msd/);

  const noJson = tmpDir();
  assert.match(find((await verifyDatasetFolder(noJson)).problems, 'dataset-json').message, /cannot read dataset.json/);
});
