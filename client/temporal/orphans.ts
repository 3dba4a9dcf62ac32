/**
 * Steps orphaned by a dead local worker. After a kill -9 of `nnunet run` (or of `nnunet worker`), Temporal still
 * sees the killed attempts as running until their heartbeat timeout. On start, the CLI looks at the running
 * workflows' pending activities: an attempt whose worker identity names a process of this host that no longer
 * exists is failed at once through its activity id, so Temporal retries it now (the retry continues from what
 * the dead attempt saved: checkpoints, finished cases). Identities are `nnunet-<role>-<pid>[.<session>]@<host>`:
 * the session number tells this process's earlier, shut-down workers (a client that reattached) from its own.
 */
import * as os from 'node:os';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { isAlive } from './server-lock';

const IDENTITY = /^nnunet-[A-Za-z]+-(\d+)(?:\.(\d+))?@(.+)$/;
/** temporal.api.enums.v1.PendingActivityState values (the proto package is not a dependency of ours). */
const STARTED = 2;
const CANCEL_REQUESTED = 3;
/** Running workflows looked at, at most (an embedded server holds a handful; a shared cluster may hold many). */
const MAX_WORKFLOWS = 200;

export interface OrphanedAttempt {
  workflowId: string;
  runId: string;
  activityId: string;
  attempt: number;
  /** The pid of the worker that ran it (gone). */
  pid: number;
  /** The workflow asked to cancel it: report the cancellation instead of failing it. */
  cancelRequested: boolean;
}

let sessionCount = 0;

/** The identity of the next in-process workers: `nnunet-<role>-<pid>.<n>@<host>`, n counting this process's sessions. */
export function nextSessionIdentity(role: string): { identity: string; session: number } {
  const session = ++sessionCount;
  return { identity: `nnunet-${role}-${process.pid}.${session}@${os.hostname()}`, session };
}

/**
 * The pid of a worker of ours on this host named by `identity`, if it is gone: another process that no longer
 * exists, or an earlier session of this process (its workers were shut down before `currentSession` started).
 */
export function deadLocalWorkerPid(identity: string | null | undefined, host = os.hostname(), currentSession?: number): number | undefined {
  const m = IDENTITY.exec(identity ?? '');
  if (!m || m[3] !== host) return undefined;
  const pid = Number(m[1]);
  if (pid === process.pid) {
    const session = m[2] === undefined ? undefined : Number(m[2]);
    return session !== undefined && currentSession !== undefined && session < currentSession ? pid : undefined;
  }
  return isAlive(pid) ? undefined : pid;
}

/** Attempts of running workflows (all of them, or those named) whose worker on this host is gone. */
export async function findOrphanedAttempts(client: Client, workflowIds?: readonly string[], currentSession?: number): Promise<OrphanedAttempt[]> {
  const ids: Array<{ workflowId: string; runId?: string }> = workflowIds?.map((workflowId) => ({ workflowId })) ?? [];
  if (!workflowIds) {
    for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      ids.push({ workflowId: wf.workflowId, runId: wf.runId });
      if (ids.length >= MAX_WORKFLOWS) break;
    }
  }
  const found: OrphanedAttempt[] = [];
  for (const { workflowId, runId } of ids) {
    let described;
    try {
      described = await client.workflow.getHandle(workflowId, runId).describe();
    } catch {
      continue; // gone meanwhile, or never started
    }
    if (described.status.name !== 'RUNNING') continue;
    const raw = described.raw;
    for (const a of raw.pendingActivities ?? []) {
      const state = Number(a.state);
      if (state !== STARTED && state !== CANCEL_REQUESTED) continue;
      const pid = deadLocalWorkerPid(a.lastWorkerIdentity, os.hostname(), currentSession);
      if (pid === undefined || !a.activityId) continue;
      found.push({
        workflowId,
        runId: described.runId,
        activityId: a.activityId,
        attempt: a.attempt ?? 1,
        pid,
        cancelRequested: state === CANCEL_REQUESTED,
      });
    }
  }
  return found;
}

/**
 * Fails (or, where cancellation was asked, reports cancelled) every orphaned attempt, saying what it does.
 * Best effort: an attempt that finished or moved on meanwhile is left alone. Returns the attempts handled.
 */
export async function restartOrphanedAttempts(client: Client, say: (m: string) => void, opts: { workflowIds?: readonly string[]; currentSession?: number } = {}): Promise<OrphanedAttempt[]> {
  const orphans = await findOrphanedAttempts(client, opts.workflowIds, opts.currentSession);
  const handled: OrphanedAttempt[] = [];
  for (const o of orphans) {
    const id = { workflowId: o.workflowId, runId: o.runId, activityId: o.activityId };
    try {
      if (o.cancelRequested) {
        await client.activity.reportCancellation(id);
        say(`${o.workflowId}: the worker that ran ${o.activityId} (pid ${o.pid}) is gone; it was being cancelled: marked cancelled`);
      } else {
        await client.activity.fail(id, ApplicationFailure.create({
          type: 'WorkerGone',
          message: `the worker that ran attempt ${o.attempt} (pid ${o.pid} on ${os.hostname()}) is gone`,
          nextRetryDelay: '1 second',
        }));
        say(`${o.workflowId}: the worker that ran ${o.activityId} (pid ${o.pid}) is gone; restarting it (attempt ${o.attempt + 1})`);
      }
      handled.push(o);
    } catch {
      /* finished, timed out or retried meanwhile: nothing to do */
    }
  }
  return handled;
}
