/**
 * Limits on what reading a user's data may cost, set from the Config (`data.*`) by every process that reads
 * data (the CLI and `nnunet worker`). They are per machine on purpose: the memory an image may take is this
 * machine's to decide. Mirrored into the environment so the worker threads of the fingerprint and
 * preprocessing pools (which copy the environment when they start) read the same values.
 */

export interface DataLimits {
  /** Largest estimated memory one image may need to be read, in bytes. */
  maxImageBytes: number;
  /** Whether a task's files may be symbolic links that resolve outside the task folder. */
  allowExternalSymlinks: boolean;
}

export const MAX_IMAGE_MEMORY_ENV = 'NNUNET_MAX_IMAGE_MEMORY_GB';
export const ALLOW_EXTERNAL_SYMLINKS_ENV = 'NNUNET_ALLOW_EXTERNAL_SYMLINKS';
export const DEFAULT_MAX_IMAGE_MEMORY_GB = 4;

const GB = 1024 ** 3;

/** How the user raises each limit, for error messages. */
export const MAX_IMAGE_MEMORY_SETTING = `data.maxImageMemoryGb in the config (env ${MAX_IMAGE_MEMORY_ENV})`;
export const ALLOW_EXTERNAL_SYMLINKS_SETTING = `data.allowExternalSymlinks: true in the config (env ${ALLOW_EXTERNAL_SYMLINKS_ENV}=1)`;

const isTrue = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes)$/i.test(v.trim());

export function dataLimits(env: NodeJS.ProcessEnv = process.env): DataLimits {
  const gb = Number(env[MAX_IMAGE_MEMORY_ENV]);
  return {
    maxImageBytes: (gb > 0 ? gb : DEFAULT_MAX_IMAGE_MEMORY_GB) * GB,
    allowExternalSymlinks: isTrue(env[ALLOW_EXTERNAL_SYMLINKS_ENV]),
  };
}

/** Applies the Config's `data` section to this process and the threads it starts from now on. */
export function setDataLimits(data: { maxImageMemoryGb: number; allowExternalSymlinks: boolean }): void {
  process.env[MAX_IMAGE_MEMORY_ENV] = String(data.maxImageMemoryGb);
  process.env[ALLOW_EXTERNAL_SYMLINKS_ENV] = data.allowExternalSymlinks ? '1' : '0';
}

/** 4.0 GB, 12.5 MB: sizes for messages. */
export const formatGb = (bytes: number): string => (bytes >= GB / 10 ? `${(bytes / GB).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`);
