/**
 * The body of `nnunet run` (loaded when the command runs: Temporal's client and worker take a second to load).
 */
import { setMaxListeners } from 'node:events';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { DEFAULT_VALIDATION, describeValidation, type TaskPaths } from '../activities/contract';
import type { Config } from '../config';
import type { TaskResult, TaskState } from '../workflows/state';
import { printJson, UsageError, WorkFailedError } from './context';
import { resolveTask } from './task-ref';
import { DEMO_LARGE, DEMO_SCHEDULE, ensureDemoTask } from './demo';
import { PLANNING } from '../activities/planning/constants';
import { openSession, stoppedWithin, type TemporalSession } from './temporal/session';
import { findRunningServer } from './temporal/embedded';
import { assertOutputFoldersWritable } from './output-folders';
import { startOrAttach, describeTaskState, taskWorkflowIdOf } from './temporal/task-client';
import { renderTaskState } from './render/tree';
import { watchTask } from './render/watch';
import { outcomeLines, readTaskView } from './task-view';
import { predictTestSet, taskInput, type RunFlags } from './task-input';
import { methodFor } from './settings';
import { v2DatasetPaths } from './v2-dataset';

/** Messages for the person go to stderr when stdout carries JSON. */
const sayTo = (json: boolean | undefined) => (m: string): void => {
  (json ? process.stderr : process.stdout).write(`${m}\n`);
};

interface Outcome {
  state?: TaskState;
  result?: TaskResult;
  failure?: string;
  /** The borrowed embedded server went away (its owner exited): reattach through a new session. */
  serverGone?: boolean;
}

/** How many times a client whose borrowed server vanished starts or finds another one and reattaches. */
const MAX_REATTACH = 3;

/**
 * True when this session borrowed another process's embedded server and that server has stopped (or stops
 * within a moment: an RPC error often arrives just before the process is seen to be gone).
 */
async function borrowedServerGone(session: TemporalSession): Promise<boolean> {
  const server = session.server;
  if (!server || server.owned) return false;
  return stoppedWithin(server, 2500);
}

async function watchUntilDone(session: TemporalSession, workflowId: string, flags: Pick<RunFlags, 'json'>, signal: AbortSignal): Promise<Outcome> {
  const handle = session.client.workflow.getHandle(workflowId);
  const stopWatching = new AbortController();
  // The SDK adds an abort listener per RPC (each long poll of result()) and never removes it: a run that lasts
  // days makes thousands. They are tiny; do not let node warn about them in the middle of the live view.
  setMaxListeners(0, stopWatching.signal);
  const onAbort = () => stopWatching.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let failure: string | undefined;
  let result: TaskResult | undefined;
  // The workflow's own end, and the in-process workers dying, both end the watch. The long poll for the
  // result is cancelled when we stop watching, so no RPC outlives the connection.
  const ended = session.client.withAbortSignal(stopWatching.signal, () => handle.result()).then(
    (r) => { result = r as TaskResult; },
    async (err: unknown) => {
      if (stopWatching.signal.aborted) return;
      if (!(err instanceof WorkflowFailedError) && (await borrowedServerGone(session))) return onServerGone();
      failure = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
    },
  );
  let workersGone = false;
  let serverGone = false;
  function onServerGone(): void {
    serverGone = true;
    stopWatching.abort();
  }
  const onWorkersGone = async (why: string): Promise<void> => {
    if (stopWatching.signal.aborted) return;
    if (await borrowedServerGone(session)) return onServerGone();
    workersGone = true;
    failure ??= why;
    stopWatching.abort();
  };
  session.workersDone?.then(
    () => onWorkersGone('the in-process workers stopped'),
    (err: unknown) => onWorkersGone(`the in-process workers failed: ${(err as Error).message}`),
  );
  if (session.server && !session.server.owned) void session.server.exited.then(() => { if (!stopWatching.signal.aborted) onServerGone(); });
  let state = await watchTask({
    poll: () => describeTaskState(session.client, workflowId),
    out: flags.json ? process.stderr : process.stdout,
    signal: stopWatching.signal,
    finished: ended,
  });
  signal.removeEventListener('abort', onAbort);
  if (serverGone && !signal.aborted) return { state, serverGone };
  if (signal.aborted || workersGone) return { state, failure };
  await ended;
  try {
    state = await describeTaskState(session.client, workflowId);
  } catch {
    /* the last polled state is good enough */
  }
  return { state, result: result ?? state?.result, failure };
}

