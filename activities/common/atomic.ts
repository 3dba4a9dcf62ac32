/**
 * Atomic file output: write to a temporary sibling, fsync, then rename. A crash leaves either the old file
 * or the new one, never a torn one. Temporary names start with `.tmp-` so readers and cleaners can skip them,
 * and end with the writer's pid and host, so the next attempt of a step can remove what a killed one left
 * (removeDeadTemporaries) without touching the temporaries of a process that is still writing.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** This host's name as it appears in temporary names (no dots, so the name stays parseable). */
const HOST_TAG = os.hostname().replace(/[^A-Za-z0-9-]/g, '_') || 'host';

export function tempSibling(target: string): string {
  return path.join(path.dirname(target), `.tmp-${path.basename(target)}.${process.pid}@${HOST_TAG}.${randomBytes(4).toString('hex')}`);
}

/** `.tmp-<name>.<pid>[@<host>].<8 hex>`: the writer's pid and host (names written before the host tag have none). */
const TEMP_NAME = /^\.tmp-.+\.(\d+)(?:@([A-Za-z0-9_-]+))?\.[0-9a-f]{8}$/;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True for a temporary name of ours whose writer ran on this host and is gone. */
export function isDeadTemporary(name: string): boolean {
  const m = TEMP_NAME.exec(name);
  if (!m) return false;
  if (m[2] !== undefined && m[2] !== HOST_TAG) return false; // another machine's writer: we cannot tell
  return !processExists(Number(m[1]));
}

/**
 * Removes, under each folder (recursively), the temporary files and folders that a killed writer on this host left.
 * Only our own temporary names are touched; a missing folder is fine. Returns the paths removed.
 */
export function removeDeadTemporaries(folders: readonly string[]): string[] {
  const removed: string[] = [];
  const visit = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (isDeadTemporary(e.name)) {
        fs.rmSync(full, { recursive: true, force: true });
        removed.push(full);
      } else if (e.isDirectory() && !e.name.startsWith('.tmp-')) visit(full);
    }
  };
  for (const f of folders) visit(f);
  return removed;
}

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
}

export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** Builds a whole directory under a temporary name and renames it into place when `build` succeeds. */
export async function writeDirAtomic(target: string, build: (tmpDir: string) => Promise<void> | void): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  fs.mkdirSync(tmp);
  try {
    await build(tmp);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
