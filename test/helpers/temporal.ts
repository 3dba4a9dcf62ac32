/**
 * Test helpers for workflow tests against a real local Temporal dev server (not the time-skipping mock):
 * a server in a temp folder, a workflow bundle built once and cached across test files, clients, and
 * the command line that runs a TS/JS entry in a child process.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { resolveTemporalBinary } from '../../client/temporal/binary';
import { startDevServer, type DevServer } from '../../client/temporal/devserver';
import { bundleWorkflows } from '../../worker';
import type { TaskPaths } from '../../activities/contract';

export const repoRoot = path.resolve(__dirname, '..', '..', ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []));

/** Why Temporal tests cannot run here, or undefined when they can. */
export function temporalUnavailable(): string | undefined {
  try {
    return resolveTemporalBinary() ? undefined : 'no temporal CLI installed (run `npm run setup` or set TEMPORAL_CLI_PATH)';
  } catch (err) {
    return (err as Error).message;
  }
}

export interface TestServer {
  server: DevServer;
  dir: string;
  dbFile: string;
  client: Client;
  connection: Connection;
  /** A worker-side connection (NativeConnection) to the same server. */
  native: NativeConnection;
  /** Stops the server on the same port and SQLite file and starts it again; client connections reconnect. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

let runtimeInstalled = false;
/** Worker logs at WARN only, so test output stays readable (once per process, before the first connection). */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.NNUNET_TEST_TEMPORAL_LOG ?? 'WARN') as LogLevel) });
  } catch {
    // already installed by another helper in this process
  }
}

export async function startTestServer(name: string): Promise<TestServer> {
  quietRuntime();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nnunet-${name}-`));
  const dbFile = path.join(dir, 'temporal.db');
  let server = await startDevServer({ dbFile, uiPort: false, readyTimeoutMs: 180_000 });
  const connection = await Connection.connect({ address: server.address });
  const native = await NativeConnection.connect({ address: server.address });
  const t: TestServer = {
    server,
    dir,
    dbFile,
    connection,
    native,
    client: new Client({ connection }),
    async restart() {
      const port = Number(server.address.split(':')[1]);
      await server.stop();
      server = await startDevServer({ dbFile, port, uiPort: false, readyTimeoutMs: 180_000 });
      t.server = server;
    },
    async close() {
      await connection.close().catch(() => {});
      await native.close().catch(() => {});
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

function workflowSources(): string[] {
  const files = [path.join(repoRoot, 'activities', 'contract.ts'), path.join(repoRoot, 'activities', 'common', 'errors.ts'), path.join(repoRoot, 'activities', 'report', 'contract.ts')];
  const wfDir = path.join(repoRoot, 'workflows');
  for (const f of fs.readdirSync(wfDir).sort()) if (f.endsWith('.ts')) files.push(path.join(wfDir, f));
  return files;
}

/** The workflow bundle, built once per source version and cached in the temp folder (bundling takes seconds). */
export async function testWorkflowBundle(): Promise<{ codePath: string }> {
  const hash = createHash('sha256');
  for (const f of workflowSources()) hash.update(f).update(fs.existsSync(f) ? fs.readFileSync(f) : '');
  hash.update(__filename.endsWith('.ts') ? 'ts' : 'js');
  const codePath = path.join(os.tmpdir(), `nnunet-workflow-bundle-${hash.digest('hex').slice(0, 16)}.js`);
  if (!fs.existsSync(codePath)) {
    const { code } = await bundleWorkflows();
    const tmp = `${codePath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, codePath);
  }
  return { codePath };
}

/** argv that runs a module of this repo in a child node process, as .ts (via tsx) or compiled .js. */
export function nodeEntry(moduleWithoutExt: string): string[] {
  if (__filename.endsWith('.ts')) return ['--import', 'tsx', path.join(repoRoot, `${moduleWithoutExt}.ts`)];
  return [path.join(repoRoot, 'dist', `${moduleWithoutExt}.js`)];
}

export function makeTaskPaths(root: string, taskName: string): TaskPaths {
  return {
    taskName,
    rawDir: path.join(root, 'raw', taskName),
    croppedDir: path.join(root, 'cropped', taskName),
    preprocessedDir: path.join(root, 'preprocessed', taskName),
    resultsDir: path.join(root, 'results', 'nnUNet'),
  };
}

/** Polls until `check` returns a value (not undefined) or the timeout passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
