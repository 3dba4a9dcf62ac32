/**
 * Atomic file output: write to a temporary sibling, fsync, then rename. A crash leaves either the old file
 * or the new one, never a torn one. Temporary names start with `.tmp-` so readers and cleaners can skip them.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export function tempSibling(target: string): string {
  return path.join(path.dirname(target), `.tmp-${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}`);
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
