/**
 * Runs one handler over many inputs on a pool of worker threads (nnU-Net's multiprocessing Pool with -tl/-tf
 * counts). Each worker holds one case at a time, so memory is bounded by the worker count. Results come back
 * in input order. With concurrency 1 the handler runs in this thread (no worker start-up cost).
 *
 * A worker module calls `serveWorkerRequests(handler)` at load time and exports the handler; the pool loads it
 * by file path (compiled .js, or .ts under tsx in development and tests).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { type Worker, isMainThread, parentPort, type TransferListItem } from 'node:worker_threads';
import { reviveThreadError, startWorkerThread, toThreadError, type ThreadError } from './threads';

export type Handler<I, O> = (input: I) => Promise<O> | O;

/** A handler's output may name buffers to move (not copy) back to the main thread. */
export interface WithTransfer { transfer?: TransferListItem[] }

interface Request<I> { index: number; input: I }
type Reply<O> =
  | { index: number; ok: true; output: O }
  | { index: number; ok: false; error: ThreadError };

/** Call from a worker module: answers requests from the pool (no-op on the main thread). */
export function serveWorkerRequests<I, O extends WithTransfer | object>(handler: Handler<I, O>): void {
  if (isMainThread || !parentPort) return;
  const port = parentPort;
  port.on('message', async ({ index, input }: Request<I>) => {
    try {
      const output = await handler(input);
      const transfer = (output as WithTransfer).transfer ?? [];
      delete (output as WithTransfer).transfer;
      port.postMessage({ index, ok: true, output } satisfies Reply<O>, transfer);
    } catch (err) {
      port.postMessage({ index, ok: false, error: toThreadError(err) } satisfies Reply<O>);
    }
  });
}

/** The worker module's file next to the calling module, with the caller's own extension (.js or .ts). */
export function siblingModule(callerFile: string, baseName: string): string {
  return path.join(path.dirname(callerFile), baseName + path.extname(callerFile));
}

export interface PoolOptions<O> {
  concurrency: number;
  /** Called as each input finishes (e.g. for progress/heartbeats). */
  onResult?: (index: number, output: O) => void;
}

/** Runs `handler` over `inputs`. The first failure stops the pool and rejects with that error once the cases in flight are done. */
export async function runPool<I, O>(
  moduleFile: string, handler: Handler<I, O>, inputs: readonly I[], options: PoolOptions<O>,
): Promise<O[]> {
  // More threads than cores only adds start-up cost and memory (measured: 8 threads on 2 cores ran 3-6x slower).
  const concurrency = Math.max(1, Math.min(Math.floor(options.concurrency) || 1, inputs.length, os.availableParallelism()));
  const results: O[] = new Array(inputs.length);
  if (concurrency === 1) {
    for (let i = 0; i < inputs.length; i++) {
      const out = await handler(inputs[i]);
      delete (out as WithTransfer).transfer;
      results[i] = out;
      options.onResult?.(i, out);
    }
    return results;
  }
  const workers = Array.from({ length: concurrency }, () => startWorkerThread(moduleFile));
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let done = 0;
      let failure: Error | undefined;
      // The first failure stops the feeding, but the cases in flight finish (or fail) before the threads are
      // terminated: a thread stopped mid-write would leave its temporary file behind.
      const busy = new Set<Worker>();
      const settle = () => { if (failure && busy.size === 0) reject(failure); };
      const fail = (w: Worker, err: Error) => {
        busy.delete(w);
        failure ??= err;
        settle();
      };
      const feed = (w: Worker) => {
        if (failure || next >= inputs.length) return;
        const index = next++;
        busy.add(w);
        w.postMessage({ index, input: inputs[index] } satisfies Request<I>);
      };
      for (const w of workers) {
        w.on('message', (reply: Reply<O>) => {
          if (!reply.ok) return fail(w, reviveThreadError(reply.error));
          busy.delete(w);
          results[reply.index] = reply.output;
          options.onResult?.(reply.index, reply.output);
          if (++done === inputs.length) resolve();
          else feed(w);
          settle();
        });
        w.on('error', (err) => fail(w, err));
        w.on('exit', (code) => { if (done < inputs.length) fail(w, new Error(`worker thread exited (code ${code}) before finishing`)); });
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
