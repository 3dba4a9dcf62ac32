/** Parsers for the options several commands share (-c configurations, -f folds, -t tasks). */
import { CONFIGURATIONS, type Configuration, type Fold } from '../activities/contract';
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
