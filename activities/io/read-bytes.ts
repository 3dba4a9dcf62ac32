/**
 * Reading a user's file, where failure is bad input: a BadInputError naming the file and the OS reason.
 * Only regular files are read (a FIFO would block, /dev/zero never ends), and never more than the file held when
 * it was opened or than the caller's bound, so no input can hang a step or fill its memory.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { formatGb } from './data-limits';

/** `what` names the kind of file in the message, `hint` says what to do, `maxBytes` bounds the read. */
export interface ReadContext { what?: string; hint?: string; maxBytes?: number }

function cannotRead(file: string, ctx: ReadContext, err: unknown): BadInputError {
  if (err instanceof BadInputError) return err;
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new BadInputError(`${file}: cannot read${ctx.what ? ` ${ctx.what}` : ''} (${reason})${ctx.hint ? `; ${ctx.hint}` : ''}`, file);
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Refuses anything but a regular file (symbolic links are followed), before it is opened. */
export function assertRegularFile(file: string, st: fs.Stats, ctx: ReadContext = {}): void {
  if (st.isFile()) return;
  throw new BadInputError(
    `${file}: is ${kindOf(st)}, not a regular file${ctx.what ? ` (expected ${ctx.what})` : ''}; only regular files are read: ` +
      'replace it (or the file its symbolic link points at) with the real file', file);
}

function tooLarge(file: string, size: number, ctx: ReadContext): BadInputError {
  return new BadInputError(`${file}: ${formatGb(size)}${ctx.what ? ` for ${ctx.what}` : ''}, more than the ${formatGb(ctx.maxBytes!)} it may hold; ${ctx.hint ?? 'check that this is the right file'}`, file);
}

/** Opens a regular file for reading: stat first (opening a FIFO would block), then O_NONBLOCK and fstat again. */
export function openRegularSync(file: string, ctx: ReadContext = {}): { fd: number; size: number } {
  try {
    assertRegularFile(file, fs.statSync(file), ctx);
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const st = fs.fstatSync(fd);
      assertRegularFile(file, st, ctx);
      return { fd, size: st.size };
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  } catch (err) {
    throw cannotRead(file, ctx, err);
  }
}

/** Reads up to `length` bytes from `position`; fewer only at the end of the file. */
export function readRangeSync(fd: number, position: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, out, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? out : out.subarray(0, got);
}

export function readBytesSync(file: string, ctx: ReadContext = {}): Buffer {
  const { fd, size } = openRegularSync(file, ctx);
  try {
    if (ctx.maxBytes !== undefined && size > ctx.maxBytes) throw tooLarge(file, size, ctx);
    return readRangeSync(fd, 0, size);
  } catch (err) {
    throw cannotRead(file, ctx, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads up to `length` bytes from `position` of an open file; fewer only at its end. */
export async function readRange(handle: fs.promises.FileHandle, position: number, length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(out, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? out : out.subarray(0, got);
}

/** Runs `read` on a regular file opened as openRegularSync does; errors become BadInputErrors naming the file. */
export async function withRegularFile<T>(file: string, ctx: ReadContext, read: (handle: fs.promises.FileHandle, size: number) => Promise<T>): Promise<T> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    assertRegularFile(file, await fs.promises.stat(file), ctx);
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = await handle.stat();
    assertRegularFile(file, st, ctx);
    return await read(handle, st.size);
  } catch (err) {
    throw cannotRead(file, ctx, err);
  } finally {
    await handle?.close();
  }
}

export async function readBytes(file: string, ctx: ReadContext = {}): Promise<Buffer> {
  return withRegularFile(file, ctx, async (handle, size) => {
    if (ctx.maxBytes !== undefined && size > ctx.maxBytes) throw tooLarge(file, size, ctx);
    return readRange(handle, 0, size);
  });
}
