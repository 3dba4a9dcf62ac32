/**
 * The crash battery: kill -9 of the whole `nnunet run` process group (CLI, in-process workers, training child,
 * batch workers; the embedded server runs in its own group and is adopted by the rerun) at each step of the
 * pipeline, on a tiny demo task, then the same command again. Each rerun must
 * - continue the same workflow and finish it (exit 0),
 * - say that the killed step's worker is gone and restart that step within 30 s (time to continue),
 * - redo nothing that had finished: every other step started exactly once (worker log) and the files of the
 *   steps finished before the kill are untouched (mtime and size),
 * - leave no corrupt file (every checkpoint passes its checksum, every .json and .npy parses) and no `.tmp-*`.
 * The live state is read from the server (pending activities, the workflow's `state` query); no test hook in
 * product code. Short form (CI, ~3 min): preprocess and a training epoch. NNUNET_CRASH_BATTERY=full runs every
 * kill point; NNUNET_CRASH_POINTS=a,b picks some. A table of the figures is printed at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { readCheckpoint } from '../../activities/training/checkpoint';
import { readNpySync } from '../../activities/io/npy';
import { taskStateQuery } from '../../workflows/definitions';
import type { TaskState } from '../../workflows/state';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { listFiles, makeDataEnv, startCli, type DataEnv } from './helpers';
import { fileStamps, startCliGroup, type GroupProcess } from './pipeline-helpers';

const skip = temporalUnavailable() ?? false;
const TRAIN = 'train/2d/0';

interface Live {
  /** Pending activities by id: attempt and whether a worker runs it now. */
  pending: Map<string, { attempt: number; started: boolean }>;
  state?: TaskState;
}

interface KillPoint {
  name: string;
  /** The node the kill interrupts. */
  node: string;
  /** True when the run is where this point kills it. */
  reached(live: Live, id: number): boolean;
  /** Folders of steps finished before the kill: nothing in them may change. */
  finished(id: number): string[];
}

let data: DataEnv;
const taskName = (id: number) => `Task${id}_Demo`;
const workflowId = (id: number) => `nnunet-task-${id}`;
const cropped = (id: number) => path.join(data.env.nnUNet_raw_data_base, 'nnUNet_cropped_data', taskName(id));
const preprocessed = (id: number) => path.join(data.env.nnUNet_preprocessed, taskName(id));
const modelDir = (id: number) => path.join(data.env.RESULTS_FOLDER, 'nnUNet', '2d', taskName(id), 'nnUNetTrainerV2__nnUNetPlansv2.1');
const foldDir = (id: number) => path.join(modelDir(id), 'fold_0');
const running = (live: Live, node: string) => live.pending.get(node)?.started === true;
const hasTemp = (dir: string, prefix: string) => { try { return fs.readdirSync(dir).some((f) => f.startsWith(prefix)); } catch { return false; } };
const latestEpoch = (id: number) => { try { return readCheckpoint(path.join(foldDir(id), 'model_latest.model')).meta.epoch; } catch { return 0; } };

const POINTS: KillPoint[] = [
  { name: 'fingerprint', node: 'fingerprint', reached: (l) => running(l, 'fingerprint'), finished: () => [] },
  { name: 'preprocess', node: 'preprocess/2d', reached: (l) => running(l, 'preprocess/2d'), finished: (id) => [cropped(id)] },
  { name: 'training epoch', node: TRAIN, reached: (l, id) => running(l, TRAIN) && latestEpoch(id) >= 1, finished: (id) => [cropped(id), preprocessed(id)] },
  { name: 'checkpoint write', node: TRAIN, reached: (l, id) => running(l, TRAIN) && hasTemp(foldDir(id), '.tmp-model_'), finished: (id) => [cropped(id), preprocessed(id)] },
  { name: 'validation', node: TRAIN, reached: (l, id) => running(l, TRAIN) && hasTemp(foldDir(id), '.tmp-validation_raw'), finished: (id) => [cropped(id), preprocessed(id)] },
  { name: 'find-best', node: 'findBest', reached: (l) => running(l, 'findBest'), finished: (id) => [cropped(id), preprocessed(id), foldDir(id)] },
  { name: 'postprocess', node: 'postprocess', reached: (l) => running(l, 'postprocess'), finished: (id) => [cropped(id), preprocessed(id), foldDir(id)] },
];

function selectedPoints(): KillPoint[] {
  const names = process.env.NNUNET_CRASH_POINTS?.split(',').map((s) => s.trim()).filter(Boolean)
    ?? (process.env.NNUNET_CRASH_BATTERY === 'full' ? POINTS.map((p) => p.name) : ['preprocess', 'training epoch']);
  return names.map((n) => {
    const p = POINTS.find((x) => x.name === n);
    if (!p) throw new Error(`unknown kill point ${n}: ${POINTS.map((x) => x.name).join(', ')}`);
    return p;
  });
}

async function readLive(client: Client, id: number): Promise<Live> {
  const handle = client.workflow.getHandle(workflowId(id));
  const live: Live = { pending: new Map() };
  try {
    const d = await handle.describe();
    for (const a of d.raw.pendingActivities ?? []) live.pending.set(a.activityId ?? '', { attempt: a.attempt ?? 1, started: Number(a.state) === 2 });
  } catch {
    /* not started yet */
  }
  return live;
}

async function queryState(client: Client, id: number): Promise<TaskState | undefined> {
  try {
    return await client.workflow.getHandle(workflowId(id)).query(taskStateQuery);
  } catch {
    return undefined;
  }
}

