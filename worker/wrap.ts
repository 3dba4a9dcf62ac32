/**
 * Wraps each activity: sets the logging context (task, configuration, fold, attempt), logs start/end/failure
 * through the activity logger, and maps errors: bad input becomes a non-retryable failure;
 * anything else stays retryable and records the failed attempt in the failure details (the workflow shows it).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { toActivityFailure } from '../activities/common/errors';
import { runWithLogContext, stepContextOf, type ActivityLogContext } from '../activities/common/context';
import { removeLeftoversFor } from './dead-temporaries';

type ActivityFn = (...args: any[]) => Promise<unknown>;

/** Activities that heartbeat themselves with details a retry resumes from; an empty beat would erase them. */
const SELF_HEARTBEATING = new Set(['train']);
/** How often other activities tell the server their worker is alive (well inside their one-minute heartbeat timeout). */
const AUTO_HEARTBEAT_MS = 10_000;

/** Beats until `work` settles, so a step whose worker died is retried elsewhere after the heartbeat timeout. */
async function withAutoHeartbeat<T>(ctx: Context, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => ctx.heartbeat(), AUTO_HEARTBEAT_MS);
  try {
    ctx.heartbeat();
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Removes what killed attempts left half-written; a folder we cannot clean is no reason to fail the step. */
function removeLeftovers(ctx: Context, input: unknown, meta: Record<string, unknown>): void {
  try {
    const removed = removeLeftoversFor(input);
    if (removed.length) ctx.log.info(`removed ${removed.length} temporary file(s) a killed attempt left: ${removed.join(', ')}`, meta);
  } catch (err) {
    ctx.log.warn(`could not remove the temporaries of killed attempts: ${(err as Error).message}`, meta);
  }
}

export function mapActivityError(err: unknown, attempt: number): unknown {
  const mapped = toActivityFailure(err);
  if (mapped instanceof ApplicationFailure || mapped instanceof CancelledFailure) return mapped;
  const e = mapped instanceof Error ? mapped : new Error(String(mapped));
  const failure = ApplicationFailure.create({ type: e.name || 'Error', message: e.message, details: [{ attempt }] });
  failure.stack = e.stack;
  return failure;
}

function wrapOne(name: string, fn: ActivityFn): ActivityFn {
  return async (...args: unknown[]) => {
    const ctx = Context.current();
    const { info } = ctx;
    const logCtx: ActivityLogContext = {
      ...stepContextOf(args[0]),
      activity: name,
      node: info.activityId,
      attempt: info.attempt,
      workflowId: info.workflowExecution?.workflowId ?? '-',
    };
    // Every line carries the four keys one greps by; null where a step has no configuration or fold.
    const meta = { ...logCtx, configuration: logCtx.configuration ?? null, fold: logCtx.fold ?? null };
    return runWithLogContext(logCtx, async () => {
      const started = Date.now();
      ctx.log.info(`${name} started`, meta);
      try {
        removeLeftovers(ctx, args[0], meta);
        const run = () => fn(...args);
        const out = SELF_HEARTBEATING.has(name) ? await run() : await withAutoHeartbeat(ctx, run);
        ctx.log.info(`${name} done`, { ...meta, ms: Date.now() - started });
        return out;
      } catch (err) {
        if (ctx.cancellationSignal.aborted) {
          ctx.log.info(`${name} cancelled`, { ...meta, ms: Date.now() - started });
          throw err;
        }
        ctx.log.warn(`${name} failed: ${(err as Error)?.message ?? String(err)}`, { ...meta, errorType: (err as Error)?.name });
        throw mapActivityError(err, info.attempt);
      }
    });
  };
}

/** Every function of `activities`, wrapped; names are kept (they are the registered activity names). */
export function wrapActivities<T extends object>(activities: T): T {
  const out: Record<string, ActivityFn> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn === 'function') out[name] = wrapOne(name, fn as ActivityFn);
  }
  return out as T;
}
