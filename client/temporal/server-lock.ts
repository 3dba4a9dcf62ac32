/**
 * The inter-process lock on an embedded server's SQLite file: `<results>/.temporal/server.lock`, a JSON file
 * naming the nnunet process that owns the server (pid + its start time, so a reused pid is not mistaken for
 * it) and, once up, the server's pid and address. Only the holder may start a server on that SQLite file;
 * everyone else uses the holder's server. Created atomically: the content is written to a private temp file
 * which is then hard-linked to the lock name (link(2) fails with EEXIST if the lock exists), so a reader never
 * sees a half-written lock. A lock whose owner process is gone is stale and may be broken.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LockInfo {
  /** The nnunet process that owns the server (stops it when it exits). */
  pid: number;
  /** That process's start time (Linux /proc), to tell it apart from a later process with a reused pid. */
  pidStart?: string;
  /** ISO time the lock was taken. */
  since: string;
  /** Set once the server answers. */
  serverPid?: number;
  address?: string;
  namespace?: string;
  uiUrl?: string;
  /** Set when the previous owner handed the server over to `pid` instead of stopping it. */
  handedOverBy?: number;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it start past the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the process that took the lock is still running (the same process, not a pid reuse). */
export function ownerAlive(info: LockInfo): boolean {
  if (!Number.isInteger(info.pid) || !isAlive(info.pid)) return false;
  if (info.pidStart === undefined) return true;
  const now = processStartTime(info.pid);
  return now === undefined || now === info.pidStart;
}

export function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

function writeTemp(file: string, info: LockInfo): string {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(info)}\n`);
  return tmp;
}

export class ServerLock {
  private constructor(readonly file: string, private info: LockInfo) {}

  /** Takes the lock, or returns undefined when someone holds it (stale or not: see breakStaleLock). */
  static tryAcquire(file: string): ServerLock | undefined {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const info: LockInfo = { pid: process.pid, pidStart: processStartTime(process.pid), since: new Date().toISOString() };
    const tmp = writeTemp(file, info);
    try {
      fs.linkSync(tmp, file);
      return new ServerLock(file, info);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** The lock another owner has handed over to this process (it names this process already). */
  static inherited(file: string, info: LockInfo): ServerLock {
    return new ServerLock(file, info);
  }

  get current(): LockInfo {
    return this.info;
  }

  /** Adds the server's address once it answers (atomic replace: we hold the lock). */
  update(extra: Partial<LockInfo>): void {
    this.info = { ...this.info, ...extra, pid: process.pid };
    fs.renameSync(writeTemp(this.file, this.info), this.file);
  }

  /** Names `heir` as the owner of the running server (atomic replace); this process holds the lock no more. */
  handOver(heir: { pid: number; pidStart?: string }): void {
    const next: LockInfo = { ...this.info, pid: heir.pid, pidStart: heir.pidStart, since: new Date().toISOString(), handedOverBy: process.pid };
    fs.renameSync(writeTemp(this.file, next), this.file);
  }

  /** Removes the lock if it is still ours (synchronous: also used from an 'exit' handler). */
  release(): void {
    const now = readLock(this.file);
    if (now && now.pid === this.info.pid && now.since === this.info.since) fs.rmSync(this.file, { force: true });
  }
}

/**
 * Removes a lock whose owner is gone. Two processes may find the same stale lock; each renames it to a private
 * name first, and only the one whose renamed file is still the stale lock it saw deletes it. If the renamed
 * file turns out to be a fresh lock (taken between our read and our rename), it is linked back.
 */
export function breakStaleLock(file: string, seen: LockInfo): boolean {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return false; // someone else broke it first
  }
  const moved = readLock(aside);
  if (moved && (moved.pid !== seen.pid || moved.since !== seen.since)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      /* a third process took the lock meanwhile; the fresh one we moved loses it and its holder will notice */
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}
