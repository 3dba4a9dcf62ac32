/** The sweep workflow on a real dev server (mocked activities), and its report rows and files. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createWorkers, type NnunetWorkers } from '../../worker';
import { startOrAttachSweep } from '../../client/temporal/task-client';
import { sweepCsv, sweepMarkdown } from '../../activities/report/activity';
import { sweepRows, type SweepInput, type SweepResult } from '../../workflows/sweep-types';
import { makeTaskPaths, startTestServer, temporalUnavailable, testWorkflowBundle, type TestServer } from '../helpers/temporal';
import { mockActivities, readEvents, type MockBehaviour } from './fixtures/mock-activities';

const ENSEMBLE = 'ensemble_2d__nnUNetTrainerV2__nnUNetPlansv2.1--3d_fullres__nnUNetTrainerV2__nnUNetPlansv2.1';

test('sweep rows: find-best Dice per configuration, failed tasks keep their error; CSV and Markdown', () => {
  const rows = sweepRows([
    {
      taskId: 4, task: 'Task004_Hippocampus', workflowId: 'nnunet-task-004', status: 'completed',
      result: {
        task: 'Task004_Hippocampus', configurations: ['2d', '3d_fullres'], wallTimeMs: 61_000,
        training: [
          { configuration: '2d', fold: 0, epochs: 2, validationMeanDice: 0.5, wallTimeMs: 10_000 },
          { configuration: '3d_fullres', fold: 0, epochs: 2, validationMeanDice: 0.6, wallTimeMs: 20_000 },
          { configuration: '3d_fullres', fold: 1, epochs: 2, validationMeanDice: 0.7, wallTimeMs: 30_000 },
        ],
        best: {
          winner: { name: '3d_fullres', configurations: ['3d_fullres'], meanForegroundDice: 0.88 },
          candidates: [
            { name: '3d_fullres', configurations: ['3d_fullres'], meanForegroundDice: 0.88, dicePerClass: { '1': 0.9, '2': 0.86 } },
            { name: ENSEMBLE, configurations: ['2d', '3d_fullres'], meanForegroundDice: 0.87 },
          ],
          winnerDicePerClass: {}, predictCommands: [],
        },
      },
    },
    { taskId: 5, task: 'Task005_Prostate', workflowId: 'nnunet-task-005', status: 'failed', error: 'BadInput: broken, "really"' },
  ], ['2d', '3d_fullres']);
  assert.deepEqual(rows[0], {
    task: 'Task004_Hippocampus', configuration: '2d', status: 'completed', meanForegroundDice: 0.5, dicePerClass: undefined,
    bestConfiguration: '3d_fullres', bestEnsemble: ENSEMBLE, bestEnsembleDice: 0.87, epochs: 2, trainTimeS: 10, taskWallTimeS: 61,
  });
  assert.deepEqual(rows[1].dicePerClass, { '1': 0.9, '2': 0.86 });
  assert.equal(rows[1].meanForegroundDice, 0.88, 'find-best figure preferred');
  assert.equal(rows[1].trainTimeS, 50);
  assert.deepEqual(rows.slice(2).map((r) => [r.task, r.configuration, r.status]), [['Task005_Prostate', '2d', 'failed'], ['Task005_Prostate', '3d_fullres', 'failed']]);
  const csv = sweepCsv(rows).trim().split('\n');
  assert.equal(csv[0], 'task,configuration,status,mean_fg_dice,dice_1,dice_2,best_configuration,best_ensemble,best_ensemble_dice,epochs,train_time_s,task_wall_time_s,error');
  assert.equal(csv[1], `Task004_Hippocampus,2d,completed,0.5000,,,3d_fullres,${ENSEMBLE},0.8700,2,10.0,61.0,`);
  assert.equal(csv[3], 'Task005_Prostate,2d,failed,,,,,,,,,,"BadInput: broken, ""really"""');
  assert.match(sweepMarkdown('s', rows), /\| Task004_Hippocampus \| 3d_fullres \| completed \| 0\.8800 \| 0\.9000 \| 0\.8600 \| 3d_fullres \| ensemble_\S+ \| 0\.8700 \| 2 \| 50\.0 \| 61\.0 \|  \|/);
});

describe('sweep workflow on a real Temporal server', { skip: temporalUnavailable() }, () => {
  let t: TestServer;
  let workers: NnunetWorkers;
  let running: Promise<void>;
  let eventsDir: string;
  const behaviours: Record<string, MockBehaviour> = {
    Task301_A: { planned: ['2d', '3d_fullres'], epochs: 2, epochMs: 100 },
    Task302_B: { planned: ['2d', '3d_fullres'], epochs: 2, epochMs: 100 },
    Task303_C: { planned: ['2d', '3d_fullres'], failures: { verify: { kind: 'BadInput', times: 9, message: 'imagesTr is empty' } } },
    Task304_D: { planned: ['2d'], epochs: 2, epochMs: 100 },
  };
  before(async () => {
    t = await startTestServer('sweep');
    eventsDir = path.join(t.dir, 'events');
    workers = await createWorkers({ connection: t.native, queues: 'all', activities: mockActivities(eventsDir, (task) => behaviours[task]), maxConcurrentTraining: 4, workflowBundle: await testWorkflowBundle(), shutdownGraceTimeMs: 1000 });
    running = workers.run();
  });
  after(async () => {
    workers?.shutdown();
    await running?.catch(() => {});
    await t?.close();
  });

  test('children with a concurrency limit, continue-as-new, failed task kept, report files written', async (tc) => {
    const reportDir = path.join(t.dir, 'reports');
    const input: SweepInput = {
      name: 'bench',
      tasks: Object.keys(behaviours).map((name, i) => ({ taskId: 301 + i, paths: makeTaskPaths(t.dir, name) })),
      configurations: ['2d', '3d_fullres'],
      options: { folds: [0, 1] },
      timing: { retryInitialIntervalMs: 100, trainHeartbeatTimeoutMs: 5000 },
      maxConcurrentTasks: 2,
      reportDir,
      maxHistoryEvents: 15,
    };
    const { handle, attached } = await startOrAttachSweep(t.client, input);
    assert.equal(attached, false);
    const firstRunId = (await handle.describe()).runId;
    const result = (await handle.result()) as SweepResult;
    tc.diagnostic(`sweep of 4 tasks: ${result.wallTimeMs} ms, ${result.runs} continue-as-new`);
    assert.ok(result.runs >= 1, 'continued as new at least once');
    assert.notEqual((await handle.describe()).runId, firstRunId);
    assert.deepEqual(result.rows.map((r) => `${r.task}/${r.configuration}/${r.status}`).sort(), [
      'Task301_A/2d/completed', 'Task301_A/3d_fullres/completed',
      'Task302_B/2d/completed', 'Task302_B/3d_fullres/completed',
      'Task303_C/2d/failed', 'Task303_C/3d_fullres/failed',
      'Task304_D/2d/completed',
    ]);
    assert.match(result.rows.find((r) => r.task === 'Task303_C')!.error ?? '', /imagesTr is empty/);
    for (const r of result.rows.filter((x) => x.status === 'completed')) {
      assert.equal(typeof r.meanForegroundDice, 'number');
      assert.ok(r.bestConfiguration);
    }
    const csv = fs.readFileSync(result.report.csvFile, 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + result.rows.length);
    assert.ok(fs.readFileSync(result.report.markdownFile, 'utf8').startsWith('# Sweep bench'));
    // Never more than two tasks at once: each task spans its first to its last activity event.
    const spans = new Map<string, [number, number]>();
    for (const e of readEvents(eventsDir)) {
      const task = (e.input as { paths?: { taskName: string } } | undefined)?.paths?.taskName;
      if (!task) continue;
      const s = spans.get(task) ?? [e.t, e.t];
      spans.set(task, [Math.min(s[0], e.t), Math.max(s[1], e.t)]);
    }
    for (const [task, [start]] of spans) {
      const overlapping = [...spans.values()].filter(([s, end]) => s <= start && end >= start).length;
      assert.ok(overlapping <= 2, `${overlapping} tasks running when ${task} started`);
    }
    const again = await startOrAttachSweep(t.client, input);
    assert.deepEqual([again.attached, again.status], [true, 'COMPLETED']);
  });

  test('method variants: each task once per variant under its own id and options; rows and report carry the variant', async () => {
    const paths = makeTaskPaths(t.dir, 'Task305_V');
    behaviours.Task305_V = { planned: ['2d', '3d_fullres'], epochs: 1, epochMs: 20 };
    const input: SweepInput = {
      name: 'variants',
      tasks: [
        { taskId: 305, paths, variant: 'v1', workflowId: 'nnunet-task-305', options: {}, task: 'Task305_V' },
        { taskId: 305, paths, variant: 'v2:nnUNetPlannerResEncM', workflowId: 'nnunet-task-305-v2-nnUNetResEncUNetMPlans', options: { method: 'v2', planner: 'nnUNetPlannerResEncM', trainer: 'nnUNetTrainer' }, task: 'Task305_V' },
      ],
      configurations: ['2d'],
      options: { folds: [0], trainer: 'nnUNetTrainerV2' },
      timing: { retryInitialIntervalMs: 100, trainHeartbeatTimeoutMs: 5000 },
      reportDir: path.join(t.dir, 'reports-variants'),
    };
    const result = (await (await startOrAttachSweep(t.client, input)).handle.result()) as SweepResult;
    assert.deepEqual(result.rows.map((r) => [r.task, r.variant, r.configuration, r.status]), [
      ['Task305_V', 'v1', '2d', 'completed'], ['Task305_V', 'v2:nnUNetPlannerResEncM', '2d', 'completed'],
    ]);
    for (const id of ['nnunet-task-305', 'nnunet-task-305-v2-nnUNetResEncUNetMPlans']) assert.equal((await t.client.workflow.getHandle(id).describe()).status.name, 'COMPLETED');
    const plans = readEvents(eventsDir).filter((e) => e.activity === 'plan' && e.phase === 'start' && (e.input as { paths: { taskName: string } }).paths.taskName === 'Task305_V');
    assert.deepEqual(plans.map((e) => (e.input as { method?: string; planner?: string })).map((i) => [i.method, i.planner]).sort(), [[undefined, undefined], ['v2', 'nnUNetPlannerResEncM']]);
    const csv = fs.readFileSync(result.report.csvFile, 'utf8').trim().split('\n');
    assert.ok(csv[0]!.startsWith('task,variant,configuration,status,'), csv[0]);
    assert.ok(csv[2]!.startsWith('Task305_V,v2:nnUNetPlannerResEncM,2d,completed,'), csv[2]);
  });
});
