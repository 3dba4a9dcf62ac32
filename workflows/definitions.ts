/**
 * Names and types of the workflows' queries and signals, shared by the workflows and the client
 * (defineQuery/defineSignal are safe to import outside the workflow sandbox).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { TaskState } from './state';
import type { SweepState } from './sweep-types';

/** Query `state` on a task workflow: every DAG node with status, times, error. */
export const taskStateQuery = defineQuery<TaskState>('state');
/** Query `state` on a sweep workflow: rows so far, children running and waiting. */
export const sweepStateQuery = defineQuery<SweepState>('state');

export interface CancelRequest {
  /** A node id (`train/3d_fullres/2`); omitted: the whole task. */
  nodeId?: string;
  reason?: string;
}
/**
 * Signal `cancel`: a node id cancels that node (a running training gets Temporal activity cancellation,
 * checkpoints and stops; nodes that wait for it are skipped); no node id cancels the whole task.
 */
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
