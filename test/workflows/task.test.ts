/**
 * The task workflow against a real local Temporal dev server with mocked activities: DAG order and options,
 * failure and retry semantics, node cancellation reaching the activity, live state, attach.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createWorkers, type NnunetWorkers } from '../../worker';
import { describeTaskState, cancelTask, selectTask, startOrAttachTask, taskWorkflowIdFor } from '../../client/temporal/task-client';
import { taskStateQuery } from '../../workflows/definitions';
import type { TrainInput } from '../../activities/contract';
import type { TaskWorkflowInput } from '../../workflows/options';
import { v2FoldWorkflowId, type TaskResult } from '../../workflows/state';
import { makeTaskPaths, startTestServer, temporalUnavailable, testWorkflowBundle, waitFor, type TestServer } from '../helpers/temporal';
import { mockActivities, readEvents, type MockBehaviour, type MockEvent } from './fixtures/mock-activities';

const skip = temporalUnavailable();
const FAST = { retryInitialIntervalMs: 100, retryMaximumIntervalMs: 200, retryMaximumAttempts: 3, trainHeartbeatTimeoutMs: 5000 };

describe('task workflow on a real Temporal server', { skip }, () => {
  let t: TestServer;
  let workers: NnunetWorkers;
  let running: Promise<void>;
  let eventsDir: string;
  const behaviours = new Map<string, MockBehaviour>();

  before(async () => {
    t = await startTestServer('task-wf');
    eventsDir = path.join(t.dir, 'events');
    const activities = mockActivities(eventsDir, (task) => {
      const b = behaviours.get(task);
      if (!b) throw new Error(`no mock behaviour for ${task}`);
      return b;
    });
    workers = await createWorkers({ connection: t.native, queues: 'all', activities, maxConcurrentTraining: 6, workflowBundle: await testWorkflowBundle(), shutdownGraceTimeMs: 1000 });
    running = workers.run();
  });

  after(async () => {
    workers?.shutdown();
    await running?.catch(() => {});
    await t?.close();
  });


  function inputFor(task: string, b: MockBehaviour, options: TaskWorkflowInput['options'] = {}): TaskWorkflowInput {
    behaviours.set(task, b);
    return { paths: makeTaskPaths(t.dir, task), options, timing: FAST };
  }

  /** Events of one task: the mock records the input only on 'start', so follow nodes by their start event. */
  function eventsOf(task: string): MockEvent[] {
    const all = readEvents(eventsDir);
    const out: MockEvent[] = [];
    const current = new Map<string, boolean>(); // pid:node → belongs to task
    for (const e of all) {
      const key = `${e.pid}:${e.node}`;
      if (e.phase === 'start') current.set(key, (e.input as { paths: { taskName: string } }).paths.taskName === task);
      if (current.get(key)) out.push(e);
    }
    return out;
  }

  async function run(input: TaskWorkflowInput): Promise<TaskResult> {
    const { handle } = await startOrAttachTask(t.client, input);
    return (await handle.result()) as TaskResult;
  }

  test('cascade waits for all five lowres folds; fold subset for the cascade', async () => {
    const task = 'Task101_Cascade';
    const result = await run(inputFor(task, { planned: ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'], epochs: 2, epochMs: 20, slowNodes: { 'train/3d_lowres/3': 400 } }, {
      configurations: ['3d_lowres', '3d_cascade_fullres'],
      folds: [0, 1],
    }));
    const ev = eventsOf(task);
    const trainStarts = ev.filter((e) => e.activity === 'train' && e.phase === 'start').map((e) => e.node).sort();
    assert.deepEqual(trainStarts, ['train/3d_cascade_fullres/0', 'train/3d_cascade_fullres/1', 'train/3d_lowres/0', 'train/3d_lowres/1', 'train/3d_lowres/2', 'train/3d_lowres/3', 'train/3d_lowres/4']);
    assert.ok(ev.every((e) => e.activity !== 'train' || e.phase !== 'start' || !('validation' in (e.input as TrainInput))), 'no validation settings asked: the activity applies the defaults');
    const lastLowresEnd = Math.max(...ev.filter((e) => e.node.startsWith('train/3d_lowres') && e.phase === 'end').map((e) => e.t));
    const firstCascadeStart = Math.min(...ev.filter((e) => e.node.startsWith('train/3d_cascade') && e.phase === 'start').map((e) => e.t));
    assert.ok(firstCascadeStart >= lastLowresEnd, `cascade started ${firstCascadeStart} before the last lowres fold ended ${lastLowresEnd}`);
    // The cascade trains on 3d_fullres data: preprocess 3d_fullres and 3d_lowres, not 2d.
    assert.deepEqual(ev.filter((e) => e.activity === 'preprocess' && e.phase === 'start').map((e) => e.node).sort(), ['preprocess/3d_fullres', 'preprocess/3d_lowres']);
    const fb = ev.find((e) => e.activity === 'findBestConfiguration' && e.phase === 'start')!;
    assert.ok(fb.t >= Math.max(...ev.filter((e) => e.activity === 'train' && e.phase === 'end').map((e) => e.t)));
    assert.deepEqual((fb.input as { folds: unknown }).folds, [0, 1]);
    assert.deepEqual(result.configurations, ['3d_lowres', '3d_cascade_fullres']);
    assert.equal(result.training?.length, 7);
    assert.equal(result.best?.winner.name, '3d_cascade_fullres');
    assert.ok(result.postprocessing);
    const state = await t.client.workflow.getHandle(taskWorkflowIdFor(task)).query(taskStateQuery);
    assert.equal(state.status, 'completed');
    for (const n of state.nodes.filter((n) => n.configuration !== '2d' && n.configuration !== '3d_fullres' || n.kind !== 'train')) {
      if (n.id === 'train/3d_fullres/0') continue;
      assert.ok(n.status === 'done' || n.status === 'skipped', `${n.id} is ${n.status}`);
    }
  });

  test('no cascade without a planned lowres stage; fold subset and fold all', async () => {
    const task = 'Task102_NoLowres';
    const validation = { tta: false, stepSize: 1 };
    const plansIdentifiers = { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1_4GB' };
    const result = await run(inputFor(task, { planned: ['2d', '3d_fullres'], epochs: 1, plansIdentifiers }, { folds: [1, 'all'], validation }));
    const ev = eventsOf(task);
    const trainStarts = ev.filter((e) => e.activity === 'train' && e.phase === 'start').map((e) => e.node).sort();
    assert.deepEqual(trainStarts, ['train/2d/1', 'train/2d/all', 'train/3d_fullres/1', 'train/3d_fullres/all']);
    for (const e of ev.filter((x) => x.activity === 'train' && x.phase === 'start')) {
      assert.deepEqual((e.input as TrainInput).validation, validation, `${e.node} gets the validation settings`);
    }
    const fb = ev.find((e) => e.activity === 'findBestConfiguration' && e.phase === 'start')!;
    assert.deepEqual((fb.input as { folds: unknown; configurations: unknown }).folds, [1]);
    assert.deepEqual((fb.input as { configurations: unknown }).configurations, ['2d', '3d_fullres']);
    assert.deepEqual((fb.input as { plansIdentifiers: unknown }).plansIdentifiers, plansIdentifiers, 'find-best gets the 2D and the 3D plans identifier');
    const pp = ev.find((e) => e.activity === 'postprocess' && e.phase === 'start')!;
    assert.deepEqual((pp.input as { plansIdentifiers: unknown }).plansIdentifiers, plansIdentifiers, 'postprocess gets both too');
    assert.deepEqual(result.configurations, ['2d', '3d_fullres']);
    const state = await t.client.workflow.getHandle(taskWorkflowIdFor(task)).query(taskStateQuery);
    const lowres = state.nodes.filter((n) => n.configuration === '3d_lowres' || n.configuration === '3d_cascade_fullres');
    assert.ok(lowres.length > 0 && lowres.every((n) => n.status === 'skipped'), 'unplanned configurations shown as skipped');
  });

  test('a failed fold fails the task with its error and attempts in state; the rest is stopped', async () => {
    const task = 'Task103_FoldFails';
    const input = inputFor(task, {
      planned: ['2d'],
      epochs: 400,
      epochMs: 50,
      failures: { 'train/2d/2': { kind: 'Error', times: 99, message: 'CUDA out of memory (mock)' } },
    }, { folds: [0, 1, 2] });
    const { handle } = await startOrAttachTask(t.client, input);
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && /train\/2d\/2 failed: Error: CUDA out of memory/.test(String(err.cause?.message)));
    const state = await handle.query(taskStateQuery);
    const failed = state.nodes.find((n) => n.id === 'train/2d/2')!;
    assert.equal(state.status, 'failed');
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /CUDA out of memory \(mock\)/);
    assert.equal(failed.attempt, 3, 'retried up to maximumAttempts, the attempt shown');
    assert.equal(state.nodes.find((n) => n.id === 'findBest')!.status, 'skipped');
    const ev = eventsOf(task);
    assert.equal(ev.filter((e) => e.node === 'train/2d/2' && e.phase === 'start').length, 3);
    assert.ok(!ev.some((e) => e.activity === 'findBestConfiguration'));
    for (const id of ['train/2d/0', 'train/2d/1']) {
      assert.equal(state.nodes.find((n) => n.id === id)!.status, 'cancelled', `${id} stopped when the task failed`);
      assert.ok(ev.some((e) => e.node === id && e.phase === 'cancelled'), `${id}'s activity received the cancellation`);
    }
  });

  test('bad input is not retried and names the file', async () => {
    const task = 'Task104_BadInput';
    const input = inputFor(task, { planned: ['2d'], failures: { verify: { kind: 'BadInput', times: 99, message: 'label 3 is not in dataset.json labels' } } });
    const { handle } = await startOrAttachTask(t.client, input);
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && /verify failed: BadInput: label 3/.test(String(err.cause?.message)));
    const ev = eventsOf(task);
    assert.equal(ev.filter((e) => e.node === 'verify' && e.phase === 'start').length, 1, 'one attempt only');
    assert.ok(!ev.some((e) => e.activity === 'fingerprint'));
    const state = await handle.query(taskStateQuery);
    assert.equal(state.nodes.find((n) => n.id === 'verify')!.status, 'failed');
    assert.equal(state.nodes.find((n) => n.id === 'plan')!.status, 'skipped');
  });

  test('bad options fail at once with a BadInput failure', async () => {
    const input = inputFor('Task105_BadOptions', { planned: ['2d'] }, { folds: [9 as 0] });
    const { handle } = await startOrAttachTask(t.client, input);
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && /unknown fold '9'/.test(String(err.cause?.message)));
  });

  test('live state shows heartbeat progress; cancelling a training node cancels its activity; attach', async () => {
    const task = 'Task106_Cancel';
    const input = inputFor(task, { planned: ['2d'], epochs: 400, epochMs: 50 }, { folds: [0, 1] });
    const first = await startOrAttachTask(t.client, input);
    assert.equal(first.attached, false);
    const second = await startOrAttachTask(t.client, input);
    assert.equal(second.attached, true, 'a second start attaches');
    assert.equal(second.status, 'RUNNING');
    const runId = (await first.handle.describe()).runId;
    assert.equal((await second.handle.describe()).runId, runId);
    const workflowId = taskWorkflowIdFor(task);
    const live = await waitFor('heartbeat progress in state', async () => {
      const s = await describeTaskState(t.client, workflowId);
      const n = s.nodes.find((x) => x.id === 'train/2d/0');
      return n?.progress && n.progress.epoch >= 2 ? n : undefined;
    }, 30_000, 200);
    assert.equal(live.status, 'running');
    assert.equal(live.attempt, 1);
    assert.equal(live.progress?.totalEpochs, 400);
    assert.match(live.progress?.checkpoint ?? '', /^ckpt-\d+$/);
    await assert.rejects(cancelTask(t.client, workflowId, 'train/2d/9'), /no node 'train\/2d\/9'/);
    await cancelTask(t.client, workflowId, 'train/2d/0');
    await cancelTask(t.client, workflowId, 'train/2d/1');
    const result = (await first.handle.result()) as TaskResult;
    assert.equal(result.best, undefined);
    const state = await first.handle.query(taskStateQuery);
    assert.equal(state.nodes.find((n) => n.id === 'train/2d/0')!.status, 'cancelled');
    assert.equal(state.nodes.find((n) => n.id === 'findBest')!.status, 'skipped');
    const ev = eventsOf(task);
    assert.ok(ev.some((e) => e.node === 'train/2d/0' && e.phase === 'cancelled'), 'the activity saw the cancellation');
    const third = await startOrAttachTask(t.client, input);
    assert.deepEqual([third.attached, third.status], [true, 'COMPLETED'], 'a finished task reports its result');
    const list = [];
    for await (const w of t.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) list.push(w);
    assert.equal(list.length, 1, 'one workflow run for the task');
  });

  test('a completed task: the same request attaches, a different one starts a new run', async () => {
    const task = 'Task109_Rerequest';
    const input = inputFor(task, { planned: ['2d', '3d_fullres'], epochs: 2, epochMs: 10 }, { configurations: ['2d'], folds: [0] });
    await run(input);
    const same = await startOrAttachTask(t.client, input);
    assert.deepEqual([same.attached, same.status], [true, 'COMPLETED']);
    const other = await startOrAttachTask(t.client, { ...input, options: { configurations: ['3d_fullres'], folds: [0] } });
    assert.equal(other.attached, false, 'not the finished 2d run re-reported');
    const result = (await other.handle.result()) as TaskResult;
    assert.deepEqual(result.configurations, ['3d_fullres']);
    assert.ok(eventsOf(task).some((e) => e.node === 'train/3d_fullres/0' && e.phase === 'start'), '3d_fullres trained');
  });

  test('whole-task cancel ends the run as cancelled', async () => {
    const task = 'Task107_CancelAll';
    const { handle } = await startOrAttachTask(t.client, inputFor(task, { planned: ['2d'], epochs: 400, epochMs: 50 }, { folds: [0] }));
    await waitFor('training to run', () => (eventsOf(task).some((e) => e.activity === 'train' && e.phase === 'progress') ? true : undefined));
    await cancelTask(t.client, taskWorkflowIdFor(task));
    await assert.rejects(handle.result(), /cancel/i);
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.ok(eventsOf(task).some((e) => e.node === 'train/2d/0' && e.phase === 'cancelled'));
    assert.ok(fs.existsSync(eventsDir));
  });

  test('selection change while training: added fold runs, dropped configuration is cancelled, find-best follows', async () => {
    const task = 'Task108_Select';
    const { handle } = await startOrAttachTask(t.client, inputFor(task, { planned: ['2d', '3d_fullres'], epochs: 60, epochMs: 50, slowNodes: { 'train/3d_fullres/0': 200 } }, { folds: [0] }));
    await waitFor('training to run', () => (eventsOf(task).some((e) => e.node === 'train/3d_fullres/0' && e.phase === 'progress') ? true : undefined));
    await selectTask(t.client, handle.workflowId, { configurations: ['2d'], folds: [0, 1] });
    const result = (await handle.result()) as TaskResult;
    const ev = eventsOf(task);
    assert.ok(ev.some((e) => e.node === 'train/2d/1' && e.phase === 'end'), 'the added fold trained');
    assert.ok(ev.some((e) => e.node === 'train/3d_fullres/0' && e.phase === 'cancelled'), 'the dropped configuration was cancelled');
    const fb = ev.find((e) => e.activity === 'findBestConfiguration' && e.phase === 'start')!;
    assert.deepEqual([(fb.input as { configurations: unknown }).configurations, (fb.input as { folds: unknown }).folds], [['2d'], [0, 1]]);
    assert.deepEqual(result.configurations, ['2d']);
    assert.equal(result.best?.winner.name, '2d');
    const state = await handle.query(taskStateQuery);
    const dropped = state.nodes.find((n) => n.id === 'train/3d_fullres/0')!;
    assert.deepEqual([dropped.status, dropped.error], ['cancelled', 'removed from the selection']);
    assert.match((state.notes ?? []).join('\n'), /selection changed: configurations 2d, folds 0 1/);
  });

  test('predict: the test set is predicted last, with find-best\'s winner, on the GPU queue (nnunet run --predict)', async () => {
    const task = 'Task109_Predict';
    const plansIdentifiers = { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1_4GB' };
    const result = await run(inputFor(task, { planned: ['2d', '3d_fullres'], epochs: 1, plansIdentifiers }, { folds: [0], predict: true }));
    const ev = eventsOf(task);
    const predict = ev.find((e) => e.activity === 'predictTestSet' && e.phase === 'start');
    assert.ok(predict, 'the predict node ran');
    const ppEnd = ev.find((e) => e.activity === 'postprocess' && e.phase === 'end')!;
    assert.ok(predict.t >= ppEnd.t, 'after postprocessing');
    const input = predict.input as { winner: { name: string }; plansIdentifiers: unknown };
    assert.equal(input.winner.name, result.best?.winner.name);
    assert.deepEqual(input.plansIdentifiers, plansIdentifiers);
    assert.deepEqual(result.prediction, { outputDir: `/results/predictions/${result.best?.winner.name}`, cases: 2 });
    const state = await t.client.workflow.getHandle(taskWorkflowIdFor(task)).query(taskStateQuery);
    assert.equal(state.nodes.find((n) => n.id === 'predict')?.status, 'done');
  });

  test('method v2: every step gets method v2, training its plans name; the cascade after all five lowres folds, in v2 fold workflows; v1 inputs carry no method', async () => {
    const task = 'Task110_MethodV2';
    const plansIdentifiers = { '2d': 'nnUNetResEncUNetMPlans', '3d': 'nnUNetResEncUNetMPlans' };
    const input = inputFor(task, { planned: ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'], epochs: 1, plansIdentifiers }, { folds: [0], predict: true, method: 'v2', planner: 'nnUNetPlannerResEncM', trainer: 'nnUNetTrainer' });
    // The id of the v1 run (taskWorkflowIdOf would add -v2-<plans>), so the replay test below finds it.
    const { handle } = await startOrAttachTask(t.client, input, { workflowId: taskWorkflowIdFor(task) });
    const result = (await handle.result()) as TaskResult;
    assert.deepEqual(result.configurations, ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres']);
    assert.ok(!result.notes?.some((n) => /3d_cascade_fullres skipped/.test(n)));
    const ev = eventsOf(task);
    const lowresEnds = ev.filter((e) => e.activity === 'train' && e.phase === 'end' && e.node.startsWith('train/3d_lowres/'));
    assert.equal(lowresEnds.length, 5, 'all five lowres folds, for the cascade');
    const cascadeStart = ev.find((e) => e.activity === 'train' && e.phase === 'start' && e.node === 'train/3d_cascade_fullres/0')!;
    assert.ok(lowresEnds.every((e) => cascadeStart.t >= e.t), 'the cascade starts after every lowres fold ended');
    const fb = ev.find((e) => e.activity === 'findBestConfiguration' && e.phase === 'start')!;
    assert.deepEqual((fb.input as { configurations: unknown }).configurations, ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'], 'find-best considers the cascade');
    for (const [c, f] of [['2d', 0], ['3d_lowres', 4], ['3d_cascade_fullres', 0]] as const) {
      const fold = await t.client.workflow.getHandle(v2FoldWorkflowId(task, 'nnUNetTrainer', 'nnUNetResEncUNetMPlans', c, f)).describe();
      assert.equal(fold.status.name, 'COMPLETED', `${c} fold ${f} ran under nnUNetv2_train's fold workflow id`);
    }
    const starts = ev.filter((e) => e.phase === 'start');
    for (const activity of ['fingerprint', 'plan', 'preprocess', 'train', 'findBestConfiguration', 'postprocess', 'predictTestSet']) {
      const mine = starts.filter((e) => e.activity === activity);
      assert.ok(mine.length > 0, `${activity} ran`);
      for (const e of mine) assert.equal((e.input as { method?: string }).method, 'v2', `${e.node} gets method v2`);
    }
    assert.equal((starts.find((e) => e.activity === 'plan')!.input as { planner?: string }).planner, 'nnUNetPlannerResEncM');
    for (const e of starts.filter((x) => x.activity === 'train')) {
      const train = e.input as TrainInput;
      assert.deepEqual([train.plansName, train.plansIdentifier, train.trainer], ['nnUNetResEncUNetMPlans', 'nnUNetResEncUNetMPlans', 'nnUNetTrainer'], e.node);
    }
    const v1 = eventsOf('Task109_Predict').filter((e) => e.phase === 'start');
    assert.ok(v1.length > 0 && v1.every((e) => !('method' in (e.input as object))), 'a v1 task\'s inputs have no method field');
  });

  test('the histories made in this run replay deterministically', async (tc) => {
    // Committed histories of earlier code are replayed by replay.test.ts; this covers this run's own.
    const tasks = [...behaviours.keys()];
    if (tasks.length === 0) return tc.skip('no task ran in this process (name filter): nothing to replay');
    const histories = [];
    for (const task of tasks) {
      const workflowId = taskWorkflowIdFor(task);
      histories.push({ workflowId, history: await t.client.workflow.getHandle(workflowId).fetchHistory() });
    }
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: await testWorkflowBundle() }, histories)) results.push(r);
    assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error?.message}`), []);
    assert.equal(results.length, tasks.length, 'every task of this run replayed');
    tc.diagnostic(`${results.length} histories replayed`);
  });
});
