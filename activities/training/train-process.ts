/**
 * The child-process protocol of the `train` activity: the activity forks this file, sends `start` with the fold's
 * input, and the child runs runTrainingFold (train-fold.ts; an nnU-Net v2 fold: v2/run-fold.ts), reporting
 * progress, log lines and the result over IPC; `stop` (or a vanished parent) checkpoints and stops. So the
 * training loop never blocks the worker's event loop.
 */
import { fork } from 'node:child_process';
import type { TrainProgress } from '../contract';
import { childExitError, watchPeakRss } from './child-memory';
import { runTrainingFold, type TrainFoldInput, type TrainFoldResult } from './train-fold';
import { runTrainingFoldV2 } from './v2/run-fold';
import { forwardStderrWithoutNoise } from '../network/tensorflow-noise';

export type { TrainFoldInput, TrainFoldResult, TrainRuntimeOptions } from './train-fold';

/** Parent → child. */
export type ToChild = { type: 'start'; input: TrainFoldInput } | { type: 'stop' };
/** Child → parent. */
export type FromChild =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'log'; line: string }
  | { type: 'result'; result: TrainFoldResult }
  | { type: 'error'; error: { name: string; message: string; file?: string; stack?: string } };

/** The child's side: waits for `start`, trains, reports; `stop` (or a vanished parent) checkpoints and stops. */
export function serveChild(): void {
  let stopRequested = false;
  const send = (m: FromChild) => { if (process.connected) process.send!(m); };
  // The last message goes out before the process ends (send's callback fires once it is written).
  const sendLast = (m: FromChild) => { if (process.connected) process.send!(m, () => process.exit(0)); else process.exit(0); };
  process.on('disconnect', () => { stopRequested = true; });
  process.on('message', (m: ToChild) => {
    if (m.type === 'stop') { stopRequested = true; return; }
    send({ type: 'log', line: `training process ${process.pid}: CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES ?? '(unset)'}` });
    const run = m.input.method === 'v2' ? runTrainingFoldV2 : runTrainingFold;
    run(m.input, {
      shouldStop: () => stopRequested,
      onProgress: (progress) => send({ type: 'progress', progress }),
      log: (line) => send({ type: 'log', line }),
    }).then(
      (result) => sendLast({ type: 'result', result }),
      (err: Error & { file?: string }) => sendLast({ type: 'error', error: { name: err.name, message: err.message, file: err.file, stack: err.stack } }),
    );
  });
}

/** A failure the child reported, with its kind kept (BadInput and OutOfMemory stay non-retryable). */
export class ChildTrainingError extends Error {
  constructor(readonly kind: string, message: string, readonly file?: string, stack?: string) {
    super(message);
    this.name = kind;
    if (stack) this.stack = stack;
  }
}

export interface ChildRunOptions {
  onProgress?: (p: TrainProgress) => void;
  onLog?: (line: string) => void;
  /** Aborting asks the child to checkpoint and stop; the promise then resolves with status 'stopped'. */
  signal?: AbortSignal;
  /** Added to this process's environment for the child (its training slot's GPU pin or thread share). */
  env?: Record<string, string>;
}

/** Runs `runTrainingFold` in a child process (this file's own entry), so the caller's event loop stays free. */
export function runTrainingFoldInChild(input: TrainFoldInput, opts: ChildRunOptions = {}): Promise<TrainFoldResult> {
  const isTs = __filename.endsWith('.ts');
  // Under tsx (tests) the child needs tsx's CommonJS hook; never inherit the parent's flags (e.g. --test).
  const child = fork(__filename, [], {
    execArgv: isTs ? ['--require', require.resolve('tsx/cjs')] : [],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, ...opts.env },
  });
  if (child.stderr) forwardStderrWithoutNoise(child.stderr);
  return new Promise<TrainFoldResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => { if (!settled) { settled = true; opts.signal?.removeEventListener('abort', stop); fn(); } };
    const stop = () => { if (child.connected) child.send({ type: 'stop' } satisfies ToChild); };
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener('abort', stop);
    child.on('message', (m: FromChild) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'log') opts.onLog?.(m.line);
      else if (m.type === 'result') finish(() => resolve(m.result));
      else finish(() => reject(new ChildTrainingError(m.error.name, m.error.message, m.error.file, m.error.stack)));
    });
    child.on('error', (err) => finish(() => reject(err)));
    const memory = child.pid !== undefined ? watchPeakRss(child.pid) : undefined;
    child.on('close', (code, signal) => {
      memory?.stop();
      finish(() => reject(childExitError(code, signal, memory?.peak)));
    });
    child.send({ type: 'start', input } satisfies ToChild);
  });
}

if (require.main === module && process.send) serveChild();
