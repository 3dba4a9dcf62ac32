/**
 * The live view: polls a task's state until it ends. On a terminal it redraws the tree in place; elsewhere
 * (pipes, CI logs) it prints one line per change.
 */
import type { TaskState } from '../../workflows/state';
import { describeChanges, renderTaskState } from './tree';

export interface WatchOptions {
  /** Returns the current state; undefined while the workflow has none yet. Errors are retried. */
  poll: () => Promise<TaskState | undefined>;
  intervalMs?: number;
  out?: NodeJS.WriteStream;
  /** Redraw in place (default: out.isTTY). */
  tty?: boolean;
  /** Stops watching; the promise then resolves with the last state seen. */
  signal?: AbortSignal;
  /** Resolves when the workflow has ended: one last poll shows the final state, then the watch returns. */
  finished?: Promise<unknown>;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Cuts a line to `columns` visible characters, keeping colour codes intact, so a redraw never wraps. */
export function fitWidth(text: string, columns: number): string {
  if (text.replace(ANSI, '').length <= columns) return text;
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length && visible < columns - 1; ) {
    const esc = text.slice(i).match(/^\x1b\[[0-9;]*[A-Za-z]/);
    if (esc) {
      out += esc[0];
      i += esc[0].length;
    } else {
      out += text[i++];
      visible++;
    }
  }
  return `${out}…\x1b[0m`;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function watchTask(opts: WatchOptions): Promise<TaskState | undefined> {
  const out = opts.out ?? process.stdout;
  const tty = opts.tty ?? out.isTTY === true;
  const interval = opts.intervalMs ?? (tty ? 1000 : 2000);
  let last: TaskState | undefined;
  let drawnLines = 0;
  let lastError = '';
  let finished = false;
  const wake = new AbortController();
  opts.signal?.addEventListener('abort', () => wake.abort(), { once: true });
  void opts.finished?.finally(() => {
    finished = true;
    wake.abort();
  });
  while (!opts.signal?.aborted) {
    const lastRound = finished;
    let state: TaskState | undefined;
    try {
      state = await opts.poll();
      lastError = '';
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (!tty && message !== lastError) out.write(`(state not available yet: ${message})\n`);
      lastError = message;
    }
    if (state) {
      if (tty) {
        const columns = out.columns || 120;
        const lines = renderTaskState(state, { color: true }).split('\n').map((l) => fitWidth(l, columns));
        // Move to the start of the previous drawing and clear it, then draw the new one.
        out.write(`${drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[0J` : ''}${lines.join('\n')}\n`);
        drawnLines = lines.length;
      } else {
        for (const l of describeChanges(last, state)) out.write(`${l}\n`);
      }
      last = state;
      if (state.status !== 'running') return state;
    }
    if (lastRound) return last;
    await sleep(interval, wake.signal);
  }
  return last;
}
