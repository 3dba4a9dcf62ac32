/**
 * `--method v2` of nnunet run and sweep on the client: the method and v2 settings from flags and config, the task
 * workflow's input and id, the sweep's variants, and v1 Tasks converted once to the v2 Dataset they run on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type Config } from '../../config';
import { taskInput } from '../../client/task-input';
import { methodFor, v2Settings } from '../../client/settings';
import { UsageError } from '../../client/context';
import { parseVariants, sweepInput } from '../../client/commands/sweep';
import { taskWorkflowIdOf } from '../../client/temporal/task-client';
import { v2DatasetPaths } from '../../client/v2-dataset';
import { writeDemoDataset } from '../../activities/io/demo';

const base = loadConfig({ env: {} });
const config = (planning: Partial<Config['planning']> = {}, trainer?: string): Config =>
  ({ ...base, planning: { ...base.planning, ...planning }, training: { ...base.training, trainer: trainer ?? base.training.trainer } });
const paths = { taskName: 'Dataset004_X', rawDir: '/r', croppedDir: '/c', preprocessedDir: '/p', resultsDir: '/res' };

test('the method: the flag, else planning.method, else v1', () => {
  assert.equal(methodFor(config()), 'v1');
  assert.equal(methodFor(config({ method: 'v2' })), 'v2');
  assert.equal(methodFor(config({ method: 'v2' }), 'v1'), 'v1');
  assert.throws(() => methodFor(config(), 'v3'), (e: unknown) => e instanceof UsageError && /--method v3: use v1/.test(e.message));
});

test('v2 settings: planner, its plans name, its own GPU target unless one is set, v2\'s default trainer', () => {
  assert.deepEqual(v2Settings(config()), { planner: 'ExperimentPlanner', plansName: 'nnUNetPlans', trainer: 'nnUNetTrainer' });
  assert.deepEqual(v2Settings(config({ v2Planner: 'nnUNetPlannerResEncL' })), { planner: 'nnUNetPlannerResEncL', plansName: 'nnUNetResEncUNetLPlans', trainer: 'nnUNetTrainer' });
  assert.deepEqual(v2Settings(config({ gpuMemoryTargetGb: 11 }), { planner: 'nnUNetPlannerResEncM' }), { planner: 'nnUNetPlannerResEncM', plansName: 'nnUNetResEncUNetMPlans', gpuMemoryTargetGb: 11, trainer: 'nnUNetTrainer' });
  assert.equal(v2Settings(config({}, 'nnUNetTrainer_5epochs')).trainer, 'nnUNetTrainer_5epochs');
  assert.throws(() => v2Settings(config(), { planner: 'ExperimentPlanner3D_v21' }), (e: unknown) => e instanceof UsageError && /not an nnU-Net v2 planner/.test(e.message));
  assert.throws(() => v2Settings(config(), { trainer: 'nnUNetTrainerV2' }), (e: unknown) => e instanceof UsageError && /not an nnU-Net v2 trainer/.test(e.message));
});

test('the task workflow input and id: v1 unchanged, v2 with method, planner and trainer; one id per plans name', () => {
  const v1 = taskInput(config(), paths, {});
  assert.ok(!('method' in v1.options!));
  assert.equal(v1.options!.trainer, 'nnUNetTrainerV2');
  assert.equal(taskWorkflowIdOf(v1), 'nnunet-task-004');
  assert.throws(() => taskInput(config(), paths, { planner: 'nnUNetPlannerResEncM' }), (e: unknown) => e instanceof UsageError && /add --method v2/.test(e.message));
  const v2 = taskInput(config(), paths, { method: 'v2' });
  assert.deepEqual([v2.options!.method, v2.options!.planner, v2.options!.trainer, v2.options!.gpuMemoryTargetGb], ['v2', 'ExperimentPlanner', 'nnUNetTrainer', undefined]);
  assert.equal(taskWorkflowIdOf(v2), 'nnunet-task-004-v2-nnUNetPlans');
  assert.throws(() => taskInput(config(), paths, { method: 'v2', disableTta: true }), (e: unknown) => e instanceof UsageError && /nnU-Net v2's fold validation has no such options/.test(e.message));
  assert.equal(taskWorkflowIdOf(taskInput(config(), paths, { method: 'v2', planner: 'nnUNetPlannerResEncM' })), 'nnunet-task-004-v2-nnUNetResEncUNetMPlans');
});

test('--variants: v1, v2, v2:<planner>; anything else is a usage error', () => {
  assert.deepEqual(parseVariants(['v1,v2', 'v2:nnUNetPlannerResEncM']), [
    { name: 'v1', method: 'v1' }, { name: 'v2', method: 'v2' }, { name: 'v2:nnUNetPlannerResEncM', method: 'v2', planner: 'nnUNetPlannerResEncM' },
  ]);
  assert.deepEqual(parseVariants(undefined), []);
  for (const bad of [['v3'], ['v1:X'], ['v2:'], ['v2,v2'], ['v2:a:b']]) assert.throws(() => parseVariants(bad), UsageError, bad.join());
});

test('a sweep with variants: each task once per variant, v2 on the Dataset converted from the v1 Task (once)', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2client-'));
  try {
    const c: Config = { ...config(), paths: { rawDataBase: path.join(root, 'base'), preprocessed: path.join(root, 'pre'), results: path.join(root, 'res') } };
    await writeDemoDataset(c.paths.rawDataBase, { taskId: 954, cases: 2, testCases: 0 });
    const said: string[] = [];
    const input = await sweepInput(c, { tasks: ['954'], variants: ['v1,v2,v2:nnUNetPlannerResEncM'], epochs: 1 }, (m) => said.push(m));
    assert.equal(input.name, '954_v1_v2_v2-nnUNetPlannerResEncM');
    assert.deepEqual(input.tasks.map((t) => [t.variant, t.task, t.paths.taskName, t.workflowId, t.options?.planner]), [
      ['v1', 'Task954_Demo', 'Task954_Demo', 'nnunet-task-954', undefined],
      ['v2', 'Task954_Demo', 'Dataset954_Demo', 'nnunet-task-954-v2-nnUNetPlans', 'ExperimentPlanner'],
      ['v2:nnUNetPlannerResEncM', 'Task954_Demo', 'Dataset954_Demo', 'nnunet-task-954-v2-nnUNetResEncUNetMPlans', 'nnUNetPlannerResEncM'],
    ]);
    assert.equal(said.filter((m) => /converting the v1 task Task954_Demo/.test(m)).length, 1, 'converted once, then found');
    const v2 = input.tasks[1]!;
    assert.equal(v2.paths.resultsDir, path.resolve(c.paths.results), 'v2 models live under nnUNet_results itself');
    assert.equal(input.tasks[0]!.paths.resultsDir, path.resolve(c.paths.results, 'nnUNet'));
    assert.equal(input.options?.epochs, 1);
    assert.ok(!('method' in input.options!), 'the sweep-wide options are v1\'s; variants carry their own');
    // A v2 Dataset is used as it is.
    assert.deepEqual(await v2DatasetPaths(c, v2.paths, (m) => said.push(m)), v2.paths);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
