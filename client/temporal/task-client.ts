/**
 * Client-side helpers for the task and sweep workflows (not workflow code):
 *   startOrAttachTask / startOrAttachSweep — deterministic ids; a second start attaches instead of duplicating,
 *   describeTaskState — the `state` query merged with live attempts and heartbeat details of running activities,
 *   cancelTask — a node (signal) or the whole task (Temporal cancellation).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { fromPayloadsAtIndex, type PayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { isDeepStrictEqual } from 'node:util';
import type { TaskPaths, TrainProgress } from '../../activities/contract';
import { taskPathsOf, writeStorageMarker } from '../../activities/io/storage-marker';
import { cancelSignal, selectSignal, taskStateQuery, type SelectionChange } from '../../workflows/definitions';
import { WORKFLOW_TASK_QUEUE, type TaskWorkflowInput } from '../../workflows/options';
import { sweepWorkflowId, taskWorkflowId, type DagNode, type TaskState } from '../../workflows/state';
import type { SweepInput } from '../../workflows/sweep-types';
import { presetV2 } from '../../activities/planning/v2/experiment';
import { DEFAULT_PLANNER_V2 } from '../../activities/planning/v2/activity';

export type WorkflowStatusName = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'CONTINUED_AS_NEW' | 'TIMED_OUT' | 'UNSPECIFIED' | 'PAUSED' | 'UNKNOWN';

export interface StartOrAttach {
  handle: WorkflowHandle;
  /** True when an existing run (running, or completed and not rerun) was reused. */
  attached: boolean;
  /** Status of the run the handle points at when the call returned. */
  status: WorkflowStatusName;
}

export interface AttachOptions {
  /** Start a new run even when the last one completed (stages skip their finished outputs). Default false. */
  rerunCompleted?: boolean;
}

/** `Task004_Hippocampus` / `Dataset004_X` → `nnunet-task-004`; other names → `nnunet-task-<name>`. */
export function taskWorkflowIdFor(taskName: string): string {
  const m = /^(?:Task|Dataset)(\d+)(?:_|$)/.exec(taskName);
  return taskWorkflowId(m ? Number(m[1]) : taskName);
}

/**
 * The workflow id of a task run: v1's `nnunet-task-004` (shared with nnUNet_train's fold ids); a v2 run adds its
 * plans name (`nnunet-task-004-v2-nnUNetPlans`), so v1, v2 and each v2 planner of one dataset are separate runs.
 */
export function taskWorkflowIdOf(input: Pick<TaskWorkflowInput, 'paths' | 'options'>): string {
  if (input.options?.method !== 'v2') return taskWorkflowIdFor(input.paths.taskName);
  return v2TaskWorkflowIdFor(input.paths.taskName, presetV2(input.options.planner ?? DEFAULT_PLANNER_V2).plansName);
}

/** The `nnunet run --method v2` workflow of a dataset whose plans are `plansName`: `nnunet-task-004-v2-nnUNetPlans`. */
export const v2TaskWorkflowIdFor = (taskName: string, plansName: string): string => `${taskWorkflowIdFor(taskName)}-v2-${plansName}`;

