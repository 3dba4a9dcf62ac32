/**
 * The embedded Temporal server for one results folder: `<results>/.temporal/temporal.db` (history survives
 * restarts). One server per SQLite file, guarded by `server.lock` (client/temporal/server-lock.ts): the process
 * holding the lock starts the server and owns it; every other nnunet process (a second `nnunet run`, five
 * `nnUNet_train` calls at once, `nnunet status`) borrows it and registers in `users/`. When the owner finishes
 * while others still use the server, it hands the server over to one of them instead of stopping it (their
 * workers and watches go on undisturbed); the last user stops it. A server left behind by a killed owner
 * (kill -9) is adopted by a process still using it, or by the next one that finds the stale lock.
 * `server.json` repeats the address for discovery by tools.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../config';
import { writeJsonAtomic } from '../../activities/common/atomic';
import { startDevServer, waitForTemporal, type DevServer } from './devserver';
import { breakStaleLock, isAlive, ownerAlive, readLock, ServerLock, type LockInfo } from './server-lock';
import { liveUsers, registerUser } from './server-users';

export interface ServerInfo {
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
}

export interface EmbeddedServer extends ServerInfo {
  /** True while this process runs the server's lifetime (started, adopted or inherited it) and must stop it. */
  readonly owned: boolean;
  /** True when this process took over a server whose owner had died or handed it over. */
  readonly adopted?: boolean;
  stop(): Promise<void>;
  /** Resolves when the server process is gone (for a borrowed server: noticed within a second). */
  exited: Promise<number | null>;
}

export const temporalDir = (config: Config): string => path.join(config.paths.results, '.temporal');
const infoFile = (config: Config): string => path.join(temporalDir(config), 'server.json');
export const lockFile = (config: Config): string => path.join(temporalDir(config), 'server.lock');
const dbFile = (config: Config): string => path.join(temporalDir(config), 'temporal.db');
const usersDir = (config: Config): string => path.join(temporalDir(config), 'users');
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

type Say = (message: string) => void;

/** The server's process as its owner controls it. */
interface ServerProcess {
  stop(): Promise<void>;
  exited: Promise<number | null>;
  /** Lets this process exit while the server goes on. */
  letGo(): void;
}

/** A server process that another process started (borrowed, or adopted from a dead owner). */
const notOurChild = (pid: number): ServerProcess => ({ stop: () => terminate(pid), exited: whenGone(pid), letGo: () => {} });

/**
 * This process's hold on the server. A borrower checks every second whether the owner has handed the server
 * over to it or has died, and then owns it; an owner that finishes hands it over to a process still using it,
 * and stops it only when nobody does (see the module comment).
 */
class ServerHandle implements EmbeddedServer {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  readonly pid: number;
  owned = false;
  adopted = false;
  private lock?: ServerLock;
  private leaveUsers?: () => void;
  private watch?: NodeJS.Timeout;
  private readonly onExit = (): void => this.finishOnExit();

  private constructor(
    private readonly config: Config,
    info: ServerInfo,
    private readonly process: ServerProcess,
    private readonly say: Say,
  ) {
    ({ address: this.address, namespace: this.namespace, uiUrl: this.uiUrl, pid: this.pid } = info);
  }

  private get info(): ServerInfo {
    return { address: this.address, namespace: this.namespace, uiUrl: this.uiUrl, pid: this.pid };
  }

  get exited(): Promise<number | null> {
    return this.process.exited;
  }

  static owning(config: Config, lock: ServerLock, info: ServerInfo, server: ServerProcess, adopted: boolean, say: Say): ServerHandle {
    const handle = new ServerHandle(config, info, server, say);
    handle.becomeOwner(lock, adopted);
    return handle;
  }

  static borrowing(config: Config, holder: LockInfo, say: Say): ServerHandle {
    const pid = holder.serverPid!;
    const info: ServerInfo = { address: holder.address!, namespace: holder.namespace ?? config.temporal.namespace, uiUrl: holder.uiUrl, pid };
    const handle = new ServerHandle(config, info, notOurChild(pid), say);
    handle.leaveUsers = registerUser(usersDir(config));
    handle.watch = setInterval(() => handle.checkSuccession(), 1000);
    handle.watch.unref();
    return handle;
  }

