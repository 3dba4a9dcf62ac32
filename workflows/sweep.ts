/**
 * sweepWorkflow: a task workflow per task (child id = the task's own workflow id, so a sweep and `nnunet run`
 * share results), at most `maxConcurrentTasks` at once; continue-as-new carries finished outcomes when the
 * history grows; at the end a report activity writes the CSV + Markdown table.
 */
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { TASK_QUEUES } from '../activities/contract';
import { NON_RETRYABLE_TYPES } from '../activities/contract';
import type { ReportActivities } from '../activities/report/contract';
import { sweepStateQuery } from './definitions';
import { WORKFLOW_TASK_QUEUE, type TaskOptions } from './options';
import { taskWorkflowId } from './state';
import { sweepRows, type SweepInput, type SweepResult, type SweepTask, type SweepTaskOutcome } from './sweep-types';
import { taskWorkflow } from './task';

const report = proxyActivities<ReportActivities>({
  taskQueue: TASK_QUEUES.cpu,
  startToCloseTimeout: 5 * 60_000,
  retry: { initialInterval: 1000, maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES] },
});

function childError(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ChildWorkflowFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) return `${e.type ?? 'Error'}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** What a task's variant brings: its options over the sweep's, its name in the report, and the variant for its rows. */
function variantOf(t: SweepTask): { options: Partial<TaskOptions>; task: string; label: { variant?: string } } {
  return { options: t.options ?? {}, task: t.task ?? t.paths.taskName, label: t.variant !== undefined ? { variant: t.variant } : {} };
}

/** Sweeps recorded before method variants replay without them (their tasks have none anyway). */
export const SWEEP_VARIANTS_PATCH = 'sweep-method-variants';

export async function sweepWorkflow(input: SweepInput): Promise<SweepResult> {
  const carried = input.carried ?? { outcomes: [], startedAt: new Date().toISOString(), runs: 0 };
  const outcomes: SweepTaskOutcome[] = [...carried.outcomes];
  const finished = new Set(outcomes.map((o) => o.workflowId));
  // Method variants (v1 / v2 / a v2 planner): each task once per variant, under the variant's own id and options.
  const variants = input.tasks.some((t) => t.variant !== undefined) && patched(SWEEP_VARIANTS_PATCH);
  const idOf = (t: SweepTask): string => (variants && t.workflowId ? t.workflowId : taskWorkflowId(t.taskId));
  const waiting: SweepTask[] = input.tasks.filter((t) => !finished.has(idOf(t)));
  const running = new Set<string>();
  setHandler(sweepStateQuery, () => ({
    name: input.name,
    running: [...running],
    waiting: waiting.map(idOf),
    outcomes,
    runs: carried.runs,
  }));

  const limit = Math.max(1, input.maxConcurrentTasks ?? 1);
  const historyFull = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (input.maxHistoryEvents !== undefined && info.historyLength >= input.maxHistoryEvents);
  };
  const runTask = async (t: SweepTask): Promise<void> => {
    const workflowId = idOf(t);
    const own = variants ? variantOf(t) : { options: {}, task: t.paths.taskName, label: {} };
    running.add(workflowId);
    try {
      const result = await executeChild(taskWorkflow, {
        workflowId,
        taskQueue: WORKFLOW_TASK_QUEUE,
        args: [{ paths: t.paths, options: { ...input.options, ...own.options, configurations: input.configurations }, timing: input.timing }],
      });
      outcomes.push({ taskId: t.taskId, ...own.label, task: own.task, workflowId, status: 'completed', result });
    } catch (err) {
      outcomes.push({ taskId: t.taskId, ...own.label, task: own.task, workflowId, status: 'failed', error: childError(err) });
    } finally {
      running.delete(workflowId);
    }
  };

  // Start children up to the limit; when history is full, stop starting, drain, and continue as new.
  const inflight: Array<Promise<void>> = [];
  while (waiting.length > 0) {
    await condition(() => running.size < limit);
    if (historyFull()) break;
    inflight.push(runTask(waiting.shift()!));
  }
  await Promise.all(inflight);
  if (waiting.length > 0) {
    await continueAsNew<typeof sweepWorkflow>({ ...input, carried: { outcomes, startedAt: carried.startedAt, runs: carried.runs + 1 } });
  }

  const rows = sweepRows(outcomes, input.configurations);
  const files = await report.writeSweepReport({ reportDir: input.reportDir, name: input.name, rows });
  const endedAt = new Date().toISOString();
  return { name: input.name, rows, report: files, startedAt: carried.startedAt, endedAt, wallTimeMs: Date.parse(endedAt) - Date.parse(carried.startedAt), runs: carried.runs };
}