async function currentStatus(handle: WorkflowHandle): Promise<WorkflowStatusName | undefined> {
  try {
    return (await handle.describe()).status.name as WorkflowStatusName;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Whether the run behind `handle` was started with `args`. A completed run is reused only for the same
 * request: `run -c 3d_fullres` after a finished `run -c 2d` must train 3d_fullres, not re-report the 2d run.
 */
async function startedWith(client: Client, handle: WorkflowHandle, args: unknown[]): Promise<boolean> {
  const last = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
  // After continue-as-new the last run's input is the carried-over state: compare with the chain's first run.
  const firstRunId = last?.firstExecutionRunId;
  const first = firstRunId && firstRunId !== (await handle.describe()).runId
    ? (await client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes
    : last;
  const payloads = first?.input?.payloads ?? [];
  const converter = client.options.loadedDataConverter.payloadConverter;
  const previous = payloads.map((_, i) => fromPayloadsAtIndex<unknown>(converter, i, payloads));
  // Through JSON like the payloads themselves, so undefined fields compare as absent.
  return isDeepStrictEqual(previous, JSON.parse(JSON.stringify(args)));
}

/** The TaskPaths in a workflow's arguments: `{ paths }` (task), `{ train: { paths } }` (fold), `{ tasks: [{ paths }] }` (sweep). */
export function taskPathsIn(args: unknown[]): TaskPaths[] {
  return args.flatMap((a) => {
    const o = a as { train?: unknown; tasks?: unknown } | undefined;
    const nested = [o?.train, ...(Array.isArray(o?.tasks) ? o.tasks : [])];
    return [a, ...nested].map(taskPathsOf).filter((p): p is TaskPaths => p !== undefined);
  });
}

/** Writes each task's storage marker, which every activity checks (io/storage-marker.ts); the client must see the storage too. */
function markSharedStorage(args: unknown[]): void {
  for (const paths of taskPathsIn(args)) {
    try {
      writeStorageMarker(paths);
    } catch (err) {
      throw new Error(`cannot write the storage marker of ${paths.taskName} into ${paths.resultsDir} (${(err as Error).message}): ` +
        'the machine that starts a task must see the same RESULTS_FOLDER as its workers (docs/deploy.md)');
    }
  }
}

/**
 * Starts `workflowType` under `workflowId` unless a run is already going (attach) or has completed
 * with the same args (attach to its result, unless rerunCompleted); a different request starts a new run. Failed, cancelled or terminated runs are started again:
 * the new run continues where the old one stopped because finished stages skip their work.
 */
export async function startOrAttach(client: Client, workflowType: string, workflowId: string, args: unknown[], opts: AttachOptions = {}): Promise<StartOrAttach> {
  markSharedStorage(args); // before attaching too: a run started before markers existed gets one
  const existing = client.workflow.getHandle(workflowId);
  const status = await currentStatus(existing);
  if (status === 'RUNNING' || (status === 'COMPLETED' && !opts.rerunCompleted && (await startedWith(client, existing, args)))) {
    return { handle: existing, attached: true, status };
  }
  try {
    const handle = await client.workflow.start(workflowType, {
      workflowId,
      taskQueue: WORKFLOW_TASK_QUEUE,
      args,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
    });
    return { handle, attached: false, status: 'RUNNING' };
  } catch (err) {
    // Another client started it between describe and start: attach to theirs.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: client.workflow.getHandle(workflowId), attached: true, status: 'RUNNING' };
    }
    throw err;
  }
}

export function startOrAttachTask(client: Client, input: TaskWorkflowInput, opts: AttachOptions & { workflowId?: string } = {}): Promise<StartOrAttach> {
  return startOrAttach(client, 'taskWorkflow', opts.workflowId ?? taskWorkflowIdOf(input), [input], opts);
}

export function startOrAttachSweep(client: Client, input: SweepInput, opts: AttachOptions = {}): Promise<StartOrAttach> {
  return startOrAttach(client, 'sweepWorkflow', sweepWorkflowId(input.name), [input], opts);
}

type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

/** Merges live activity facts into the workflow's own state: attempt, last retry error, heartbeat progress. */
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED */
const PENDING_ACTIVITY_STATE_SCHEDULED = 1;

export function mergePendingActivities(state: TaskState, pending: PendingActivity[], converter: PayloadConverter): TaskState {
  const byId = new Map(pending.filter((p) => p.activityId).map((p) => [p.activityId!, p]));
  const nodes = state.nodes.map((node) => {
    const p = byId.get(node.id);
    if (!p || node.status !== 'running') return node;
    const merged: DagNode = { ...node, attempt: p.attempt ?? node.attempt };
    // Scheduled but not started: waiting for a free worker slot (one training per GPU worker).
    if (p.state === PENDING_ACTIVITY_STATE_SCHEDULED) merged.status = 'queued';
    // Elapsed time of a running step counts from when a worker started this attempt, not from scheduling.
    const startedMs = optionalTsToMs(p.lastStartedTime);
    if (merged.status === 'running' && startedMs) merged.startedAt = new Date(startedMs).toISOString();
    if (p.lastFailure?.message && (p.attempt ?? 1) > 1) merged.error = `attempt ${(p.attempt ?? 2) - 1} failed, retrying: ${p.lastFailure.message}`;
    const details = p.heartbeatDetails?.payloads;
    if (details?.length) {
      const progress = fromPayloadsAtIndex<Partial<TrainProgress> | undefined>(converter, 0, details);
      if (progress && typeof progress === 'object') merged.progress = { ...node.progress, ...progress } as TrainProgress;
    }
    return merged;
  });
  return { ...state, nodes };
}

/** The task's state as `nnunet status` shows it: the query plus live heartbeat details of running activities. */
export async function describeTaskState(client: Client, workflowId: string): Promise<TaskState> {
  const handle = client.workflow.getHandle(workflowId);
  const [state, description] = await Promise.all([handle.query(taskStateQuery), handle.describe()]);
  const pending = [...(description.raw.pendingActivities ?? []), ...(await childrenPendingActivities(client, description.raw.pendingChildren ?? []))];
  return mergePendingActivities(state, pending, client.options.loadedDataConverter.payloadConverter);
}

/** A task trains each fold in a child fold workflow: its training activity (same id as the node) lives there. */
async function childrenPendingActivities(client: Client, children: temporal.api.workflow.v1.IPendingChildExecutionInfo[]): Promise<PendingActivity[]> {
  const lists = await Promise.all(children.filter((c) => c.workflowId).map((c) =>
    client.workflow.getHandle(c.workflowId!, c.runId ?? undefined).describe().then((d) => d.raw.pendingActivities ?? [], () => [])));
  return lists.flat();
}

/**
 * Cancels one node (signal `cancel`; running training gets activity cancellation and checkpoints) or,
 * without nodeId, the whole task (Temporal cancellation: the run ends as Cancelled).
 */
export async function cancelTask(client: Client, workflowId: string, nodeId?: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  if (nodeId === undefined) {
    await handle.cancel();
    return;
  }
  const state = await handle.query(taskStateQuery);
  const node = state.nodes.find((n) => n.id === nodeId);
  if (!node) throw new Error(`no node '${nodeId}' in ${workflowId}; nodes: ${state.nodes.map((n) => n.id).join(', ')}`);
  if (node.status !== 'pending' && node.status !== 'running') throw new Error(`node '${nodeId}' is already ${node.status}`);
  await handle.signal(cancelSignal, { nodeId });
}

/**
 * Changes the configuration/fold selection of a running task (signal `select`); effective until find-best
 * starts. Returns at once; the workflow records in `state.notes` whether the change applied.
 */
export async function selectTask(client: Client, workflowId: string, change: SelectionChange): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(selectSignal, change);
}
