/**
 * Error kinds every stage uses. Bad input is final (retrying cannot fix a corrupt file); the worker maps
 * these to non-retryable ApplicationFailures (their names are NON_RETRYABLE_TYPES of the contract) so the workflow fails at once with a message a person can act on.
 */
import { ApplicationFailure } from '@temporalio/common';

/** A problem with the user's data or arguments: names the file, what is wrong and the fix. */
export class BadInputError extends Error {
  override readonly name = 'BadInput';
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}

/**
 * A process this machine cannot fit: the same work on the same machine would run out of memory again, so it
 * is not retried; the message says how much it used and what to change.
 */
export class OutOfMemoryError extends Error {
  override readonly name = 'OutOfMemory';
}

/**
 * File-system errors no retry can fix: a folder that cannot be created or written (a path through a regular
 * file, missing permissions, a read-only mount). They become BadInput naming the path and the fix.
 */
const UNFIXABLE_FS_CODES = new Set(['ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR']);

export function asBadInput(err: unknown): BadInputError | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string' || !UNFIXABLE_FS_CODES.has(e.code)) return undefined;
  const where = e.path ?? 'a data folder';
  return new BadInputError(
    `cannot write ${where}: ${e.message}; check that nnUNet_raw_data_base, nnUNet_preprocessed and ` +
      'RESULTS_FOLDER point at writable folders on this worker', e.path);
}

/** Converts our error kinds to Temporal failures; anything else stays retryable. */
export function toActivityFailure(err: unknown): unknown {
  err = asBadInput(err) ?? err;
  if (err instanceof BadInputError) {
    return ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true, details: err instanceof BadInputError && err.file ? [{ file: err.file }] : [] });
  }
  return err;
}
