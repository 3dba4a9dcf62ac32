/**
 * Records real histories of the task and sweep workflows, run by today's workflow code on a local Temporal
 * dev server with the mocked activities of test/workflows/fixtures, and writes them as replay fixtures
 * into a NEW folder test/workflows/fixtures/histories/<label>/ (never over an existing one: old histories
 * are what proves that changed workflow code still replays what running workflows recorded).
 *
 *   npx tsc -p . && node dist/scripts/record-workflow-histories.js [--label <name>] [--only <scenario,...>]
 *   (or: npx tsx scripts/record-workflow-histories.ts ...)
 *
 * The label defaults to `<yyyy-mm-dd>-<short commit>`. test/workflows/replay.test.ts replays every fixture.
 * See docs/orchestration.md, "Evolving workflows".
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { createWorkers } from '../worker';
import { cancelTask, selectTask, startOrAttach, startOrAttachSweep, startOrAttachTask, taskWorkflowIdFor } from '../client/temporal/task-client';
import { foldWorkflowId, v2FoldWorkflowId } from '../workflows/state';
import type { TaskOptions, TaskWorkflowInput } from '../workflows/options';
import type { SweepInput, SweepResult } from '../workflows/sweep-types';
import { HISTORIES_DIR, historyToJson, type HistoryFixture } from '../test/helpers/history-json';
import { makeTaskPaths, repoRoot, startTestServer, testWorkflowBundle, waitFor, type TestServer } from '../test/helpers/temporal';
import { mockActivities, readEvents, type MockBehaviour } from '../test/workflows/fixtures/mock-activities';

const FAST = { retryInitialIntervalMs: 100, retryMaximumIntervalMs: 200, retryMaximumAttempts: 3, trainHeartbeatTimeoutMs: 5000 };
/** Task folders are never touched by the mocked activities: a fixed root keeps the histories free of temp paths. */
const TASK_ROOT = '/data/nnunet';

interface Recorder {
  t: TestServer;
  eventsDir: string;
  behaviours: Map<string, MockBehaviour>;
}

interface Scenario {
  name: string;
  description: string;
  /** Runs the scenario to its end and returns the workflow ids whose every run is recorded. */
  run(r: Recorder): Promise<string[]>;
}

function taskInput(r: Recorder, task: string, behaviour: MockBehaviour, options: TaskOptions): TaskWorkflowInput {
  r.behaviours.set(task, behaviour);
  return { paths: makeTaskPaths(TASK_ROOT, task), options, timing: FAST };
}

/** Runs a task to completion (or failure) and returns its workflow id. */
async function runTask(r: Recorder, input: TaskWorkflowInput): Promise<string[]> {
  const { handle } = await startOrAttachTask(r.t.client, input);
  await handle.result().catch(() => undefined); // failed scenarios are recorded too
  return [handle.workflowId];
}

/** Waits until `node` has trained an epoch in events recorded after the first `skipEvents` (earlier scenarios'). */
function epochTrained(r: Recorder, skipEvents: number, node: string): Promise<true> {
  const trained = () => (readEvents(r.eventsDir).slice(skipEvents).some((e) => e.node === node && e.phase === 'progress' && (e.epoch ?? 0) >= 1) ? true : undefined);
  return waitFor(`${node} to train an epoch`, trained, 60_000);
}

