/**
 * Worker-thread plumbing shared by the thread pools (fingerprint/preprocessing worker-pool, training batch-worker):
 * starting a worker from a module file whether it runs compiled (.js) or under tsx (.ts, development and tests),
 * and carrying an error across the thread boundary so BadInputError stays BadInputError (non-retryable, file kept).
 */
import * as path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { BadInputError } from './errors';

/** Starts `moduleFile` in a worker thread; a .ts module gets tsx's CommonJS hook registered first. */
export function startWorkerThread(moduleFile: string, options: WorkerOptions = {}): Worker {
  if (moduleFile.endsWith('.ts')) {
    const tsx = require.resolve('tsx/cjs');
    return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(path.resolve(moduleFile))});`, { ...options, eval: true });
  }
  return new Worker(moduleFile, options);
}

/** An error as it crosses postMessage (structured clone drops the class). */
export interface ThreadError { name: string; message: string; file?: string; stack?: string }

export function toThreadError(err: unknown): ThreadError {
  const e = err as Error & { file?: string };
  return { name: e.name, message: e.message, file: e.file, stack: e.stack };
}

/** The error on this side of the boundary: BadInputError again for bad input, else an Error with the name and stack. */
export function reviveThreadError(error: ThreadError): Error {
  if (error.name === 'BadInput' || error.name === 'BadInputError') return new BadInputError(error.message, error.file);
  const e = new Error(error.message);
  e.name = error.name;
  if (error.stack) e.stack = error.stack;
  return e;
}
