/**
 * The embedded Temporal server: `temporal server start-dev` on free local ports with its SQLite file
 * where the caller says (under the results folder), so workflow history survives restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { resolveTemporalBinary } from './binary';

export interface DevServerOptions {
  /** SQLite file; its folder is created. */
  dbFile: string;
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. `false` runs headless. */
  uiPort?: number | false;
  namespace?: string;
  /** How long to wait for the server to answer (a loaded 2-core machine needs tens of seconds). */
  readyTimeoutMs?: number;
  /** Where the server's own output goes; defaults to `<dbFile>.log`. */
  logFile?: string;
  /**
   * Run the server in its own process group, so a Ctrl-C in the terminal reaches only the CLI, which then
   * drains its workers before stopping the server (otherwise the server dies first and the drain fails).
   */
  ownProcessGroup?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  namespace: string;
  pid: number;
  binary: string;
  stop(): Promise<void>;
  /** Resolves when the process exits on its own or is stopped. */
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls the server until a real RPC (describe the namespace) succeeds. */
export async function waitForTemporal(address: string, namespace: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`Temporal server at ${address} exited during start-up`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`Temporal server at ${address} not ready after ${timeoutMs} ms: ${(lastError as Error)?.message ?? 'no answer'}`);
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const binary = resolveTemporalBinary();
  if (!binary) {
    throw new Error('no temporal CLI found: run `npm run setup` (installs a pinned one) or set TEMPORAL_CLI_PATH');
  }
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort === false ? undefined : opts.uiPort ?? (await freePort());
  fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const logFile = opts.logFile ?? `${opts.dbFile}.log`;
  const out = fs.openSync(logFile, 'a');
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--db-filename', opts.dbFile,
    '--namespace', namespace,
    '--log-level', 'warn',
    // Search attributes and history are in the SQLite file; the default 1000 RPS/namespace limit is fine.
  ];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  const child: ChildProcess = spawn(binary.path, args, { stdio: ['ignore', out, out], detached: opts.ownProcessGroup === true });
  fs.closeSync(out);
  let alive = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      alive = false;
      resolve(code);
    });
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitForTemporal(address, namespace, opts.readyTimeoutMs ?? 120_000, () => alive);
  } catch (err) {
    child.kill('SIGKILL');
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n') : '';
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    namespace,
    pid: child.pid!,
    binary: binary.path,
    exited,
    async stop() {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
