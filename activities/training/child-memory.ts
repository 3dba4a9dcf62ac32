/**
 * What a training child's death by SIGKILL means. Linux's out-of-memory killer ends the largest process with
 * SIGKILL and leaves no message in it; a plan whose patch and batch need more memory than the machine has dies
 * that way on every attempt. The parent samples the child's peak resident memory (VmHWM) while it runs, so the
 * error can say how close to the machine's memory it got, and what to change.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { OutOfMemoryError } from '../common/errors';

/** Peak RSS this close to the machine's memory when SIGKILLed: the OOM killer's doing, not a one-off. */
const OOM_FRACTION = 0.7;
const SAMPLE_MS = 1000;

/** The process's peak resident memory in bytes (Linux /proc), or undefined where that cannot be read. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a child's peak RSS every second until stopped; `peak` is the highest value seen. */
export function watchPeakRss(pid: number): { readonly peak: number | undefined; stop(): void } {
  let peak: number | undefined;
  const sample = () => { const v = peakRssBytes(pid); if (v !== undefined) peak = Math.max(peak ?? 0, v); };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  timer.unref();
  return { get peak() { return peak; }, stop: () => clearInterval(timer) };
}

const gb = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GB`;

/**
 * The error for a child that exited without reporting: OutOfMemoryError (not retried) when SIGKILL came after
 * it had used most of the machine's memory, else a plain Error (retried, resuming from the newest checkpoint).
 */
export function childExitError(code: number | null, signal: NodeJS.Signals | null, peakBytes: number | undefined, totalBytes = os.totalmem()): Error {
  if (signal === 'SIGKILL' && peakBytes !== undefined && peakBytes >= OOM_FRACTION * totalBytes) {
    return new OutOfMemoryError(
      `the training process was killed (SIGKILL) after using ${gb(peakBytes)} of this machine's ${gb(totalBytes)}: ` +
        'it ran out of memory (Linux\'s OOM killer). This plan\'s patch and batch size need more memory than this ' +
        'machine has; train it on a machine with more memory, or plan for less (planning.gpuMemoryTargetGb in ' +
        'config, e.g. 4, then preprocess again). Checkpoints written so far are kept.');
  }
  const how = signal ?? `code ${code}`;
  const used = peakBytes !== undefined ? ` (peak memory ${gb(peakBytes)})` : '';
  return new Error(`training process exited (${how})${used} before reporting a result; the next attempt resumes from the newest checkpoint`);
}
