/** What every command needs from the global options: the loaded Config, and small output helpers. */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config';
import { setDataLimits } from '../activities/io/data-limits';

/**
 * Loads the config with the global `--config FILE` (exit code 2 on any problem) and applies its data limits to
 * this process (and the worker threads it starts), whatever the command reads.
 */
export function configFor(cmd: Command): Config {
  const { config, allowExternalSymlinks } = cmd.optsWithGlobals<{ config?: string; allowExternalSymlinks?: boolean }>();
  const loaded = loadConfig({ configFile: config });
  if (allowExternalSymlinks) loaded.data.allowExternalSymlinks = true;
  setDataLimits(loaded.data);
  return loaded;
}

/** A usage error: exit code 2, like commander's own. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** The work failed (bad dataset, failed workflow): exit code 1. */
export class WorkFailedError extends Error {
  override readonly name = 'WorkFailed';
  readonly exitCode = 1;
}

export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** Parses a positive integer option value (commander's argParser). */
export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got '${value}'`);
    return n;
  };
}
