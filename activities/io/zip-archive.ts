/**
 * Zip archives read and written a member at a time (model zips hold checkpoints of hundreds of MB): the central
 * directory is read first (zip64 included), so every member's name is known before anything is written; members
 * are inflated with fflate in chunks and checked against their CRC-32 and size. Writing streams through fflate's
 * Zip (deflate), which has no zip64: an archive must stay below 4 GiB.
 */
import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { Inflate, Zip, ZipDeflate } from 'fflate';
import { BadInputError } from '../common/errors';
import { tempSibling } from '../common/atomic';
import { openRegularSync, readRangeSync } from './read-bytes';

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  isDirectory: boolean;
  isSymlink: boolean;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const CHUNK = 1 << 20;
/** fflate writes no zip64 records: offsets and sizes must fit 32 bits. */
export const MAX_ZIP_BYTES = 0xffffffff;

const notZip = (file: string, why: string) => new BadInputError(`${file}: not a readable zip archive (${why}); download or export it again`, file);

/** The archive's members, from its central directory. */
export function listZip(file: string): ZipEntry[] {
  const { fd, size } = openRegularSync(file, { what: 'zip archive' });
  try {
    const tail = readRangeSync(fd, Math.max(0, size - 65557), Math.min(size, 65557));
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) { at = i; break; }
    if (at < 0) throw notZip(file, 'no end of central directory; the file may be truncated');
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
      const rec = readRangeSync(fd, Number(tail.readBigUInt64LE(at - 12)), 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== ZIP64_EOCD) throw notZip(file, 'broken zip64 end record');
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size) throw notZip(file, 'the central directory lies past the end of the file; it is truncated');
    return parseCentralDirectory(readRangeSync(fd, cdOffset, cdSize), count, file);
  } finally {
    fs.closeSync(fd);
  }
}

function parseCentralDirectory(cd: Buffer, count: number, file: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw notZip(file, `central directory entry ${i} is damaged`);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const name = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const e: ZipEntry = {
      name, method: cd.readUInt16LE(p + 10), crc: cd.readUInt32LE(p + 16), compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24), localHeaderOffset: cd.readUInt32LE(p + 42), isDirectory: name.endsWith('/'),
      isSymlink: ((cd.readUInt32LE(p + 38) >>> 16) & 0o170000) === 0o120000,
    };
    applyZip64Extra(e, cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen));
    entries.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Sizes and offset saturated at 0xffffffff come from the zip64 extra field, in this order. */
function applyZip64Extra(e: ZipEntry, extra: Buffer): void {
  for (let q = 0; q + 4 <= extra.length;) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      const next = () => { const v = Number(extra.readBigUInt64LE(r)); r += 8; return v; };
      if (e.size === 0xffffffff) e.size = next();
      if (e.compressedSize === 0xffffffff) e.compressedSize = next();
      if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = next();
    }
    q += 4 + len;
  }
}

/** Writes one member to `target` (atomically), checking its size and CRC-32. */
export function extractZipEntry(file: string, entry: ZipEntry, target: string): void {
  if (entry.method !== 0 && entry.method !== 8) throw notZip(file, `${entry.name} uses compression method ${entry.method} (only stored and deflate are read)`);
  const { fd } = openRegularSync(file, { what: 'zip archive' });
  const tmp = tempSibling(target);
  const out = fs.openSync(tmp, 'w');
  try {
    const local = readRangeSync(fd, entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw notZip(file, `${entry.name}: local header missing`);
    const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    let crc = 0;
    let written = 0;
    const sink = (chunk: Uint8Array) => {
      crc = crc32(chunk, crc);
      written += chunk.length;
      fs.writeSync(out, chunk);
    };
    const inflate = entry.method === 8 ? new Inflate((chunk) => sink(chunk)) : undefined;
    for (let off = 0; off < entry.compressedSize; off += CHUNK) {
      const n = Math.min(CHUNK, entry.compressedSize - off);
      const chunk = readRangeSync(fd, start + off, n);
      if (chunk.length < n) throw notZip(file, `${entry.name} is cut short; the archive is truncated`);
      if (inflate) inflate.push(chunk, off + n >= entry.compressedSize);
      else sink(chunk);
    }
    if (inflate && entry.compressedSize === 0) inflate.push(new Uint8Array(0), true);
    if (written !== entry.size || crc >>> 0 !== entry.crc >>> 0) throw notZip(file, `${entry.name} does not match its checksum (CRC-32) or size`);
    fs.fsyncSync(out);
  } catch (err) {
    fs.closeSync(out);
    fs.rmSync(tmp, { force: true });
    if (err instanceof BadInputError) throw err;
    throw notZip(file, `${entry.name}: ${(err as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
  fs.closeSync(out);
  fs.renameSync(tmp, target);
}

/** Writes `members` (archive name → file on disk) as a deflated zip, atomically. */
export function writeZipFromFiles(target: string, members: ReadonlyArray<{ name: string; file: string }>): void {
  const total = members.reduce((s, m) => s + fs.statSync(m.file).size, 0);
  if (total > MAX_ZIP_BYTES - 1024 * members.length) {
    throw new BadInputError(`${target}: the ${members.length} files take ${(total / 2 ** 30).toFixed(1)} GiB, more than a zip without zip64 holds (4 GiB); export fewer configurations (-m) or folds (-f) per zip`, target);
  }
  const tmp = tempSibling(target);
  const out = fs.openSync(tmp, 'w');
  try {
    let failure: Error | null = null;
    const zip = new Zip((err, chunk) => {
      if (err) failure = err;
      else fs.writeSync(out, chunk);
    });
    for (const m of members) {
      const entry = new ZipDeflate(m.name, { level: 6 });
      zip.add(entry);
      const fd = fs.openSync(m.file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size === 0) entry.push(new Uint8Array(0), true);
        for (let off = 0; off < size; off += CHUNK) entry.push(readRangeSync(fd, off, Math.min(CHUNK, size - off)), off + CHUNK >= size);
      } finally {
        fs.closeSync(fd);
      }
    }
    zip.end();
    if (failure) throw failure;
    fs.fsyncSync(out);
  } catch (err) {
    fs.closeSync(out);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(out);
  fs.renameSync(tmp, target);
}
