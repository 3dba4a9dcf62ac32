/**
 * Names and types of the workflows' queries and signals, shared by the workflows and the client
 * (defineQuery/defineSignal are safe to import outside the workflow sandbox).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Configuration, Fold } from '../activities/contract';
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

export interface SelectionChange {
  /** The new configuration selection (replaces the old one); omitted: unchanged. */
  configurations?: Configuration[];
  /** The new fold selection; omitted: unchanged. */
  folds?: Fold[];
}
/**
 * Signal `select`: change the configuration or fold selection of a running task until find-best starts.
 * Added nodes are scheduled; nodes no longer selected are cancelled (running training checkpoints and stops);
 * find-best then covers the new selection. Invalid or late changes are ignored with a note in `state.notes`.
 */
export const selectSignal = defineSignal<[SelectionChange]>('select');
