/** `nnunet run --demo --large`: the settings it applies for a CPU machine, and that anything the user set wins. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { loadConfig } from '../../config';
import { taskInput } from '../../client/task-input';
import { largeDemoDefaults } from '../../client/run-task';
import { makeTaskPaths } from '../helpers/temporal';
import { assertBuilt, runCli } from './cli-helpers';

const paths = makeTaskPaths(os.tmpdir(), 'Task902_DemoLarge');

test('--demo --large: 3D configurations, a 4 GB plan, 1 x 4 iterations, validation without mirroring at step 1, all said', () => {
  const said: string[] = [];
  const { config, flags } = largeDemoDefaults(loadConfig({ env: {}, cwd: os.tmpdir() }), { demo: true, large: true }, (m) => said.push(m));
  const o = taskInput(config, paths, flags).options!;
  assert.deepEqual(o.configurations, ['3d_fullres', '3d_lowres', '3d_cascade_fullres']);
  assert.equal(o.gpuMemoryTargetGb, 4);
  assert.equal(o.epochs, 1);
  assert.equal(o.iterationsPerEpoch, 4);
  assert.deepEqual(o.validation, { tta: false, stepSize: 1 });
  assert.equal(said.length, 1);
  assert.match(said[0]!, /^large demo: configurations 3d_fullres 3d_lowres 3d_cascade_fullres .*; plans for 4 GB .*; 1 epoch x 4 iterations .*; fold validation without mirroring, step 1/);
});

test('--demo --large keeps what the user chose: configurations, memory target, schedule, validation', () => {
  const base = loadConfig({ env: {}, cwd: os.tmpdir() });
  const own = { ...base, planning: { ...base.planning, gpuMemoryTargetGb: 11 } };
  const said: string[] = [];
  const { config, flags } = largeDemoDefaults(own, { demo: true, large: true, configurations: ['3d_lowres'], epochs: 2, stepSize: 0.5 }, (m) => said.push(m));
  const o = taskInput(config, paths, flags).options!;
  assert.deepEqual(o.configurations, ['3d_lowres']);
  assert.equal(o.gpuMemoryTargetGb, 11);
  assert.equal(o.epochs, 2);
  assert.ok(!('validation' in o), 'nnU-Net\'s validation defaults stay out of the input');
  assert.deepEqual(said, []);
});

test('--large without --demo exits 2 naming the fix', () => {
  assertBuilt();
  const r = runCli(['run', '-t', '4', '--large'], { cwd: os.tmpdir() });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--large goes with --demo \(nnunet run --demo --large\)/);
});
