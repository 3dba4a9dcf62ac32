import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createPipelineActivities } from '../../activities';
import { storageMarkerFile } from '../../activities/io/layout';
import { requireSharedStorage, StorageNotVisibleError, writeStorageMarker } from '../../activities/io/storage-marker';
import { taskPathsIn } from '../../client/temporal/task-client';
import { wrapActivities } from '../../worker/wrap';
import { makeTaskPaths } from '../helpers/temporal';

function tempTask() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-storage-'));
  return { dir, paths: makeTaskPaths(dir, 'Task951_Storage'), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test('a worker that does not see the run\'s marker refuses, naming the file and the fix; with the marker it goes on', () => {
  const t = tempTask();
  try {
    assert.throws(() => requireSharedStorage(t.paths, 'gpu-node-7'), (err: unknown) =>
      err instanceof StorageNotVisibleError && err.name === 'StorageNotVisible'
      && err.message.includes(`worker on gpu-node-7 cannot see the storage of task Task951_Storage: ${storageMarkerFile(t.paths)} does not exist here`)
      && /Mount the same shared storage at the same paths/.test(err.message));
    const file = writeStorageMarker(t.paths, 'login-node');
    assert.equal(file, path.join(t.paths.resultsDir, '.nnunet-storage', 'Task951_Storage.json'));
    assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as { writtenBy: string }).writtenBy, 'login-node');
    requireSharedStorage(t.paths);
  } finally {
    t.remove();
  }
});

test('the client finds the task paths of task, fold and sweep workflow inputs', () => {
  const t = tempTask();
  try {
    const p = t.paths;
    assert.deepEqual(taskPathsIn([{ paths: p }]), [p]);
    assert.deepEqual(taskPathsIn([{ train: { paths: p, fold: 0 } }]), [p]);
    assert.deepEqual(taskPathsIn([{ name: 's', tasks: [{ taskId: 1, paths: p }, { taskId: 2, paths: p }] }]), [p, p]);
    assert.deepEqual(taskPathsIn([{ paths: { taskName: 'x', resultsDir: '' } }]), [], 'a plans-only input with no results folder');
  } finally {
    t.remove();
  }
});

test('a pipeline activity without the marker fails retryably (another worker takes the retry) before touching anything', async () => {
  const t = tempTask();
  try {
    const acts = wrapActivities(createPipelineActivities());
    const env = new MockActivityEnvironment({ attempt: 1 });
    await assert.rejects(env.run(acts.fingerprint, { paths: t.paths, numProcesses: 1 }), (err: unknown) =>
      err instanceof ApplicationFailure && err.type === 'StorageNotVisible' && !err.nonRetryable && /does not exist here/.test(err.message));
    assert.equal(fs.existsSync(t.paths.croppedDir), false, 'nothing created');
  } finally {
    t.remove();
  }
});