/** The outcome of a run that is no longer running: its state (if a worker answers) and result or failure. */
async function endedOutcome(session: TemporalSession, workflowId: string): Promise<Outcome> {
  const view = await readTaskView(session.client, workflowId);
  if (!view || view.status === 'COMPLETED') return { state: view?.state, result: view?.result };
  let failure = `${workflowId} ended ${view.status.toLowerCase()}`;
  try {
    await session.client.workflow.getHandle(workflowId).result();
  } catch (err) {
    if (err instanceof WorkflowFailedError) failure = err.cause?.message ?? err.message;
  }
  return { state: view.state, failure };
}

/** Follows the workflow from a fresh session after the borrowed server vanished (the workflow is durable). */
async function reattach(session: TemporalSession, workflowId: string, flags: Pick<RunFlags, 'json'>, signal: AbortSignal): Promise<Outcome> {
  const status = (await session.client.workflow.getHandle(workflowId).describe()).status.name;
  if (status !== 'RUNNING') return endedOutcome(session, workflowId);
  return watchUntilDone(session, workflowId, flags, signal);
}

/** DEMO_LARGE's settings for whatever the user did not set, each said once. */
export function largeDemoDefaults(config: Config, flags: RunFlags, say: (m: string) => void): { config: Config; flags: RunFlags } {
  const d = DEMO_LARGE;
  const applied: string[] = [];
  if (!flags.configurations) {
    flags = { ...flags, configurations: [...d.configurations] };
    applied.push(`configurations ${d.configurations.join(' ')} (-c changes it)`);
  }
  if (config.planning.gpuMemoryTargetGb === PLANNING.defaultGpuMemoryGb) {
    config = { ...config, planning: { ...config.planning, gpuMemoryTargetGb: d.gpuMemoryTargetGb } };
    applied.push(`plans for ${d.gpuMemoryTargetGb} GB (planning.gpuMemoryTargetGb; nnU-Net's 8 GB plan needs ~17 GB of RAM in float32)`);
  }
  if (flags.epochs === undefined && flags.iters === undefined) {
    flags = { ...flags, epochs: d.epochs, iters: d.iterationsPerEpoch };
    applied.push(`${d.epochs} epoch x ${d.iterationsPerEpoch} iterations per fold (--epochs/--iters change it)`);
  }
  if (flags.disableTta === undefined && flags.stepSize === undefined) {
    flags = { ...flags, disableTta: !d.validation.tta, stepSize: d.validation.stepSize };
    applied.push('fold validation without mirroring, step 1 (--step-size changes it)');
  }
  if (applied.length) say(`large demo: ${applied.join('; ')}`);
  return { config, flags };
}

export async function runCommand(config: Config, flags: RunFlags): Promise<void> {
  const say = sayTo(flags.json);
  if (!flags.task && !flags.demo) throw new UsageError('which task? pass -t TASK (e.g. -t 4) or --demo');
  if (flags.large && !flags.demo) throw new UsageError('--large goes with --demo (nnunet run --demo --large)');
  const v2 = methodFor(config, flags.method) === 'v2';
  if (v2 && flags.large) throw new UsageError('--large applies v1 planning settings (its GPU memory target and lowres stage): use --demo --method v2, or -t TASK --method v2 on a dataset whose v2 plans have 3d_lowres for the cascade');
  const found = flags.demo ? await ensureDemoTask(config, say, flags.large) : resolveTask(config, flags.task!, v2 ? 'Dataset' : 'Task').paths;
  const paths = v2 ? await v2DatasetPaths(config, found, say) : found;
  if (flags.large) ({ config, flags } = largeDemoDefaults(config, flags, say));
  else if (flags.demo && flags.epochs === undefined && flags.iters === undefined) {
    flags = { ...flags, epochs: DEMO_SCHEDULE.epochs, iters: DEMO_SCHEDULE.iterationsPerEpoch };
    say(`demo schedule: ${DEMO_SCHEDULE.epochs} epochs x ${DEMO_SCHEDULE.iterationsPerEpoch} iterations per fold (--epochs/--iters change it)`);
  }
  const input = taskInput(config, paths, { ...flags, predict: predictTestSet(paths, flags) });
  const validationNote = input.options?.validation && `fold validation: ${describeValidation(input.options.validation)} `
    + `(faster; the CV Dice differs slightly from nnU-Net's default: ${describeValidation(DEFAULT_VALIDATION)})`;
  if (validationNote) say(validationNote);
  const target: WorkflowTarget = { workflowType: 'taskWorkflow', workflowId: taskWorkflowIdOf(input), args: [input], rerunCompleted: flags.rerun };
  await followWorkflow(config, paths, flags, target, { validationNote });
}

