/** Reading a user's file, where failure is bad input: a BadInputError naming the file and the OS reason. */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';

/** `what` names the kind of file in the message, `hint` says what to do. */
export interface ReadContext { what?: string; hint?: string }

function cannotRead(file: string, ctx: ReadContext, err: unknown): BadInputError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new BadInputError(`${file}: cannot read${ctx.what ? ` ${ctx.what}` : ''} (${reason})${ctx.hint ? `; ${ctx.hint}` : ''}`, file);
}

export function readBytesSync(file: string, ctx: ReadContext = {}): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw cannotRead(file, ctx, err);
  }
}

export async function readBytes(file: string, ctx: ReadContext = {}): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (err) {
    throw cannotRead(file, ctx, err);
  }
}