const SCENARIOS: Scenario[] = [
  {
    name: 'task-normal',
    description: '2d and 3d_fullres, folds 0 and 1, find-best and postprocessing',
    run: (r) => runTask(r, taskInput(r, 'Task401_Normal', { planned: ['2d', '3d_fullres'], epochs: 2, epochMs: 20 }, { folds: [0, 1] })),
  },
  {
    name: 'task-cascade',
    description: '3d_lowres + 3d_cascade_fullres, fold 0: the cascade waits for all five lowres folds',
    run: (r) => runTask(r, taskInput(r, 'Task402_Cascade', { planned: ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'], epochs: 2, epochMs: 20 }, {
      configurations: ['3d_lowres', '3d_cascade_fullres'],
      folds: [0],
    })),
  },
  {
    name: 'task-fold-all',
    description: "fold 1 and 'all', validation settings, separate 2D/3D plans identifiers",
    run: (r) => runTask(r, taskInput(r, 'Task403_FoldAll', {
      planned: ['2d', '3d_fullres'], epochs: 1, plansIdentifiers: { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1_4GB' },
    }, { folds: [1, 'all'], validation: { tta: false, stepSize: 1 } })),
  },
  {
    name: 'task-cancelled',
    description: 'the whole task cancelled while a fold trains (the run ends as Cancelled)',
    async run(r) {
      const task = 'Task404_Cancelled';
      const skip = readEvents(r.eventsDir).length;
      const { handle } = await startOrAttachTask(r.t.client, taskInput(r, task, { planned: ['2d'], epochs: 400, epochMs: 50 }, { folds: [0] }));
      await epochTrained(r, skip, 'train/2d/0');
      await cancelTask(r.t.client, handle.workflowId);
      await handle.result().catch(() => undefined);
      return [handle.workflowId];
    },
  },
  {
    name: 'task-nodes-cancelled',
    description: 'both training nodes cancelled by signal; find-best skipped, the run completes',
    async run(r) {
      const task = 'Task405_NodesCancelled';
      const skip = readEvents(r.eventsDir).length;
      const { handle } = await startOrAttachTask(r.t.client, taskInput(r, task, { planned: ['2d'], epochs: 400, epochMs: 50 }, { folds: [0, 1] }));
      await epochTrained(r, skip, 'train/2d/1');
      await cancelTask(r.t.client, handle.workflowId, 'train/2d/0');
      await cancelTask(r.t.client, handle.workflowId, 'train/2d/1');
      await handle.result();
      return [handle.workflowId];
    },
  },
  {
    name: 'task-fold-failed',
    description: 'a fold fails after its retries: the task fails, the other folds are cancelled',
    run: (r) => runTask(r, taskInput(r, 'Task406_FoldFails', {
      planned: ['2d'], epochs: 400, epochMs: 50, failures: { 'train/2d/2': { kind: 'Error', times: 99, message: 'CUDA out of memory (mock)' } },
    }, { folds: [0, 1, 2] })),
  },
  {
    name: 'task-bad-input',
    description: 'dataset verification fails with BadInput: not retried, the task fails',
    run: (r) => runTask(r, taskInput(r, 'Task407_BadInput', { planned: ['2d'], failures: { verify: { kind: 'BadInput', times: 99, message: 'label 3 is not in dataset.json labels' } } }, {})),
  },
  {
    name: 'task-selection-changed',
    description: 'select signal while training: a fold added, a configuration dropped',
    async run(r) {
      const task = 'Task408_Select';
      const skip = readEvents(r.eventsDir).length;
      const { handle } = await startOrAttachTask(r.t.client, taskInput(r, task, { planned: ['2d', '3d_fullres'], epochs: 60, epochMs: 50, slowNodes: { 'train/3d_fullres/0': 200 } }, { folds: [0] }));
      await epochTrained(r, skip, 'train/3d_fullres/0');
      await selectTask(r.t.client, handle.workflowId, { configurations: ['2d'], folds: [0, 1] });
      await handle.result();
      return [handle.workflowId];
    },
  },
  {
    name: 'task-waits-for-running-fold',
    description: 'nnunet run while an nnUNet_train fold workflow holds the id of its fold: the task waits, then its child continues that fold',
    async run(r) {
      const task = 'Task409_WaitsForFold';
      const input = taskInput(r, task, { planned: ['2d'], epochs: 2, epochMs: 20, slowNodes: { 'train/2d/0': 800 } }, { configurations: ['2d'], folds: [0], skipVerify: true, findBest: false });
      const train = { paths: input.paths, plansFile: '/pre/plans_2D.json', plansIdentifier: 'nnUNetPlansv2.1', configuration: '2d' as const, fold: 0 as const, trainer: 'nnUNetTrainerV2' };
      const foldId = foldWorkflowId(409, '2d', 'nnUNetTrainerV2', 'nnUNetPlansv2.1', 0);
      await startOrAttach(r.t.client, 'foldWorkflow', foldId, [{ train: { ...train, startOver: true }, timing: FAST }], { rerunCompleted: true });
      const ids = await runTask(r, { ...input, timing: { ...FAST, runningFoldPollMs: 300 } });
      return [...ids, foldId];
    },
  },
  {
    name: 'task-v2',
    description: 'nnunet run --method v2, fold 0, planning made every configuration incl. 3d_lowres and the cascade; test set predicted',
    run: (r) => runTask(r, taskInput(r, 'Dataset415_V2', {
      planned: ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'], epochs: 1, plansIdentifiers: { '2d': 'nnUNetPlans', '3d': 'nnUNetPlans' },
    }, { folds: [0], predict: true, method: 'v2', trainer: 'nnUNetTrainer' })),
  },
  {
    name: 'task-v2-waits-for-running-fold',
    description: 'nnunet run --method v2 while an nnUNetv2_train fold workflow holds the v2 id of its fold: the task waits, then its child continues that fold',
    async run(r) {
      const task = 'Dataset416_V2WaitsForFold';
      const input = taskInput(r, task, { planned: ['2d'], epochs: 2, epochMs: 20, slowNodes: { 'train/2d/0': 800 } }, { configurations: ['2d'], folds: [0], skipVerify: true, findBest: false, method: 'v2', trainer: 'nnUNetTrainer' });
      const train = { paths: input.paths, plansFile: '/pre/plans_2D.json', plansIdentifier: 'nnUNetPlansv2.1', plansName: 'nnUNetPlansv2.1', configuration: '2d' as const, fold: 0 as const, trainer: 'nnUNetTrainer', method: 'v2' as const };
      const foldId = v2FoldWorkflowId(task, 'nnUNetTrainer', 'nnUNetPlansv2.1', '2d', 0);
      await startOrAttach(r.t.client, 'foldWorkflow', foldId, [{ train: { ...train, startOver: true }, timing: FAST }], { rerunCompleted: true });
      const ids = await runTask(r, { ...input, timing: { ...FAST, runningFoldPollMs: 300 } });
      return [...ids, foldId];
    },
  },
  {
    name: 'sweep',
    description: 'four tasks (one failing), two at a time, continue-as-new; every sweep run and every child task',
    async run(r) {
      const tasks: Array<[string, MockBehaviour]> = [
        ['Task411_SweepA', { planned: ['2d', '3d_fullres'], epochs: 2, epochMs: 50 }],
        ['Task412_SweepB', { planned: ['2d'], epochs: 2, epochMs: 50 }],
        ['Task413_SweepC', { planned: ['2d', '3d_fullres'], failures: { verify: { kind: 'BadInput', times: 9, message: 'imagesTr is empty' } } }],
        ['Task414_SweepD', { planned: ['2d'], epochs: 2, epochMs: 50 }],
      ];
      for (const [name, b] of tasks) r.behaviours.set(name, b);
      const input: SweepInput = {
        name: 'recorded',
        tasks: tasks.map(([name], i) => ({ taskId: 411 + i, paths: makeTaskPaths(TASK_ROOT, name) })),
        configurations: ['2d', '3d_fullres'],
        options: { folds: [0] },
        timing: FAST,
        maxConcurrentTasks: 2,
        reportDir: path.join(r.t.dir, 'reports'),
        maxHistoryEvents: 10,
      };
      const { handle } = await startOrAttachSweep(r.t.client, input);
      const result = (await handle.result()) as SweepResult;
      if (result.runs < 1) throw new Error('the sweep did not continue as new: lower maxHistoryEvents');
      return [handle.workflowId, ...tasks.map(([name]) => taskWorkflowIdFor(name))];
    },
  },
];

/** Every run of a workflow id (a continue-as-new chain has several), oldest first. */
async function runsOf(client: Client, workflowId: string): Promise<Array<{ runId: string; type: string }>> {
  const list = async () => {
    const runs: Array<{ runId: string; type: string; start: number }> = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: w.runId, type: w.type, start: w.startTime.getTime() });
    return runs;
  };
  // Visibility lags the history a little: wait until every run of the chain is listed and closed.
  const expected = async () => {
    const runs = await list();
    const latest = await client.workflow.getHandle(workflowId).describe();
    const chainDone = runs.length > 0 && runs.some((x) => x.runId === latest.runId) && latest.status.name !== 'RUNNING';
    return chainDone ? runs.sort((a, b) => a.start - b.start) : undefined;
  };
  return waitFor(`the runs of ${workflowId} to be listed`, expected, 30_000, 200);
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function recordScenario(r: Recorder, scenario: Scenario, outDir: string, commit: string): Promise<string[]> {
  const written: string[] = [];
  for (const workflowId of await scenario.run(r)) {
    const runs = await runsOf(r.t.client, workflowId);
    for (const [i, run] of runs.entries()) {
      const history = await r.t.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
      const fixture: HistoryFixture = {
        scenario: scenario.name,
        description: scenario.description,
        workflowId,
        runId: run.runId,
        workflowType: run.type,
        recordedAtCommit: commit,
        recordedAt: new Date().toISOString(),
        history: historyToJson(history),
      };
      const suffix = runs.length > 1 ? `-run${i + 1}` : '';
      const file = path.join(outDir, `${scenario.name}--${workflowId}${suffix}.json`);
      fs.writeFileSync(file, JSON.stringify(fixture, null, 1) + '\n');
      written.push(file);
    }
  }
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { label: { type: 'string' }, only: { type: 'string' } } });
  const commit = gitCommit();
  const label = values.label ?? `${new Date().toISOString().slice(0, 10)}-${commit}`;
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(label)) throw new Error(`--label '${label}': use letters, digits, '.', '_' and '-' only`);
  const only = values.only?.split(',');
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const outDir = path.join(HISTORIES_DIR, label);
  if (fs.existsSync(outDir)) throw new Error(`${outDir} exists: fixtures are only ever added; pick another --label`);

  const t = await startTestServer('record');
  const r: Recorder = { t, eventsDir: path.join(t.dir, 'events'), behaviours: new Map() };
  const activities = mockActivities(r.eventsDir, (task) => {
    const b = r.behaviours.get(task);
    if (!b) throw new Error(`no mock behaviour for ${task}`);
    return b;
  });
  const workers = await createWorkers({ connection: t.native, queues: 'all', activities, maxConcurrentTraining: 6, workflowBundle: await testWorkflowBundle(), shutdownGraceTimeMs: 1000 });
  const running = workers.run();
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(tmpDir, { recursive: true });
    for (const scenario of SCENARIOS.filter((s) => !only || only.includes(s.name))) {
      const files = await recordScenario(r, scenario, tmpDir, commit);
      console.log(`${scenario.name}: ${files.map((f) => path.basename(f)).join(', ')}`);
    }
    fs.renameSync(tmpDir, outDir); // all scenarios or none
    console.log(`histories written to ${path.relative(repoRoot, outDir)}`);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    workers.shutdown();
    await running.catch(() => {});
    await t.close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
