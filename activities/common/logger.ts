/**
 * Logging: pino, JSON lines by default (for machines and log collectors), pino-pretty when the log goes to a
 * terminal. Activity log lines always carry task, configuration, fold and attempt (null where they do not apply)
 * so one grep finds everything a fold did across retries and workers.
 */
import pino, { type Logger, type LoggerOptions as PinoOptions } from 'pino';
import pretty from 'pino-pretty';
import { currentLogContext } from './context';

export type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  /** Default info; callers pass Config's logging.level (env NNUNET_LOG_LEVEL is read by config/, not here). */
  level?: LogLevel;
  /** 'stdout' (default), 'stderr' or a file path (appended; folders created). */
  destination?: 'stdout' | 'stderr' | string;
  /** Human-readable output; default: when the destination is a terminal. */
  pretty?: boolean;
  name?: string;
}

/** The fields of the activity this line is written in (none outside an activity); see context.ts. */
function activityFields(): Record<string, unknown> {
  const ctx = currentLogContext();
  if (!ctx) return {};
  const { task, configuration, fold, attempt, activity, node, workflowId } = ctx;
  return { task, configuration: configuration ?? null, fold: fold ?? null, attempt, activity, node, workflowId };
}

/** The line's own fields win, except where they are null or absent (e.g. the nulls of Temporal's activity lines). */
function fillMissing(line: object, fields: object): object {
  const out = line as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) if (out[key] === null || out[key] === undefined) out[key] = value;
  return out;
}

function isTerminal(destination: string): boolean {
  if (destination === 'stdout') return process.stdout.isTTY === true;
  if (destination === 'stderr') return process.stderr.isTTY === true;
  return false;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? 'stdout';
  const level = opts.level ?? 'info';
  const fd = destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : undefined;
  const base: PinoOptions = { level, name: opts.name ?? 'nnunet', mixin: activityFields, mixinMergeStrategy: fillMissing };
  if (opts.pretty ?? isTerminal(destination)) {
    // pino-pretty as an in-process stream (no worker thread): simple, and lines are never lost on exit.
    return pino(base, pretty({ colorize: isTerminal(destination), sync: true, destination: fd ?? destination, mkdir: true }));
  }
  // Synchronous writes: a worker killed mid-activity still leaves its last lines on disk.
  return pino(base, pino.destination({ dest: fd ?? destination, sync: true, mkdir: true }));
}

let root: Logger | undefined;

/** The process-wide logger (created on first use with the defaults). */
export function rootLogger(): Logger {
  return (root ??= createLogger());
}

/** Replaces the process-wide logger, e.g. to send logs to a file while the CLI draws its live view. */
export function configureLogging(opts: LoggerOptions): Logger {
  root = createLogger(opts);
  return root;
}
