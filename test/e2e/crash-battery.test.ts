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
import { readCheckpoint } from '../../activities/training/checkpoint';
import { readNpySync } from '../../activities/io/npy';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { listFiles, makeDataEnv, startCli, type DataEnv } from './helpers';
import { fileStamps, startCliGroup, type GroupProcess } from './pipeline-helpers';

const skip = temporalUnavailable() ?? false;
const TRAIN = 'train/2d/0';

/** What the worker log says so far about one workflow's nodes (read incrementally: the kill must be quick). */
class Live {
  readonly starts = new Map<string, number>();
  readonly ends = new Map<string, number>();
  private offset = 0;
  private rest = '';
  constructor(private readonly workflowId: string) {}

  /** Reads the log lines written since the last call. */
  update(): this {
    let fd: number;
    try {
      fd = fs.openSync(path.join(data.temporalDir, 'worker.log'), 'r');
    } catch {
      return this; // no worker yet
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return this;
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.rest + buf.toString('utf8')).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    } finally {
      fs.closeSync(fd);
    }
    return this;
  }

  /** The task workflow and the fold workflows it runs its training in (nnunet-fold-<id>-...). */
  private belongs(workflowId: string | undefined): boolean {
    return workflowId === this.workflowId || (workflowId ?? '').startsWith(`${this.workflowId.replace('nnunet-task-', 'nnunet-fold-')}-`);
  }

  private take(line: string): void {
    if (!line.includes(this.workflowId) && !line.includes(this.workflowId.replace('nnunet-task-', 'nnunet-fold-'))) return;
    try {
      const e = JSON.parse(line) as { msg?: string; node?: string; workflowId?: string };
      if (!this.belongs(e.workflowId) || !e.node) return;
      const count = / started$/.test(e.msg ?? '') ? this.starts : / (done|failed|cancelled)$/.test(e.msg ?? '') ? this.ends : undefined;
      count?.set(e.node, (count.get(e.node) ?? 0) + 1);
    } catch {
      /* not JSON */
    }
  }
}

interface KillPoint {
  name: string;
  /** The node the kill interrupts. */
  node: string;
  /** True when the run is where this point kills it. */
  reached(live: Live, id: number): boolean;
  /** Folders of steps finished before the kill: nothing in them may change. */
  finished(id: number): string[];
  /** Configurations to train (default 2d); find-best has work to kill only with an ensemble to evaluate. */
  configurations?: string[];
  /** Training cases of the demo task (default 5: one validation case); more make find-best and postprocess longer. */
  cases?: number;
  /** More `nnunet run` flags. */
  flags?: string[];
}

let data: DataEnv;
const taskName = (id: number) => `Task${id}_Demo`;
const workflowId = (id: number) => `nnunet-task-${id}`;
const cropped = (id: number) => path.join(data.env.nnUNet_raw_data_base, 'nnUNet_cropped_data', taskName(id));
const preprocessed = (id: number) => path.join(data.env.nnUNet_preprocessed, taskName(id));
const ENSEMBLE = ['2d', '3d_fullres'];
/** Two validation cases to ensemble, validated without mirroring: seconds of find-best and postprocess to kill in. */
const CHEAP_VALIDATION = { cases: 10, flags: ['--disable-tta', '--step-size', '1'] };
const taskDirs = (id: number) => [cropped(id), preprocessed(id), path.join(data.env.RESULTS_FOLDER, 'nnUNet')];
const foldDir = (id: number, configuration = '2d') => path.join(data.env.RESULTS_FOLDER, 'nnUNet', configuration, taskName(id), 'nnUNetTrainerV2__nnUNetPlansv2.1', 'fold_0');
/** A worker runs the node's first attempt: it logged its start and not yet its end. */
const running = (live: Live, node: string) => (live.starts.get(node) ?? 0) >= 1 && !live.ends.has(node);
const hasTemp = (dir: string, prefix: string) => { try { return fs.readdirSync(dir).some((f) => f.startsWith(prefix)); } catch { return false; } };
/** A temporary folder with `prefix` that already holds a file (a half-built validation folder). */
const hasFilledTempDir = (dir: string, prefix: string) => {
  try {
    return fs.readdirSync(dir).some((f) => f.startsWith(prefix) && fs.readdirSync(path.join(dir, f)).length > 0);
  } catch {
    return false;
  }
};
const latestEpoch = (id: number) => { try { return readCheckpoint(path.join(foldDir(id), 'model_latest.model')).meta.epoch; } catch { return 0; } };

