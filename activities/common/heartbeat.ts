/**
 * Long compute off the worker's event loop, with heartbeats, resume and cancellation.
 *
 * Parent (inside an activity): `runComputeWithHeartbeat({ module, input })` forks `module` (a file that calls
 * `serveCompute`), heartbeats the child's latest progress details (and keeps heartbeating while the child is busy),
 * hands the child the details of the previous attempt (`Context.current().info.heartbeatDetails`) so a retry
 * resumes, and turns Temporal cancellation into a `cancel` message: the child checkpoints, reports, and stops.
 * Child: `serveCompute(async (input, { resumeFrom, report, signal }) => result)`. If the worker process dies,
 * the child sees its IPC channel close, aborts and exits, so no orphan keeps computing.
 */
import { fork } from 'node:child_process';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { BadInputError, NotImplementedError } from './errors';

type ToChild<I, D> = { type: 'start'; input: I; resumeFrom?: D } | { type: 'cancel' };
type FromChild<D, R> =
  | { type: 'progress'; details: D }
  | { type: 'result'; value: R }
  | { type: 'cancelled' }
  | { type: 'error'; name: string; message: string; stack?: string; file?: string };

export interface ComputeOptions<I, D> {
  /** Absolute path of the module that calls serveCompute (.js; .ts works when the worker runs under tsx). */
  module: string;
  input: I;
  /** Heartbeat at least this often even without new progress (default 5 s; the SDK throttles what it sends). */
  heartbeatEveryMs?: number;
  /** After cancellation: time the child gets to checkpoint and stop before SIGKILL (default 60 s). */
  cancelGraceMs?: number;
  /** Called with each progress report (after it is heartbeated). */
  onProgress?: (details: D) => void;
}

/** Node flags for the child: the parent's loaders (tsx), without the test runner's flags. */
function childExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--test'));
}

function rebuildError(m: Extract<FromChild<unknown, unknown>, { type: 'error' }>): Error {
  let err: Error;
  if (m.name === 'BadInput') err = new BadInputError(m.message, m.file);
  else if (m.name === 'NotImplemented') err = Object.assign(new NotImplementedError('x'), { message: m.message });
  else {
    err = new Error(m.message);
    err.name = m.name;
  }
  if (m.stack) err.stack = m.stack;
  return err;
}

export function runComputeWithHeartbeat<I, D, R>(opts: ComputeOptions<I, D>): Promise<R> {
  const ctx = Context.current();
  const resumeFrom = ctx.info.heartbeatDetails as D | undefined;
  let last: D | undefined = resumeFrom;
  // Keep the previous attempt's details on the server until the child reports newer ones.
  ctx.heartbeat(last);
  const child = fork(opts.module, [], { execArgv: childExecArgv(), serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const beat = setInterval(() => ctx.heartbeat(last), opts.heartbeatEveryMs ?? 5000);
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(beat);
      ctx.cancellationSignal.removeEventListener('abort', onAbort);
      fn();
    };
    const send = (m: ToChild<I, D>): void => {
      if (child.connected) child.send(m);
    };
    function onAbort(): void {
      cancelled = true;
      send({ type: 'cancel' });
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.cancelGraceMs ?? 60_000);
    }
    ctx.cancellationSignal.addEventListener('abort', onAbort);
    child.on('message', (m: FromChild<D, R>) => {
      if (m.type === 'progress') {
        last = m.details;
        ctx.heartbeat(last);
        opts.onProgress?.(m.details);
      } else if (m.type === 'result') finish(() => resolve(m.value));
      else if (m.type === 'cancelled') finish(() => reject(new CancelledFailure('compute stopped after cancellation', [last])));
      else if (m.type === 'error') finish(() => reject(rebuildError(m)));
    });
    child.once('error', (err) => finish(() => reject(err)));
    child.once('exit', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      finish(() => reject(cancelled
        ? new CancelledFailure('compute killed after cancellation', [last])
        : new Error(`compute process ${opts.module} exited (${signal ?? `code ${code}`}) without a result`)));
    });
    send({ type: 'start', input: opts.input, resumeFrom });
    if (ctx.cancellationSignal.aborted) onAbort();
  });
}

export interface ComputeContext<D> {
  /** Progress details of the previous attempt (heartbeat details), if this is a retry. */
  resumeFrom?: D;
  /** Report progress (e.g. {epoch, checkpoint}); becomes the activity's heartbeat details. */
  report(details: D): void;
  /** Aborted on cancellation or when the worker process died: checkpoint, report, then return or throw. */
  signal: AbortSignal;
}

/** The child side: call once at the top level of the module given to runComputeWithHeartbeat. */
export function serveCompute<I, D, R>(fn: (input: I, ctx: ComputeContext<D>) => Promise<R>): void {
  if (!process.send) throw new Error('serveCompute: this module must be forked by runComputeWithHeartbeat');
  const abort = new AbortController();
  const send = (m: FromChild<D, R>): void => {
    if (process.connected) process.send!(m);
  };
  process.on('disconnect', () => {
    // The worker process is gone: stop at the next checkpoint, and do not linger.
    abort.abort();
    setTimeout(() => process.exit(1), 30_000).unref();
  });
  process.on('message', (m: ToChild<I, D>) => {
    if (m.type === 'cancel') {
      abort.abort();
      return;
    }
    fn(m.input, { resumeFrom: m.resumeFrom, report: (details) => send({ type: 'progress', details }), signal: abort.signal })
      .then(
        (value) => send({ type: 'result', value }),
        (err: unknown) => {
          if (abort.signal.aborted) send({ type: 'cancelled' });
          else {
            const e = err instanceof Error ? err : new Error(String(err));
            send({ type: 'error', name: e.name, message: e.message, stack: e.stack, file: (e as BadInputError).file });
          }
        },
      )
      .finally(() => {
        if (process.connected) process.disconnect();
        process.exitCode = 0;
      });
  });
}