  private becomeOwner(lock: ServerLock, adopted: boolean): void {
    this.stopBorrowing();
    this.lock = lock;
    this.owned = true;
    this.adopted = adopted;
    lock.update({ serverPid: this.pid, address: this.address, namespace: this.namespace, uiUrl: this.uiUrl, handedOverBy: undefined });
    writeJsonAtomic(infoFile(this.config), this.info);
    // If this process dies without stop() (an uncaught error, process.exit), do the same synchronously.
    process.once('exit', this.onExit);
  }

  private stopBorrowing(): void {
    clearInterval(this.watch);
    this.leaveUsers?.();
    this.leaveUsers = undefined;
  }

  /** The lock, when its owner has handed the server over to this process. */
  private handedToMe(): LockInfo | undefined {
    const holder = readLock(lockFile(this.config));
    return holder?.pid === process.pid && holder.serverPid === this.pid ? holder : undefined;
  }

  private inherit(holder: LockInfo): void {
    this.becomeOwner(ServerLock.inherited(lockFile(this.config), holder), true);
    this.say(`nnunet pid ${holder.handedOverBy ?? '?'} finished and handed the embedded server over to this process`);
  }

  /** A borrower's check: has the server been handed to this process, or has its owner died (kill -9)? */
  private checkSuccession(): void {
    if (this.owned || !isAlive(this.pid)) return;
    try {
      const file = lockFile(this.config);
      const holder = readLock(file);
      if (holder?.serverPid !== this.pid) return; // no lock: the owner is stopping the server
      if (holder.pid === process.pid) {
        this.inherit(holder);
      } else if (!ownerAlive(holder) && breakStaleLock(file, holder)) {
        const lock = ServerLock.tryAcquire(file);
        if (!lock) return;
        this.becomeOwner(lock, true);
        this.say(`adopting the embedded server left running by nnunet pid ${holder.pid} (server pid ${this.pid})`);
      }
    } catch (err) {
      this.say(`warning: could not check who owns the embedded server: ${(err as Error).message}`);
    }
  }

  /** Hands the server over to another process that uses it; false when none does. Synchronous (exit handler). */
  private handOver(): boolean {
    const heir = liveUsers(usersDir(this.config))[0];
    if (!heir || !this.lock) return false;
    this.lock.handOver(heir);
    this.process.letGo();
    this.owned = false;
    process.off('exit', this.onExit);
    this.say(`nnunet pid ${heir.pid} still uses the embedded server: it keeps running, handed over to that process`);
    return true;
  }

  private forget(): void {
    try {
      const current = JSON.parse(fs.readFileSync(infoFile(this.config), 'utf8')) as ServerInfo;
      if (current.pid === this.pid) fs.rmSync(infoFile(this.config), { force: true });
    } catch {
      /* already gone */
    }
    this.lock?.release();
  }

  private finishOnExit(): void {
    if (!this.owned || this.handOver()) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    this.forget();
  }

  async stop(): Promise<void> {
    if (!this.owned) {
      this.stopBorrowing();
      // Handed over while finishing: take it, to pass it on or stop it (nobody else would).
      const holder = this.handedToMe();
      if (!holder) return;
      this.inherit(holder);
    }
    process.off('exit', this.onExit);
    if (this.handOver()) return;
    await this.process.stop();
    this.forget();
  }
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
  const say: Say = opts.say ?? (() => {});
  let waitingSaid = false;
  for (;;) {
    const holder = readLock(file);
    if (holder && ownerAlive(holder)) {
      if (holder.address && holder.serverPid && isAlive(holder.serverPid)) {
        if (opts.reuse === false) throw new Error(`an embedded server for ${config.paths.results} is already running at ${holder.address} (nnunet pid ${holder.pid})`);
        if (await answers(holder.address, holder.namespace ?? config.temporal.namespace)) return ServerHandle.borrowing(config, holder, say);
      }
      if (Date.now() > deadline) {
        throw new Error(`nnunet process ${holder.pid} holds ${file} but its Temporal server did not come up in time; stop that process (or delete the lock if it is not nnunet)`);
      }
      if (!waitingSaid) say(`another nnunet process (pid ${holder.pid}) is starting the embedded server; waiting for it …`);
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
          say(`adopting the embedded server left running by nnunet pid ${holder.pid} (server pid ${orphan})`);
          const info: ServerInfo = { address: holder.address, namespace: holder.namespace ?? config.temporal.namespace, uiUrl: holder.uiUrl, pid: orphan };
          return ServerHandle.owning(config, lock, info, notOurChild(orphan), true, say);
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
      return ServerHandle.owning(config, lock, info, server, false, say);
    } catch (err) {
      lock.release();
      throw err;
    }
  }
}
