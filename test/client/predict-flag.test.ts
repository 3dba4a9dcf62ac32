/** nnunet run --predict / --no-predict: on by default when the task has imagesTs and find-best runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { predictTestSet, taskInput } from '../../client/task-input';
import { loadConfig } from '../../config';
import { makeTaskPaths } from '../helpers/temporal';

test('predictTestSet: default from the images in imagesTs; --predict without imagesTs or without find-best is a usage error; taskInput passes it on', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-predict-flag-'));
  try {
    const paths = makeTaskPaths(dir, 'Task099_Toy');
    assert.equal(predictTestSet(paths, {}), false, 'no imagesTs: nothing to predict');
    assert.throws(() => predictTestSet(paths, { predict: true }), /--predict: .*imagesTs has no images/);
    fs.mkdirSync(path.join(paths.rawDir, 'imagesTs'), { recursive: true });
    assert.equal(predictTestSet(paths, {}), false, 'an empty imagesTs: nothing to predict (the run would fail at its end)');
    assert.throws(() => predictTestSet(paths, { predict: true }), /--predict: .*imagesTs has no images/);
    fs.writeFileSync(path.join(paths.rawDir, 'imagesTs', 'case_001_0000.nii.gz'), '');
    assert.equal(predictTestSet(paths, {}), true);
    assert.equal(predictTestSet(paths, { predict: false }), false);
    assert.equal(predictTestSet(paths, { findBest: false }), false, 'nnUNet_train (run --no-find-best) predicts nothing');
    assert.throws(() => predictTestSet(paths, { predict: true, findBest: false }), /needs find-best/);
    const config = loadConfig({ env: {} });
    assert.equal(taskInput(config, paths, { predict: true }).options?.predict, true);
    assert.equal(taskInput(config, paths, {}).options?.predict, undefined, 'sweeps and plan-and-preprocess leave it off');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