/** A workflow the client starts or attaches to, then follows (the task workflow, or one fold's). */
export interface WorkflowTarget {
  workflowType: 'taskWorkflow' | 'foldWorkflow';
  workflowId: string;
  args: unknown[];
  rerunCompleted?: boolean;
}

export interface FollowHooks {
  /** Said again after a successful end. */
  validationNote?: string;
  /** Checked once connected, before the start or attach; throws to refuse. */
  beforeStart?: (client: Client) => Promise<void>;
  /** Said right after the start or attach (e.g. what nnUNet_train's -c meant this time). */
  afterStart?: (attached: boolean, status: string) => string | undefined;
}

/**
 * Starts or attaches to `target` through an embedded or configured server, follows it live (reattaching when a
 * borrowed embedded server goes away), prints its outcome; exit 130 on Ctrl-C (the workflow stays durable).
 */
export async function followWorkflow(config: Config, paths: TaskPaths, flags: Pick<RunFlags, 'json' | 'detach' | 'ui'>, target: WorkflowTarget, hooks: FollowHooks = {}): Promise<void> {
  const say = sayTo(flags.json);
  const { workflowId } = target;
  const { validationNote } = hooks;
  const embedded = !config.temporal.address;

  // Embedded workers share this filesystem: an output folder that cannot be written fails now, not a stage later.
  if (embedded) assertOutputFoldersWritable(config);
  if (flags.detach && embedded && !(await findRunningServer(config))) {
    throw new UsageError('--detach needs a server that keeps running: set TEMPORAL_ADDRESS, or start `nnunet server` (and `nnunet worker`) first');
  }
  let interrupted = false;
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop now
    interrupted = true;
    say('\ninterrupted: stopping workers (running steps get time to checkpoint) …');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // Handlers first: a Ctrl-C while the server starts must still stop it.
  let session: TemporalSession;
  try {
    session = await openSession(config, { worker: embedded && !flags.detach, ui: flags.ui, say });
  } catch (err) {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    throw err;
  }
  try {
    if (interrupted) {
      process.exitCode = 130;
      return;
    }
    await hooks.beforeStart?.(session.client);
    const started = await startOrAttach(session.client, target.workflowType, workflowId, target.args, { rerunCompleted: target.rerunCompleted });
    say(started.attached
      ? `attached to ${workflowId} (${started.status.toLowerCase()})`
      : `started ${workflowId} for ${paths.taskName}`);
    const afterStart = hooks.afterStart?.(started.attached, started.status);
    if (afterStart) say(afterStart);
    if (session.logFile) say(`worker log: ${session.logFile}`);
    if (flags.detach) {
      if (flags.json) printJson({ workflowId, attached: started.attached, status: started.status });
      return;
    }
    let outcome: Outcome;
    if (started.attached && started.status === 'COMPLETED') {
      outcome = await endedOutcome(session, workflowId);
    } else {
      outcome = await watchUntilDone(session, workflowId, flags, interrupt.signal);
    }
    for (let n = 1; outcome.serverGone && !interrupted; n++) {
      if (n > MAX_REATTACH) {
        outcome = { state: outcome.state, failure: `the embedded server kept going away (${MAX_REATTACH} reattaches); run the same command again to continue` };
        break;
      }
      say(`the embedded server at ${session.address} stopped (the nnunet process that started it exited); ${workflowId} is durable: reattaching …`);
      await session.close();
      session = await openSession(config, { worker: true, ui: flags.ui, say });
      outcome = await reattach(session, workflowId, flags, interrupt.signal);
    }
    if (interrupted) {
      say(`${workflowId} is durable: run the same command again to continue where it stopped`);
      process.exitCode = 130;
      return;
    }
    const ok = outcome.result !== undefined && outcome.failure === undefined;
    if (flags.json) {
      printJson({ workflowId, status: ok ? 'completed' : 'failed', result: outcome.result, error: ok ? undefined : outcome.failure, state: outcome.state });
    } else if (outcome.state && !process.stdout.isTTY) {
      // The live view on a terminal already shows the final tree; logs get it once at the end.
      say(renderTaskState(outcome.state));
    }
    const lines = outcomeLines(outcome.state, ok ? outcome.result : undefined, outcome.failure, paths);
    for (const l of lines) (ok ? say : (m: string) => process.stderr.write(`${m}\n`))(l);
    if (ok && validationNote) say(validationNote);
    if (!ok) throw new WorkFailedError(`${workflowId} failed${lines.length ? '' : `: ${outcome.failure ?? 'unknown error'}`}`);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await session.close();
  }
}

