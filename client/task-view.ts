/**
 * Reading a task workflow for the user: its state when a worker can answer the `state` query, otherwise what
 * the server alone knows (status, result), and a one-paragraph summary of the outcome.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { describeTaskState, type WorkflowStatusName } from './temporal/task-client';
import type { TaskResult, TaskState } from '../workflows/state';
import { firstFailure } from './render/tree';

const QUERY_DEADLINE_MS = 15_000;

export interface TaskView {
  workflowId: string;
  /** Temporal's status of the latest run. */
  status: WorkflowStatusName;
  /** The DAG state, when a worker answered the query. */
  state?: TaskState;
  result?: TaskResult;
  /** Why the state is missing, for the user. */
  note?: string;
}

export async function readTaskView(client: Client, workflowId: string): Promise<TaskView | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  let status: WorkflowStatusName;
  try {
    status = (await handle.describe()).status.name as WorkflowStatusName;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const view: TaskView = { workflowId, status };
  try {
    // A query waits for a worker; with none polling, give up after a while and say why.
    view.state = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => describeTaskState(client, workflowId));
    view.result = view.state.result;
  } catch (err) {
    view.note = `node states unavailable (${(err as Error).message.split('\n')[0]}): no worker is serving this task; ` +
      '`nnunet run` (embedded) or `nnunet worker` (cluster) brings one';
  }
  if (status === 'COMPLETED' && !view.result) view.result = (await handle.result()) as TaskResult;
  return view;
}

/** Human summary of a finished task: the winner, or the failing node and its error. */
export function outcomeLines(state: TaskState | undefined, result: TaskResult | undefined, failure?: string): string[] {
  const lines: string[] = [];
  if (result) {
    lines.push(`task ${result.task} completed${result.wallTimeMs !== undefined ? ` in ${(result.wallTimeMs / 1000).toFixed(1)} s` : ''}`);
    if (result.best) {
      lines.push(`best configuration: ${result.best.winner.name} (mean foreground Dice ${result.best.winner.meanForegroundDice.toFixed(4)})`);
      for (const c of result.best.predictCommands) lines.push(`  ${c}`);
    }
    for (const n of result.notes ?? []) lines.push(`note: ${n}`);
    return lines;
  }
  const failed = state ? firstFailure(state) : undefined;
  if (failed) lines.push(`failed at ${failed.id} (attempt ${failed.attempt}): ${failed.error ?? 'no error message'}`);
  else if (failure) lines.push(`failed: ${failure}`);
  return lines;
}
