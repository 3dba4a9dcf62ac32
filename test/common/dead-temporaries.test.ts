/** Temporaries of killed writers are removed before the next attempt; live writers' and other hosts' are kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeadTemporary, removeDeadTemporaries, tempSibling } from '../../activities/common/atomic';
import { removeLeftoversFor, taskFolders } from '../../worker/dead-temporaries';

/** A pid that existed and is gone (a child that already exited). */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

const host = os.hostname().replace(/[^A-Za-z0-9-]/g, '_') || 'host';

test('temporary names carry pid and host; only a dead writer of this host counts as dead', () => {
  const own = path.basename(tempSibling('/x/model_latest.model'));
  assert.match(own, new RegExp(`^\\.tmp-model_latest\\.model\\.${process.pid}@${host}\\.[0-9a-f]{8}$`));
  assert.equal(isDeadTemporary(own), false, 'this process is alive');
  const dead = deadPid();
  assert.equal(isDeadTemporary(`.tmp-case_0.npy.${dead}@${host}.0a1b2c3d`), true);
  assert.equal(isDeadTemporary(`.tmp-case_0.npy.${dead}.0a1b2c3d`), true, 'a name from before the host tag counts as ours');
  assert.equal(isDeadTemporary(`.tmp-case_0.npy.${dead}@another-host.0a1b2c3d`), false, 'another machine: we cannot tell');
  assert.equal(isDeadTemporary('case_0.npy'), false);
  assert.equal(isDeadTemporary(`.tmp-notes.${dead}`), false, 'not one of our names');
});

test('removeDeadTemporaries removes dead writers\' files and folders at any depth, and nothing else', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-tmp-clean-'));
  try {
    const dead = deadPid();
    const fold = path.join(root, '2d', 'Task1_X', 'fold_0');
    fs.mkdirSync(fold, { recursive: true });
    const keep = ['model_latest.model', `.tmp-live.npy.${process.pid}@${host}.00000000`, `.tmp-other.npy.${dead}@elsewhere.00000000`];
    for (const f of keep) fs.writeFileSync(path.join(fold, f), 'x');
    fs.writeFileSync(path.join(fold, `.tmp-model_latest.model.${dead}@${host}.11111111`), 'torn');
    const halfDir = path.join(fold, `.tmp-validation_raw.${dead}@${host}.22222222`);
    fs.mkdirSync(halfDir);
    fs.writeFileSync(path.join(halfDir, 'case.nii.gz'), 'x');
    const removed = removeDeadTemporaries([root, path.join(root, 'missing')]);
    assert.equal(removed.length, 2);
    assert.deepEqual(fs.readdirSync(fold).sort(), [...keep].sort());
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a step cleans its own task\'s folders only', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-tmp-task-'));
  try {
    const dead = deadPid();
    const paths = { taskName: 'Task1_X', rawDir: path.join(root, 'raw'), croppedDir: path.join(root, 'cropped', 'Task1_X'), preprocessedDir: path.join(root, 'pre', 'Task1_X'), resultsDir: path.join(root, 'results') };
    const mine = path.join(paths.resultsDir, '2d', 'Task1_X', 'fold_0');
    const other = path.join(paths.resultsDir, '2d', 'Task2_Y');
    for (const d of [mine, other, paths.preprocessedDir]) fs.mkdirSync(d, { recursive: true });
    const name = `.tmp-a.npy.${dead}@${host}.33333333`;
    for (const d of [mine, other, paths.preprocessedDir]) fs.writeFileSync(path.join(d, name), 'x');
    assert.deepEqual(taskFolders(paths).sort(), [paths.croppedDir, paths.preprocessedDir, path.join(paths.resultsDir, '2d', 'Task1_X')].sort());
    assert.equal(removeLeftoversFor({ paths }).length, 2);
    assert.ok(fs.existsSync(path.join(other, name)), 'another task\'s folder is not touched');
    assert.deepEqual(removeLeftoversFor({ name: 'sweep' }), [], 'an input without task paths cleans nothing');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
