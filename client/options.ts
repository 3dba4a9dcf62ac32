/** Parsers for the options several commands share (-c configurations, -f folds, -t tasks, validation settings). */
import { Option } from 'commander';
import { CONFIGURATIONS, DEFAULT_VALIDATION, type Configuration, type Fold, type ValidationSettings } from '../activities/contract';
import { UsageError } from './context';

export function parseConfiguration(value: string): Configuration {
  if (!(CONFIGURATIONS as readonly string[]).includes(value)) {
    throw new UsageError(`unknown configuration '${value}': use ${CONFIGURATIONS.join(', ')}`);
  }
  return value as Configuration;
}

export function parseFold(value: string): Fold {
  if (value === 'all') return 'all';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 4) throw new UsageError(`unknown fold '${value}': use 0..4 or all`);
  return n as Fold;
}

/** commander variadic collector: `-c 2d 3d_fullres` → ['2d', '3d_fullres'], validated. */
export function collect<T>(parse: (v: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

/** --step-size: a fraction of the patch in (0, 1]. */
export function parseStepSize(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= 1)) throw new UsageError(`--step-size must be a fraction of the patch in (0, 1] (nnU-Net: 0.5), got '${value}'`);
  return n;
}

export interface ValidationFlags { disableTta?: boolean; stepSize?: number }

/** `--disable-tta` for each fold's final validation (nnU-Net's predict option; add with `.addOption`). */
export const disableTtaOption = (): Option => new Option('--disable-tta',
  "each fold's final validation without mirroring test-time augmentation (8x fewer network passes in 3D; the CV Dice changes slightly)");

/** `--step-size` for each fold's final validation (nnU-Net's predict option; add with `.addOption`). */
export const stepSizeOption = (): Option => new Option('--step-size <fraction>',
  "sliding-window step of each fold's final validation, a fraction of the patch in (0, 1] (default 0.5; larger: fewer windows, the CV Dice changes slightly)")
  .argParser(parseStepSize);

/**
 * The validation settings the flags ask for; undefined when they are nnU-Net's defaults, so a request without
 * the flags stays what it was before they existed (an earlier run's workflow input compares equal).
 */
export function validationFromFlags(flags: ValidationFlags): ValidationSettings | undefined {
  const v: ValidationSettings = { tta: !flags.disableTta, stepSize: flags.stepSize ?? DEFAULT_VALIDATION.stepSize };
  return v.tta === DEFAULT_VALIDATION.tta && v.stepSize === DEFAULT_VALIDATION.stepSize ? undefined : v;
}
