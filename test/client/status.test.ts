/**
 * `nnunet status -t X`: which run it shows. v1's task workflow, or with --method v2 (or planning.method v2) the
 * v2 run of the planner (--planner, else planning.v2Planner, else ExperimentPlanner), on the v2 Dataset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type Config } from '../../config';
import { statusTarget } from '../../client/commands/status';
import { UsageError } from '../../client/context';
import { v2DatasetPaths } from '../../client/v2-dataset';
import { writeDemoDataset } from '../../activities/io/demo';

test('status finds the run of the method and planner, from flags or the config as nnunet run does', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-status-'));
  try {
    const base = loadConfig({ env: {} });
    const c: Config = { ...base, paths: { rawDataBase: path.join(root, 'base'), preprocessed: path.join(root, 'pre'), results: path.join(root, 'res') } };
    const withPlanning = (planning: Partial<Config['planning']>): Config => ({ ...c, planning: { ...c.planning, ...planning } });
    const task = await writeDemoDataset(c.paths.rawDataBase, { taskId: 956, cases: 2, testCases: 0 });
    assert.ok(task);
    const target = (config: Config, flags: Parameters<typeof statusTarget>[1]) => {
      const t = statusTarget(config, { task: '956', ...flags });
      return [t.paths.taskName, t.workflowId];
    };
    assert.deepEqual(target(c, {}), ['Task956_Demo', 'nnunet-task-956']);
    // Before `nnunet run --method v2` converted the Task, the id is the same (it names the number); the Task is shown.
    assert.deepEqual(target(c, { method: 'v2' }), ['Task956_Demo', 'nnunet-task-956-v2-nnUNetPlans']);
    const dataset = await v2DatasetPaths(c, statusTarget(c, { task: '956' }).paths, () => {});
    assert.equal(dataset.taskName, 'Dataset956_Demo');
    const v2 = statusTarget(c, { task: '956', method: 'v2' });
    assert.deepEqual([v2.paths, v2.workflowId], [dataset, 'nnunet-task-956-v2-nnUNetPlans'], 'the converted Dataset, as the v2 run has it');
    assert.deepEqual(target(c, { method: 'v2', planner: 'nnUNetPlannerResEncM' }), ['Dataset956_Demo', 'nnunet-task-956-v2-nnUNetResEncUNetMPlans']);
    assert.deepEqual(target(withPlanning({ method: 'v2', v2Planner: 'nnUNetPlannerResEncL' }), {}), ['Dataset956_Demo', 'nnunet-task-956-v2-nnUNetResEncUNetLPlans']);
    assert.deepEqual(target(withPlanning({ method: 'v2' }), { method: 'v1' }), ['Task956_Demo', 'nnunet-task-956'], 'the flag wins over the config');
    assert.throws(() => statusTarget(c, { task: '956', planner: 'nnUNetPlannerResEncM' }), (e: unknown) => e instanceof UsageError && /add --method v2/.test(e.message));
    assert.throws(() => statusTarget(c, { task: '956', method: 'v2', planner: 'ExperimentPlanner3D_v21' }), (e: unknown) => e instanceof UsageError && /not an nnU-Net v2 planner/.test(e.message));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
