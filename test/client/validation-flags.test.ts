/** --disable-tta / --step-size of run, sweep and train: parsing, exit 2 on a bad step, and what reaches the workflow input. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { loadConfig } from '../../config';
import { taskInput } from '../../client/task-input';
import { sweepInput } from '../../client/commands/sweep';
import { makeTaskPaths } from '../helpers/temporal';
import { assertBuilt, runCli } from './cli-helpers';

before(() => assertBuilt());

test('a bad --step-size exits 2 with one line naming the flag, before any work', () => {
  for (const args of [
    ['run', '--demo', '--step-size', '0'],
    ['sweep', '-t', '4', '--step-size', '1.5'],
    ['train', '3d_fullres', 'nnUNetTrainerV2', '4', '0', '--step-size', 'half'],
  ]) {
    const r = runCli(args, { cwd: os.tmpdir() });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--step-size must be a fraction of the patch in \(0, 1\] \(nnU-Net: 0\.5\), got '(0|1\.5|half)'/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('the flags become TaskOptions.validation; nnU-Net\'s defaults leave it out (earlier requests compare equal)', async () => {
  const config = loadConfig({ env: {}, cwd: os.tmpdir() });
  const paths = makeTaskPaths(os.tmpdir(), 'Task004_Hippocampus');
  assert.deepEqual(taskInput(config, paths, { disableTta: true, stepSize: 1 }).options?.validation, { tta: false, stepSize: 1 });
  assert.deepEqual(taskInput(config, paths, { disableTta: true }).options?.validation, { tta: false, stepSize: 0.5 });
  assert.deepEqual(taskInput(config, paths, { stepSize: 0.75 }).options?.validation, { tta: true, stepSize: 0.75 });
  for (const defaults of [{}, { stepSize: 0.5 }]) assert.ok(!('validation' in taskInput(config, paths, defaults).options!));
  // The sweep hands the same options to every task workflow it starts.
  const sweep = await sweepInput(config, { tasks: ['Task004_Hippocampus', 'Task005_Prostate'], disableTta: true, stepSize: 1 });
  assert.deepEqual(sweep.options?.validation, { tta: false, stepSize: 1 });
});
