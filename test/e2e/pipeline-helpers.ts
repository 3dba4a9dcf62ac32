/**
 * Helpers of the whole-pipeline tests (pipeline, crash, sweep): the CLI as its own process group (so a test can
 * kill -9 all of it, as a crash would), printed commands split into words, file fingerprints.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, cleanEnv, ROOT } from '../client/cli-helpers';
import { listFiles } from './helpers';

/** A printed shell command split into words (plain words and '…' quoting, as the CLI prints them). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return words;
}

export interface GroupProcess {
  pid: number;
  readonly output: string;
  /** Resolves once `test(output)` holds (polled), rejects on exit or timeout. */
  until(test: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** SIGKILL to the whole process group (the CLI, its in-process workers' training children, batch workers). */
  killGroup(): void;
  done: Promise<number | null>;
}

/** `nnunet ARGS` as the leader of a new process group. */
export function startCliGroup(args: string[], env: Record<string, string>): GroupProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let exited = false;
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => { exited = true; resolve(code); }));
  return {
    pid: child.pid!,
    get output() { return output; },
    done,
    killGroup: () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } },
    async until(test, timeoutMs, what) {
      const end = Date.now() + timeoutMs;
      while (!test()) {
        if (exited) throw new Error(`nnunet ${args.join(' ')} exited before ${what}\n${output}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** relative path → mtime (ms) and size of every file under `dir`: equal maps = nothing rewritten. */
export function fileStamps(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listFiles(dir)) {
    const st = fs.statSync(path.join(dir, f));
    out[f] = `${st.mtimeMs} ${st.size}`;
  }
  return out;
}