const POINTS: KillPoint[] = [
  { name: 'fingerprint', node: 'fingerprint', reached: (l) => running(l, 'fingerprint'), finished: () => [] },
  { name: 'preprocess', node: 'preprocess/2d', reached: (l) => running(l, 'preprocess/2d'), finished: (id) => [cropped(id)] },
  { name: 'training epoch', node: TRAIN, reached: (l, id) => running(l, TRAIN) && latestEpoch(id) >= 1, finished: (id) => [cropped(id), preprocessed(id)] },
  { name: 'checkpoint write', node: TRAIN, reached: (l, id) => running(l, TRAIN) && hasTemp(foldDir(id), '.tmp-model_'), finished: (id) => [cropped(id), preprocessed(id)] },
  { name: 'validation', node: TRAIN, reached: (l, id) => running(l, TRAIN) && hasFilledTempDir(foldDir(id), '.tmp-validation_raw'), finished: (id) => [cropped(id), preprocessed(id)] },
  { name: 'find-best', node: 'findBest', reached: (l) => running(l, 'findBest'), finished: (id) => [cropped(id), preprocessed(id), ...ENSEMBLE.map((c) => foldDir(id, c))], configurations: ENSEMBLE, ...CHEAP_VALIDATION },
  { name: 'postprocess', node: 'postprocess', reached: (l) => running(l, 'postprocess'), finished: (id) => [cropped(id), preprocessed(id), ...ENSEMBLE.map((c) => foldDir(id, c))], configurations: ENSEMBLE, ...CHEAP_VALIDATION },
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

/** Polls every few milliseconds until the kill point is reached (a checkpoint write lasts milliseconds). */
async function untilReached(run: GroupProcess, point: KillPoint, id: number): Promise<Live> {
  const live = new Live(workflowId(id));
  let exited = false;
  void run.done.then(() => { exited = true; });
  const end = Date.now() + 300_000;
  while (!point.reached(live.update(), id)) {
    if (exited) throw new Error(`nnunet run exited before kill point ${point.name}\n${run.output}`);
    if (Date.now() > end) throw new Error(`timed out waiting for kill point ${point.name}\n${run.output}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return live;
}

/** How many times each node of the workflow was started, from the worker log's `<activity> started` lines. */
const startsByNode = (id: number): Map<string, number> => new Live(workflowId(id)).update().starts;

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
/** Every `nnunet run` started, so a failed test leaves none running (nor the embedded server). */
const groups: GroupProcess[] = [];
before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('crash-battery');
});
after(() => {
  for (const g of groups) g.killGroup();
  try {
    const lock = JSON.parse(fs.readFileSync(path.join(data.temporalDir, 'server.lock'), 'utf8')) as { serverPid?: number };
    if (lock.serverPid) process.kill(lock.serverPid, 'SIGTERM');
  } catch {
    /* no server left */
  }
  if (rows.length) console.log(['', '| kill point | killed node | temporaries left by the kill | restart said | time to continue | rerun total |', '|---|---|---|---|---|---|', ...rows].join('\n'));
  data?.remove();
});

const env = () => ({ ...data.env, NNUNET_LOG_LEVEL: 'info', NNUNET_CHECKPOINT_EVERY_EPOCHS: '1' });
const runArgs = (id: number, point: KillPoint) => ['run', '-t', String(id), '-c', ...(point.configurations ?? ['2d']), '-f', '0', '--epochs', '3', '--iters', '2', ...(point.flags ?? [])];

selectedPoints().forEach((point) => {
  const id = 960 + POINTS.indexOf(point);
  test(`kill -9 at ${point.name}: the rerun continues within 30 s and redoes nothing`, { skip, timeout: 600_000 }, async () => {
    const demo = await startCli(['demo-dataset', '-t', String(id), '--cases', String(point.cases ?? 5), '--test-cases', '0'], env()).done;
    assert.equal(demo.code, 0, demo.stderr);
    const args = runArgs(id, point);
    const first = startCliGroup(args, env());
    groups.push(first);
    const live = await untilReached(first, point, id);
    first.killGroup();
    assert.equal(await first.done, null, 'killed by a signal');
    const kept = Object.fromEntries(point.finished(id).map((d) => [d, fileStamps(d)]));
    const startsAtKill = live.update().starts.get(point.node) ?? 0;
    const tempsAtKill = taskDirs(id).flatMap((d) => listFiles(d).filter((f) => /(^|\/)\.tmp-/.test(f))).length;

    // Time to continue: from the rerun's start until the killed step's next attempt starts in its worker.
    const t0 = Date.now();
    const rerun = startCliGroup(args, env());
    groups.push(rerun);
    let continuedMs: number | undefined;
    let restartSaidMs: number | undefined;
    while (continuedMs === undefined && Date.now() - t0 < 180_000) {
      if (restartSaidMs === undefined && /is gone; restarting it/.test(rerun.output)) restartSaidMs = Date.now() - t0;
      if ((live.update().starts.get(point.node) ?? 0) > startsAtKill) continuedMs = Date.now() - t0;
      else await new Promise((r) => setTimeout(r, 50));
    }
    const code = await rerun.done;
    const totalMs = Date.now() - t0;
    const secs = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
    rows.push(`| ${point.name} | ${point.node} | ${tempsAtKill} | ${secs(restartSaidMs)} | ${secs(continuedMs)} | ${secs(totalMs)} |`);
    assert.equal(code, 0, rerun.output);
    assert.match(rerun.output, new RegExp(`attached to ${workflowId(id)} \\(running\\)`));
    assert.match(rerun.output, new RegExp(`the worker that ran ${point.node.replace('/', '\\/')} \\(pid \\d+\\) is gone; restarting it`));
    assert.match(rerun.output, new RegExp(`task ${taskName(id)} completed`));
    assert.ok(continuedMs !== undefined && continuedMs < 30_000, `${point.node} continued ${continuedMs} ms after the rerun started`);

    for (const [dir, stamps] of Object.entries(kept)) assert.deepEqual(fileStamps(dir), stamps, `finished step outputs untouched in ${dir}`);
    const starts = startsByNode(id);
    for (const [node, n] of starts) assert.equal(n, node === point.node ? 2 : 1, `${node} started ${n} times`);
    for (const dir of taskDirs(id)) {
      assertNothingCorrupt(dir);
      assert.deepEqual(listFiles(dir).filter((f) => /(^|\/)\.tmp-/.test(f)), [], `no temporaries left in ${dir}`);
    }
    assert.equal(readCheckpoint(path.join(foldDir(id), 'model_final_checkpoint.model')).meta.history.trainLosses.length, 3, 'three epochs, none twice');
  });
});