/** A client on the embedded server once the first run has written its address. */
async function serverClient(run: GroupProcess): Promise<{ client: Client; close(): Promise<void> }> {
  const lockFile = path.join(data.temporalDir, 'server.lock');
  let address: string | undefined;
  await run.until(() => {
    try { address = (JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { address?: string }).address; } catch { /* not yet */ }
    return address !== undefined;
  }, 240_000, 'the embedded server');
  const connection = await Connection.connect({ address: address! });
  return { client: new Client({ connection }), close: () => connection.close() };
}

/** Polls until the kill point is reached (fast: a checkpoint write lasts milliseconds). */
async function untilReached(run: GroupProcess, client: Client, point: KillPoint, id: number): Promise<void> {
  let live: Live = { pending: new Map() };
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    void readLive(client, id).then((l) => { live = l; polling = false; });
  }, 100);
  try {
    await run.until(() => point.reached(live, id), 300_000, `kill point ${point.name}`);
  } finally {
    clearInterval(poll);
  }
}

/** How many times each node of the workflow was started, from the worker log's `<activity> started` lines. */
function startsByNode(id: number): Map<string, number> {
  const counts = new Map<string, number>();
  const log = path.join(data.temporalDir, 'worker.log');
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes(`"${workflowId(id)}"`)) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; node?: string; workflowId?: string };
      if (entry.workflowId === workflowId(id) && entry.node && / started$/.test(entry.msg ?? '')) counts.set(entry.node, (counts.get(entry.node) ?? 0) + 1);
    } catch {
      /* not JSON */
    }
  }
  return counts;
}

/** Every file of ours under `dir` opens: checkpoints pass their checksum, .json and .npy parse. */
function assertNothingCorrupt(dir: string): void {
  for (const f of listFiles(dir)) {
    const full = path.join(dir, f);
    if (f.endsWith('.model')) readCheckpoint(full);
    else if (f.endsWith('.json')) JSON.parse(fs.readFileSync(full, 'utf8'));
    else if (f.endsWith('.npy')) readNpySync(full);
  }
}

const rows: string[] = [];
before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('crash-battery');
});
after(() => {
  if (rows.length) console.log(['', '| kill point | killed node | time to continue | rerun total |', '|---|---|---|---|', ...rows].join('\n'));
  data?.remove();
});

const env = () => ({ ...data.env, NNUNET_LOG_LEVEL: 'info', NNUNET_CHECKPOINT_EVERY_EPOCHS: '1' });
const runArgs = (id: number) => ['run', '-t', String(id), '-c', '2d', '-f', '0', '--epochs', '3', '--iters', '2'];

selectedPoints().forEach((point) => {
  const id = 960 + POINTS.indexOf(point);
  test(`kill -9 at ${point.name}: the rerun continues within 30 s and redoes nothing`, { skip, timeout: 600_000 }, async () => {
    const demo = await startCli(['demo-dataset', '-t', String(id), '--cases', '5', '--test-cases', '0'], env()).done;
    assert.equal(demo.code, 0, demo.stderr);
    const first = startCliGroup(runArgs(id), env());
    const server = await serverClient(first);
    try {
      await untilReached(first, server.client, point, id);
      first.killGroup();
      assert.equal(await first.done, null, 'killed by a signal');
      const kept = Object.fromEntries(point.finished(id).map((d) => [d, fileStamps(d)]));

      const t0 = Date.now();
      const rerun = startCliGroup(runArgs(id), env());
      let continuedMs: number | undefined;
      for (;;) {
        const live = await readLive(server.client, id);
        const p = live.pending.get(point.node);
        const state = await queryState(server.client, id);
        const node = state?.nodes.find((n) => n.id === point.node);
        if ((p && p.started && p.attempt >= 2) || node?.status === 'done' || (!p && node?.status === 'running' && rerun.output.includes('restarting'))) {
          continuedMs = Date.now() - t0;
          break;
        }
        if (Date.now() - t0 > 180_000) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const code = await rerun.done;
      const totalMs = Date.now() - t0;
      rows.push(`| ${point.name} | ${point.node} | ${continuedMs === undefined ? 'never' : `${(continuedMs / 1000).toFixed(1)} s`} | ${(totalMs / 1000).toFixed(1)} s |`);
      assert.equal(code, 0, rerun.output);
      assert.match(rerun.output, new RegExp(`attached to ${workflowId(id)} \\(running\\)`));
      assert.match(rerun.output, new RegExp(`the worker that ran ${point.node.replace('/', '\\/')} \\(pid \\d+\\) is gone; restarting it`));
      assert.match(rerun.output, new RegExp(`task ${taskName(id)} completed`));
      assert.ok(continuedMs !== undefined && continuedMs < 30_000, `${point.node} continued ${continuedMs} ms after the rerun started`);

      for (const [dir, stamps] of Object.entries(kept)) assert.deepEqual(fileStamps(dir), stamps, `finished step outputs untouched in ${dir}`);
      const starts = startsByNode(id);
      for (const [node, n] of starts) assert.equal(n, node === point.node ? 2 : 1, `${node} started ${n} times`);
      for (const dir of [cropped(id), preprocessed(id), path.dirname(modelDir(id))]) {
        assertNothingCorrupt(dir);
        assert.deepEqual(listFiles(dir).filter((f) => /(^|\/)\.tmp-/.test(f)), [], `no temporaries left in ${dir}`);
      }
      assert.equal(readCheckpoint(path.join(foldDir(id), 'model_final_checkpoint.model')).meta.history.trainLosses.length, 3, 'three epochs, none twice');
    } finally {
      await server.close();
    }
  });
});
