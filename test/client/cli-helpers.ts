/** Runs the built CLI (dist/) as a child process, as a user would. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../config';

export const ROOT = repoRoot();
export const CLI = path.join(ROOT, 'dist', 'client', 'cli.js');
export const binShim = (alias: string): string => path.join(ROOT, 'dist', 'client', 'bin', `${alias}.js`);

export function assertBuilt(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
}

/** Environment for a child CLI: no inherited nnU-Net/Temporal variables unless given. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(nnUNet_|RESULTS_FOLDER$|TEMPORAL_(ADDRESS|NAMESPACE|TLS_)|NNUNET_(LOG_LEVEL|MAX_IMAGE_MEMORY_GB|ALLOW_EXTERNAL_SYMLINKS|EPOCHS|ITERATIONS_PER_EPOCH|HEARTBEAT_TIMEOUT_SECONDS)$)/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; script?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [opts.script ?? CLI, ...args], {
    env: cleanEnv(opts.env), cwd: opts.cwd ?? ROOT, encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000,
  });
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Async variant for long commands (a test can run other things meanwhile). */
export function runCliAsync(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(opts.env), cwd: opts.cwd ?? ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`nnunet ${args.join(' ')} timed out\n${stdout}\n${stderr}`)); }, opts.timeoutMs ?? 120_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
