/** Running documented command lines for the v1 and v2 audits: a bin shim (or `nnunet …`) as a user's shell would. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { binShim, cleanEnv, CLI, ROOT } from '../client/cli-helpers';

export interface Ran { code: number | null; stdout: string; stderr: string }

/** Runs one command line without blocking the event loop; rejects when it outlives `timeoutMs`. */
export function run(env: Record<string, string>, line: string[], timeoutMs = 600_000): Promise<Ran> {
  const [cmd, ...args] = line;
  const script = cmd === 'nnunet' ? CLI : binShim(cmd);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: cleanEnv(env), cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${line.join(' ')} timed out\n${stderr}`)); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** `run`, asserting exit 0 (the message shows the line and its output). */
export async function ok(env: Record<string, string>, line: string[]): Promise<Ran> {
  const r = await run(env, line);
  assert.equal(r.code, 0, `${line.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export const niftis = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.nii.gz')).sort();
