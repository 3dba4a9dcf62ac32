/**
 * The logging context of the activity that is running: task, configuration, fold, attempt, node. The worker
 * sets it around every activity (AsyncLocalStorage), so any log line written inside, at any depth, carries it:
 * the loggers of logger.ts read `currentLogContext()` in a pino mixin and add the fields (Temporal's `ctx.log`
 * lines included, as they reach pino through client/temporal/runtime-logging.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Configuration, Fold, StepContext } from '../contract';

export interface ActivityLogContext extends StepContext {
  /** Activity type (`train`, `preprocess`, ...). */
  activity: string;
  /** The DAG node (the activity id the workflow chose: `train/3d_fullres/2`). */
  node: string;
  attempt: number;
  workflowId: string;
}

const storage = new AsyncLocalStorage<ActivityLogContext>();

export function runWithLogContext<T>(ctx: ActivityLogContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The context of the activity running on this async path, if any. */
export function currentLogContext(): ActivityLogContext | undefined {
  return storage.getStore();
}

/** Task, configuration and fold from an activity input of the contract (they all carry `paths`). */
export function stepContextOf(input: unknown): StepContext {
  const i = (input ?? {}) as { paths?: { taskName?: unknown }; configuration?: unknown; fold?: unknown; name?: unknown };
  const ctx: StepContext = { task: typeof i.paths?.taskName === 'string' ? i.paths.taskName : typeof i.name === 'string' ? i.name : '-' };
  if (typeof i.configuration === 'string') ctx.configuration = i.configuration as Configuration;
  if (typeof i.fold === 'number' || i.fold === 'all') ctx.fold = i.fold as Fold;
  return ctx;
}
