/**
 * The embedded Temporal server for one results folder: `<results>/.temporal/temporal.db` (history survives
 * restarts). One server per SQLite file, guarded by `server.lock` (client/temporal/server-lock.ts): the process
 * holding the lock starts the server and stops it when it exits; every other nnunet process (a second
 * `nnunet run`, `nnunet status`) uses that server. `server.json` repeats the address for discovery by tools.
 * A server left behind by a killed owner (kill -9) is adopted by the next process that finds the stale lock.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../config';
import { writeJsonAtomic } from '../../activities/common/atomic';
import { startDevServer, waitForTemporal, type DevServer } from './devserver';
import { breakStaleLock, isAlive, ownerAlive, readLock, ServerLock, type LockInfo } from './server-lock';

export interface ServerInfo {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
}

export interface EmbeddedServer extends ServerInfo {
  /** True when this process runs the server's lifetime (started or adopted it) and must stop it. */
  owned: boolean;
  /** True when this process took over a server whose owner had died. */
  adopted?: boolean;
  stop(): Promise<void>;
  /** Resolves when the server process is gone (for a borrowed server: noticed within a second). */
  exited: Promise<number | null>;
}

export const temporalDir = (config: Config): string => path.join(config.paths.results, '.temporal');
const infoFile = (config: Config): string => path.join(temporalDir(config), 'server.json');
export const lockFile = (config: Config): string => path.join(temporalDir(config), 'server.lock');
const dbFile = (config: Config): string => path.join(temporalDir(config), 'temporal.db');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The history folder holds every workflow's inputs, results and the worker log, and the server in it accepts
 * anyone who reaches its port: keep it to its owner (0700), also when an older version created it 0755.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.chmodSync(dir, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err; // another user's folder: theirs to protect
  }
}

async function answers(address: string, namespace: string, timeoutMs = 5000): Promise<boolean> {
  try {
    await waitForTemporal(address, namespace, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** A running embedded server for this results folder, if server.json names a live, answering one. */
export async function findRunningServer(config: Config): Promise<ServerInfo | undefined> {
  let info: ServerInfo;
  try {
    info = JSON.parse(fs.readFileSync(infoFile(config), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
  if (!isAlive(info.pid)) return undefined;
  return (await answers(info.address, info.namespace)) ? info : undefined;
}

/** Resolves once `pid` has gone (polled; the timer does not keep the process alive). */
function whenGone(pid: number, everyMs = 1000): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!isAlive(pid)) {
        clearInterval(timer);
        resolve(null);
      }
    }, everyMs);
    timer.unref();
  });
}

/** Is `pid` a temporal server on this SQLite file? (Linux: its command line; elsewhere we trust the lock.) */
function isServerOn(pid: number, db: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(db);
  } catch {
    return isAlive(pid);
  }
}

async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

export interface EmbeddedOptions {
  port?: number;
  uiPort?: number | false;
  /** Reuse a server another nnunet process started for this folder (default true). */
  reuse?: boolean;
  /** Progress messages (waiting for another process's server, adopting an orphan). */
  say?: (message: string) => void;
}

function borrowed(info: LockInfo): EmbeddedServer {
  const pid = info.serverPid!;
  return { address: info.address!, namespace: info.namespace!, uiUrl: info.uiUrl, pid, owned: false, stop: async () => {}, exited: whenGone(pid) };
}

/** Makes this process the owner of `lock`'s server: records it, and takes it down if the process dies. */
function own(config: Config, lock: ServerLock, info: ServerInfo, stopServer: () => Promise<void>, exited: Promise<number | null>, adopted: boolean): EmbeddedServer {
  lock.update({ serverPid: info.pid, address: info.address, namespace: info.namespace, uiUrl: info.uiUrl });
  writeJsonAtomic(infoFile(config), info);
  const forgetServer = (): void => {
    try {
      const current = JSON.parse(fs.readFileSync(infoFile(config), 'utf8')) as ServerInfo;
      if (current.pid === info.pid) fs.rmSync(infoFile(config), { force: true });
    } catch {
      /* already gone */
    }
    lock.release();
  };
  // If this process dies without stop() (an uncaught error, process.exit), take the server down with it.
  const killOnExit = (): void => {
    try {
      process.kill(info.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    forgetServer();
  };
  process.once('exit', killOnExit);
  return {
    ...info,
    owned: true,
    adopted,
    exited,
    async stop() {
      process.off('exit', killOnExit);
      await stopServer();
      forgetServer();
    },
  };
}

/**
 * Uses the running server for this results folder, or starts one under the lock (see the module comment).
 * Concurrent callers end up with one server: the lock holder starts it, the others wait for its address.
 */
export async function ensureEmbeddedServer(config: Config, opts: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  ensurePrivateDir(temporalDir(config));
  const file = lockFile(config);
  const readyMs = config.temporal.serverReadyTimeoutSeconds * 1000;
  const deadline = Date.now() + readyMs + 30_000;
  let waitingSaid = false;
  for (;;) {
    const holder = readLock(file);
    if (holder && ownerAlive(holder)) {
      if (holder.address && holder.serverPid && isAlive(holder.serverPid)) {
        if (opts.reuse === false) throw new Error(`an embedded server for ${config.paths.results} is already running at ${holder.address} (nnunet pid ${holder.pid})`);
        if (await answers(holder.address, holder.namespace ?? config.temporal.namespace)) return borrowed(holder);
      }
      if (Date.now() > deadline) {
        throw new Error(`nnunet process ${holder.pid} holds ${file} but its Temporal server did not come up in time; stop that process (or delete the lock if it is not nnunet)`);
      }
      if (!waitingSaid) opts.say?.(`another nnunet process (pid ${holder.pid}) is starting the embedded server; waiting for it …`);
      waitingSaid = true;
      await sleep(500);
      continue;
    }
    if (holder) {
      // The owner is gone (killed). Its server may still run, holding the SQLite file: adopt it or stop it.
      if (!breakStaleLock(file, holder)) continue;
      const orphan = holder.serverPid !== undefined && isAlive(holder.serverPid) && isServerOn(holder.serverPid, dbFile(config)) ? holder.serverPid : undefined;
      if (orphan !== undefined) {
        const lock = ServerLock.tryAcquire(file);
        if (!lock) continue;
        if (holder.address && opts.reuse !== false && (await answers(holder.address, holder.namespace ?? config.temporal.namespace))) {
          opts.say?.(`adopting the embedded server left running by nnunet pid ${holder.pid} (server pid ${orphan})`);
          const info: ServerInfo = { address: holder.address, namespace: holder.namespace ?? config.temporal.namespace, uiUrl: holder.uiUrl, pid: orphan };
          return own(config, lock, info, () => terminate(orphan), whenGone(orphan), true);
        }
        await terminate(orphan);
        lock.release();
      }
      continue;
    }
    const lock = ServerLock.tryAcquire(file);
    if (!lock) continue; // someone took it between our read and our link
    try {
      const server: DevServer = await startDevServer({
        dbFile: dbFile(config),
        port: opts.port,
        uiPort: opts.uiPort,
        namespace: config.temporal.namespace,
        readyTimeoutMs: readyMs,
        ownProcessGroup: true,
      });
      const info: ServerInfo = { address: server.address, namespace: server.namespace, uiUrl: server.uiUrl, pid: server.pid };
      return own(config, lock, info, () => server.stop(), server.exited, false);
    } catch (err) {
      lock.release();
      throw err;
    }
  }
}
