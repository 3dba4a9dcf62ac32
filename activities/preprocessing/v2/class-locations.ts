/**
 * nnU-Net v2's foreground locations for oversampling (DefaultPreprocessor._sample_foreground_locations): one
 * RandomState(1234) per case; for each label (or region: a tuple of labels) in order, the voxels of its labels
 * (label by label in the tuple's order, each in C order), n = max(min(10000, count), ceil(0.01 · count)) of them
 * picked by `choice(count, n, replace=False)` (the first n of a legacy permutation). Coordinates are v2's
 * (0, z, y, x): the seg's channel axis first. Which labels or regions: LabelManager's foreground labels or regions,
 * plus (-1, all labels) with an ignore label.
 */
import { MT19937 } from '../../common/mt19937';
import type { Shape3 } from '../../volume/crop';

export const LOCATION_SEED = 1234;
export const MIN_NUM_SAMPLES = 10000;
export const MIN_PERCENT_COVERAGE = 0.01;

/** A label, or a region (several labels sampled as one). */
export type LabelOrRegion = number | readonly number[];

/** Key as text: "1" for a label, "1,2,3" for a region (v2's dict keys are ints and tuples). */
export const locationKey = (c: LabelOrRegion): string => (typeof c === 'number' ? String(c) : c.join(','));

export type ClassLocationsV2 = Record<string, number[][]>;

export function numSamplesV2(total: number): number {
  return Math.max(Math.min(MIN_NUM_SAMPLES, total), Math.ceil(total * MIN_PERCENT_COVERAGE));
}

/** Flat indices of each requested label, C order. */
function voxelsByLabel(seg: ArrayLike<number>, labels: ReadonlySet<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const l of labels) out.set(l, []);
  for (let i = 0; i < seg.length; i++) out.get(seg[i]!)?.push(i);
  return out;
}

export function sampleClassLocationsV2(seg: ArrayLike<number>, shape: Shape3, classes: readonly LabelOrRegion[], seed = LOCATION_SEED): ClassLocationsV2 {
  const rng = new MT19937(seed);
  const byLabel = voxelsByLabel(seg, new Set(classes.flatMap((c) => (typeof c === 'number' ? [c] : [...c]))));
  const [, ny, nx] = shape;
  const out: ClassLocationsV2 = {};
  for (const c of classes) {
    const labels = typeof c === 'number' ? [c] : c;
    const blocks = labels.map((l) => byLabel.get(l)!).filter((b) => b.length > 0);
    const total = blocks.reduce((a, b) => a + b.length, 0);
    if (total === 0) { out[locationKey(c)] = []; continue; }
    const union = blocks.length === 1 ? blocks[0]! : blocks.flat();
    const order = new Int32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    rng.shuffle(order);
    const n = numSamplesV2(total);
    const picked: number[][] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = union[order[k]!]!;
      picked[k] = [0, Math.floor(i / (nx * ny)), Math.floor(i / nx) % ny, i % nx];
    }
    out[locationKey(c)] = picked;
  }
  return out;
}
