/**
 * Benchmarks measure each stage in a child process of its own, so its peak RSS (getrusage maxRSS) is that
 * stage's alone. The child (bench/job-runner.ts) gets one JSON job as its argument and prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job, JobResult } from './job-runner';

const JOB_TIMEOUT_MS = 60 * 60 * 1000;

/** Runs one job in a fresh node process; throws with the child's last stderr line on failure. */
export function runJob<J extends Job>(job: J): JobResult<J> {
  return runJsonChild(process.execPath, [path.join(__dirname, 'job-runner.js'), JSON.stringify(job)], `bench ${job.kind}`);
}

/** Runs a child that prints its result as the last line of stdout (JSON); throws with its last stderr line on failure. */
export function runJsonChild<T>(cmd: string, args: string[], what: string, timeoutMs = JOB_TIMEOUT_MS): T {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status === 0 && line) return JSON.parse(line) as T;
  const why = r.error?.message ?? (r.stderr?.trim().split('\n').pop() || `exit code ${r.status}`);
  throw new Error(`${what} failed: ${why}`);
}

/** "2 cores, load average 3.1 2.8 2.5": the context every figure needs on a shared machine. */
export function machineLine(): string {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), load average ${load}`;
}

export const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** Left-aligned plain-text table. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
