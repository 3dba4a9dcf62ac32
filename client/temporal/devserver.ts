/**
 * The embedded Temporal server: `temporal server start-dev` on free local ports with its SQLite file
 * where the caller says (under the results folder), so workflow history survives restarts.
 * A free port is found by binding and releasing it, so another process may take it before the server binds it:
 * the start is then retried on fresh ports. The server is ready only when the process we started answers on
 * its port: another server already listening there (an explicit --port) is refused, never mistaken for ours.
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
  /** Lets this process exit while the server goes on (it was handed over to another process). */
  letGo(): void;
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

/** The start failed because a port was taken meanwhile (the server's own log says so). */
class AddressInUseError extends Error {}

/** Fresh ports for each try when the caller left them to us. */
const START_TRIES = 3;

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Socket inodes listening on `port` (Linux /proc/net/tcp*); undefined where /proc cannot tell. */
function listeningInodes(port: number): Set<string> | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  let readAny = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    readAny = true;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]);
    }
  }
  return readAny ? inodes : undefined;
}

/** `pid` and its descendants (a TEMPORAL_CLI_PATH wrapper script may run the server as its child). */
function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const tree = [pid];
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parentOf) {
      if (tree.includes(parent) && !tree.includes(child)) {
        tree.push(child);
        grew = true;
      }
    }
  }
  return tree;
}

function holdsSocket(pid: number, inodes: Set<string>): boolean {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      return m !== null && inodes.has(m[1]);
    } catch {
      return false;
    }
  });
}

/** Does process `pid` (or a child of it) hold the socket listening on `port`? undefined where /proc cannot tell. */
export function processListensOn(pid: number, port: number): boolean | undefined {
  const inodes = listeningInodes(port);
  if (!inodes || !fs.existsSync(`/proc/${pid}/fd`)) return undefined;
  return processTree(pid).some((p) => holdsSocket(p, inodes));
}

/** What the server wrote to its log since `offset` (this start's own lines, not an earlier run's). */
function logSince(logFile: string, offset: number): string {
  try {
    const fd = fs.openSync(logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(0, size - offset));
      fs.readSync(fd, buf, 0, buf.length, offset);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  for (const [flag, port] of [['port', opts.port], ['UI port', opts.uiPort]] as const) {
    if (typeof port === 'number' && !(await portIsFree(port))) {
      throw new Error(`${flag} ${port} on 127.0.0.1 is already in use by another program (perhaps another Temporal server): choose another one, or leave it out for a free one`);
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      const ownPorts = opts.port === undefined && (opts.uiPort === undefined || opts.uiPort === false);
      if (!(err instanceof AddressInUseError) || !ownPorts || attempt >= START_TRIES) throw err;
    }
  }
}

async function startOnce(opts: DevServerOptions): Promise<DevServer> {
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
  const logOffset = fs.fstatSync(out).size;
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
    // What answered must be the process we started, not another server that holds the port.
    if (!alive || processListensOn(child.pid!, port) === false) throw new Error(`another program answers on ${address}; the Temporal server we started does not`);
  } catch (err) {
    child.kill('SIGKILL');
    const own = logSince(logFile, logOffset);
    const tail = own.split('\n').slice(-10).join('\n');
    if (/address already in use/i.test(own)) throw new AddressInUseError(`a port was taken before the Temporal server could bind it: ${tail}`);
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    namespace,
    pid: child.pid!,
    binary: binary.path,
    exited,
    letGo: () => child.unref(),
    async stop() {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
