/**
 * Helpers for end-to-end tests: the real `nnunet` CLI (dist/) in child processes whose output can be awaited
 * line by line, a temp data tree with the nnU-Net environment variables, and workflow-run counting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { CLI, cleanEnv, ROOT } from '../client/cli-helpers';

export interface DataEnv {
  root: string;
  env: { nnUNet_raw_data_base: string; nnUNet_preprocessed: string; RESULTS_FOLDER: string; NNUNET_LOG_LEVEL: string };
  temporalDir: string;
  remove(): void;
}

export function makeDataEnv(prefix: string): DataEnv {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `nnunet-e2e-${prefix}-`));
  const env = {
    nnUNet_raw_data_base: path.join(root, 'raw'),
    nnUNet_preprocessed: path.join(root, 'preprocessed'),
    RESULTS_FOLDER: path.join(root, 'results'),
    NNUNET_LOG_LEVEL: 'info',
  };
  return { root, env, temporalDir: path.join(env.RESULTS_FOLDER, '.temporal'), remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first match of `re` in stdout+stderr (rejects on timeout or exit without it). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
}

/** Starts `nnunet ARGS` (or another script, e.g. an nnU-Net alias's bin shim) as a user would; output is collected and can be awaited. */
export function startCli(args: string[], env: Record<string, string>, timeoutMs = 300_000, script = CLI): CliProcess {
  const t0 = Date.now();
  const child = spawn(process.execPath, [script, ...args], { env: cleanEnv(env), cwd: ROOT });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = (): void => listeners.forEach((l) => l());
  child.stdout!.on('data', (d) => { stdout += d; changed(); });
  child.stderr!.on('data', (d) => { stderr += d; changed(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      // 'exit' may come before the last output: wait for the pipes to close.
      let open = 2;
      const closed = (): void => { if (--open === 0) { changed(); resolve({ code, stdout, stderr, ms: Date.now() - t0 }); } };
      if (child.stdout!.readableEnded) closed(); else child.stdout!.once('close', closed);
      if (child.stderr!.readableEnded) closed(); else child.stderr!.once('close', closed);
    });
  });
  let exited = false;
  void done.then(() => { exited = true; changed(); });
  return {
    child,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    done,
    waitFor(re, waitMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = (stdout + stderr).match(re);
          if (m) finish(() => resolve(m));
          else if (exited) finish(() => reject(new Error(`nnunet ${args.join(' ')} exited without printing ${re}\n${stdout}\n${stderr}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${re}\n${stdout}\n${stderr}`))), waitMs);
        function finish(f: () => void): void { clearTimeout(timer); listeners.delete(check); f(); }
        listeners.add(check);
        check();
      });
    },
  };
}

/** How many runs of `workflowId` the server at `address` knows (the visibility list, all statuses). */
export async function countWorkflowRuns(address: string, workflowId: string): Promise<number> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    let n = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
    return n;
  } finally {
    await connection.close();
  }
}

/** Files under `dir` (relative paths, sorted); [] when it does not exist. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

/** Processes whose command line mentions `needle` (Linux /proc), e.g. a temporal server on a given SQLite file. */
export function processesMentioning(needle: string): number[] {
  if (!fs.existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(needle)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** The training child (train-process.js) in process group `pgid` that runs in slot `slot` (its NNUNET_TRAINING_SLOT). */
export function trainingChildIn(pgid: number, slot: number): number | undefined {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).find((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      return pgrp === pgid && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('train-process')
        && fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`NNUNET_TRAINING_SLOT=${slot}`);
    } catch {
      return false;
    }
  });
}
