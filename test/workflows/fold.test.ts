/**
 * The fold workflow (what nnUNet_train runs) on a real Temporal server with mocked activities: one train activity
 * under its own id; without -c every new run gets a new start-over token, which the activity's retries share
 * (so a retry continues instead of starting over again); the `state` query shows its single node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createWorkers, type NnunetWorkers } from '../../worker';
import { startOrAttach, startOrAttachTask } from '../../client/temporal/task-client';
import { taskStateQuery } from '../../workflows/definitions';
import type { TrainInput } from '../../activities/contract';
import type { FoldWorkflowInput } from '../../workflows/fold';
import { foldWorkflowId, v2FoldWorkflowId, type TaskResult } from '../../workflows/state';
import { makeTaskPaths, startTestServer, temporalUnavailable, testWorkflowBundle, waitFor, type TestServer } from '../helpers/temporal';
import { refuseFoldOfRunningTask } from '../../client/run-fold';
import { mockActivities, readEvents } from './fixtures/mock-activities';

const skip = temporalUnavailable();
const FAST = { retryInitialIntervalMs: 100, retryMaximumIntervalMs: 200, retryMaximumAttempts: 3, trainHeartbeatTimeoutMs: 5000 };

describe('fold workflow on a real Temporal server', { skip }, () => {
  let t: TestServer;
  let workers: NnunetWorkers;
  let running: Promise<void>;
  let eventsDir: string;

  before(async () => {
    t = await startTestServer('fold-wf');
    eventsDir = path.join(t.dir, 'events');
    const activities = mockActivities(eventsDir, (task) => ({
      planned: ['2d'], epochs: 2, epochMs: 20, failures: { 'train/2d/2': { kind: 'Error', times: 1, message: 'a transient fault' } },
      ...(task === 'Task908_Busy' || task === 'Dataset910_BusyV2' ? { slowNodes: { 'train/2d/0': 1500 } } : {}),
      ...(task === 'Task909_Pending' || task === 'Dataset911_PendingV2' ? { stepMs: 60_000 } : {}),
    }));
    workers = await createWorkers({ connection: t.native, queues: 'all', activities, maxConcurrentTraining: 2, workflowBundle: await testWorkflowBundle(), shutdownGraceTimeMs: 1000 });
    running = workers.run();
  });

  after(async () => {
    workers?.shutdown();
    await running?.catch(() => {});
    await t?.close();
  });

  test('without -c: one start-over token per run, shared by the retries; each new call is a new run', async () => {
    const paths = makeTaskPaths(t.dir, 'Task905_Fold');
    const train = { paths, plansFile: path.join(paths.preprocessedDir, 'nnUNetPlansv2.1_plans_2D.json'), plansIdentifier: 'nnUNetPlansv2.1', configuration: '2d' as const, fold: 2 as const, trainer: 'nnUNetTrainerV2' };
    const input: FoldWorkflowInput = { train: { ...train, startOver: true }, timing: FAST };
    const id = foldWorkflowId(905, '2d', 'nnUNetTrainerV2', 'nnUNetPlansv2.1', 2);
    assert.equal(id, 'nnunet-fold-905-2d-nnUNetTrainerV2__nnUNetPlansv2.1-2');

    const first = await startOrAttach(t.client, 'foldWorkflow', id, [input], { rerunCompleted: true });
    const result = await first.handle.result() as TaskResult;
    assert.deepEqual(result.training?.map((r) => [r.configuration, r.fold, r.epochs]), [['2d', 2, 2]]);
    const state = await first.handle.query(taskStateQuery);
    assert.deepEqual(state.nodes.map((n) => [n.id, n.status]), [['train/2d/2', 'done']]);

    const starts = () => readEvents(eventsDir).filter((e) => e.node === 'train/2d/2' && e.phase === 'start').map((e) => (e.input as TrainInput).startOver);
    const runId = (await first.handle.describe()).runId;
    assert.deepEqual(starts(), [runId, runId], 'the failed attempt and its retry carry the same token: the retry continues');

    const second = await startOrAttach(t.client, 'foldWorkflow', id, [input], { rerunCompleted: true });
    assert.equal(second.attached, false, 'a new call after the end is a new run');
    await second.handle.result();
    const secondRunId = (await second.handle.describe()).runId;
    assert.notEqual(secondRunId, runId);
    assert.equal(starts().at(-1), secondRunId, 'a new call starts over again');

    const withC = await startOrAttach(t.client, 'foldWorkflow', id, [{ train, timing: FAST }], { rerunCompleted: true });
    await withC.handle.result();
    assert.equal(starts().at(-1), undefined, '-c: no start-over token, the fold continues');
  });

  test('-pretrained_weights: the path reaches the train activity unchanged (no workflow change needed)', async () => {
    const paths = makeTaskPaths(t.dir, 'Task907_Pretrained');
    const pretrainedWeights = path.join(t.dir, 'source', 'model_final_checkpoint.model');
    const train = { paths, plansFile: path.join(paths.preprocessedDir, 'nnUNetPlansv2.1_plans_2D.json'), plansIdentifier: 'nnUNetPlansv2.1', configuration: '2d' as const, fold: 1 as const, trainer: 'nnUNetTrainerV2', pretrainedWeights };
    const id = foldWorkflowId(907, '2d', 'nnUNetTrainerV2', 'nnUNetPlansv2.1', 1);
    const run = await startOrAttach(t.client, 'foldWorkflow', id, [{ train: { ...train, startOver: true }, timing: FAST }], { rerunCompleted: true });
    await run.handle.result();
    const inputs = readEvents(eventsDir).filter((e) => e.node === 'train/2d/1' && e.phase === 'start').map((e) => e.input as TrainInput);
    assert.ok(inputs.length > 0);
    for (const input of inputs) assert.equal(input.pretrainedWeights, pretrainedWeights);
  });

  test('nnunet run while nnUNet_train trains one of its folds: the task waits for that fold workflow, then uses its result', async () => {
    const paths = makeTaskPaths(t.dir, 'Task908_Busy');
    const train = { paths, plansFile: '/pre/plans_2D.json', plansIdentifier: 'nnUNetPlansv2.1', configuration: '2d' as const, fold: 0 as const, trainer: 'nnUNetTrainerV2' };
    const id = foldWorkflowId(908, '2d', 'nnUNetTrainerV2', 'nnUNetPlansv2.1', 0);
    const fold = await startOrAttach(t.client, 'foldWorkflow', id, [{ train: { ...train, startOver: true }, timing: FAST }], { rerunCompleted: true });
    const foldRunId = (await fold.handle.describe()).runId;
    const task = await startOrAttachTask(t.client, {
      paths, options: { configurations: ['2d'], folds: [0], skipVerify: true, findBest: false }, timing: { ...FAST, runningFoldPollMs: 200 },
    });
    const result = await task.handle.result() as TaskResult;
    assert.deepEqual(result.training?.map((r) => [r.configuration, r.fold, r.epochs]), [['2d', 0, 2]]);
    assert.ok(result.notes?.some((n) => n.includes(`${id} is running`)), `a note says the task waited: ${result.notes?.join(' | ')}`);
    const events = readEvents(eventsDir).filter((e) => e.node === 'train/2d/0'); // only this test trains fold 0
    const ends = events.filter((e) => e.phase === 'end');
    const starts = events.filter((e) => e.phase === 'start');
    assert.equal(starts.length, 2, 'the nnUNet_train fold, then the task\'s own child');
    assert.equal((starts[0].input as TrainInput).startOver, foldRunId);
    assert.equal((starts[1].input as TrainInput).startOver, undefined, 'the task\'s child continues (a finished fold returns at once)');
    assert.ok(starts[1].t >= ends[0].t, 'the task\'s child starts only after the nnUNet_train fold ended');
  });

  test('nnUNet_train for a fold that a running task has not started yet is not refused (the task will wait for it)', async () => {
    const paths = makeTaskPaths(t.dir, 'Task909_Pending');
    const task = await startOrAttachTask(t.client, { paths, options: { configurations: ['2d'], folds: [0], skipVerify: true, findBest: false }, timing: FAST });
    await waitFor('the task to answer its state query', async () => (await task.handle.query(taskStateQuery).catch(() => undefined))?.nodes.some((n) => n.id === 'train/2d/0' && n.status === 'pending') ? true : undefined);
    const train = { paths, plansFile: '/pre/plans_2D.json', plansIdentifier: 'nnUNetPlansv2.1', configuration: '2d' as const, fold: 0 as const, trainer: 'nnUNetTrainerV2' };
    const notes: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => { notes.push(String(chunk)); return true; }) as typeof process.stderr.write;
    try {
      await refuseFoldOfRunningTask(t.client, paths, train, foldWorkflowId(909, '2d', 'nnUNetTrainerV2', 'nnUNetPlansv2.1', 0));
    } finally {
      process.stderr.write = write;
    }
    assert.match(notes.join(''), /will wait for this training and use it/);
    await task.handle.terminate('test done');
  });

  test('nnunet run --method v2 while nnUNetv2_train trains one of its folds: the task waits for that v2 fold workflow, then uses its result', async () => {
    const paths = makeTaskPaths(t.dir, 'Dataset910_BusyV2');
    // The mock plans under nnUNetPlansv2.1: the v2 task trains folds of that plans name.
    const train = { paths, plansFile: '/pre/plans_2D.json', plansIdentifier: 'nnUNetPlansv2.1', plansName: 'nnUNetPlansv2.1', configuration: '2d' as const, fold: 0 as const, trainer: 'nnUNetTrainer', method: 'v2' as const };
    const id = v2FoldWorkflowId('Dataset910_BusyV2', 'nnUNetTrainer', 'nnUNetPlansv2.1', '2d', 0);
    const fold = await startOrAttach(t.client, 'foldWorkflow', id, [{ train: { ...train, startOver: true }, timing: FAST }], { rerunCompleted: true });
    const foldRunId = (await fold.handle.describe()).runId;
    const input = { paths, options: { configurations: ['2d' as const], folds: [0 as const], skipVerify: true, findBest: false, method: 'v2' as const, trainer: 'nnUNetTrainer' }, timing: { ...FAST, runningFoldPollMs: 200 } };
    const task = await startOrAttachTask(t.client, input);
    const result = await task.handle.result() as TaskResult;
    assert.deepEqual(result.training?.map((r) => [r.configuration, r.fold, r.epochs]), [['2d', 0, 2]]);
    assert.ok(result.notes?.some((n) => n.includes(`${id} is running (an nnUNetv2_train call`)), `a note says the task waited: ${result.notes?.join(' | ')}`);
    const starts = readEvents(eventsDir).filter((e) => e.node === 'train/2d/0' && e.phase === 'start' && (e.input as TrainInput).paths.taskName === 'Dataset910_BusyV2');
    assert.deepEqual(starts.map((e) => (e.input as TrainInput).startOver), [foldRunId, undefined], 'the nnUNetv2_train fold, then the task\'s own child continuing it');
    const child = await t.client.workflow.getHandle(id).describe();
    assert.equal(child.status.name, 'COMPLETED');
    assert.notEqual(child.runId, foldRunId, 'the task\'s child ran under the same v2 fold id');
  });

  test('nnUNetv2_train for a fold the running v2 task has not started is not refused; the v2 task is the one looked up', async () => {
    const paths = makeTaskPaths(t.dir, 'Dataset911_PendingV2');
    const input = { paths, options: { configurations: ['2d' as const], folds: [0 as const], skipVerify: true, findBest: false, method: 'v2' as const, trainer: 'nnUNetTrainer' }, timing: FAST };
    const task = await startOrAttachTask(t.client, input);
    assert.equal(task.handle.workflowId, 'nnunet-task-911-v2-nnUNetPlans');
    await waitFor('the task to answer its state query', async () => (await task.handle.query(taskStateQuery).catch(() => undefined))?.nodes.some((n) => n.id === 'train/2d/0' && n.status === 'pending') ? true : undefined);
    const train = { paths, plansFile: '/pre/plans_2D.json', plansName: 'nnUNetPlans', configuration: '2d' as const, fold: 0 as const, trainer: 'nnUNetTrainer', method: 'v2' as const };
    const notes: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => { notes.push(String(chunk)); return true; }) as typeof process.stderr.write;
    try {
      await refuseFoldOfRunningTask(t.client, paths, train, v2FoldWorkflowId('Dataset911_PendingV2', 'nnUNetTrainer', 'nnUNetPlans', '2d', 0));
    } finally {
      process.stderr.write = write;
    }
    assert.match(notes.join(''), /nnunet-task-911-v2-nnUNetPlans, which will wait for this training and use it/);
    await task.handle.terminate('test done');
  });
});
