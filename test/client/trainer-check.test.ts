/**
 * An unknown trainer name is refused before any work starts: the workflow input (`nnunet run`, `nnUNet_train`) and
 * `nnunet train` check it with a UsageError (exit 2) listing the known trainers; a name from the trainer folders of
 * `training.trainerPaths` passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { taskInput } from '../../client/task-input';
import { assertKnownTrainer } from '../../client/settings';
import { UsageError } from '../../client/context';

const paths = { taskName: 'Task004_X', rawDir: '/r', croppedDir: '/c', preprocessedDir: '/p', resultsDir: '/res' };

test('the workflow input refuses an unknown trainer with exit 2 and the known names', () => {
  const config = loadConfig({ env: {} });
  assert.throws(() => taskInput(config, paths, { trainer: 'nnUNetTrainerV2_DA3' }), (e: unknown) => e instanceof UsageError && e.exitCode === 2
    && /unknown trainer 'nnUNetTrainerV2_DA3'; known trainers: .*nnUNetTrainerV2_noDataAugmentation/.test((e as Error).message));
  assert.equal(taskInput(config, paths, { trainer: 'nnUNetTrainerV2_Loss_CE' }).options?.trainer, 'nnUNetTrainerV2_Loss_CE');
});

test('a trainer from a configured trainer folder passes; a missing folder is named', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-trainer-check-'));
  try {
    fs.writeFileSync(path.join(dir, 'mine.js'), 'exports.defineTrainers = (base) => ({ MyTrainer: class extends base.NnUNetTrainerV2 {} });');
    const config = loadConfig({ env: {} });
    const withFolder = { ...config, training: { ...config.training, trainerPaths: [dir] } };
    assert.equal(taskInput(withFolder, paths, { trainer: 'MyTrainer' }).options?.trainer, 'MyTrainer');
    assert.throws(() => assertKnownTrainer('MyTrainer'), UsageError, 'unknown without the folder');
    assert.throws(() => assertKnownTrainer('Other', [dir]), /unknown trainer 'Other'; known trainers: .*MyTrainer/);
    assert.throws(() => assertKnownTrainer('Other', [path.join(dir, 'nope')]), /nope: no such trainer folder \(training\.trainerPaths\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('config: training.trainerPaths defaults to none and resolves relative folders against the config file', () => {
  assert.deepEqual(loadConfig({ env: {} }).training.trainerPaths, []);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-trainer-config-'));
  try {
    const file = path.join(dir, 'nnunet.yaml');
    fs.writeFileSync(file, 'training:\n  trainerPaths: [my-trainers, /abs/trainers]\n');
    assert.deepEqual(loadConfig({ env: {}, configFile: file }).training.trainerPaths, [path.join(dir, 'my-trainers'), '/abs/trainers']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
