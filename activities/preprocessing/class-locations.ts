/**
 * Foreground locations for oversampling (GenericPreprocessor._run_internal): one RandomState(1234)
 * per case; for each foreground class in all_classes order, all voxel coordinates with seg == c in C order,
 * n = max(min(10000, count), ceil(0.01 · count)) of them chosen without replacement
 * (`rndst.choice(count, n, replace=False)` = the first n of a legacy permutation). Same numbers as nnU-Net.
 * See docs/preprocessing.md, 'Foreground locations'.
 */
import { MT19937 } from '../common/mt19937';
import type { Shape3 } from '../volume/crop';

export const CLASS_LOCATION_SEED = 1234;
export const MAX_SAMPLES_PER_CLASS = 10000;
export const MIN_CLASS_COVERAGE = 0.01;

/** class value (as a string key) -> [[z, y, x], ...]; an empty list for an absent class, as nnU-Net. */
export type ClassLocations = Record<string, number[][]>;

export function numLocationSamples(count: number): number {
  return Math.max(Math.min(MAX_SAMPLES_PER_CLASS, count), Math.ceil(count * MIN_CLASS_COVERAGE));
}

export function sampleClassLocations(seg: Float32Array, shape: Shape3, classes: readonly number[], seed = CLASS_LOCATION_SEED): ClassLocations {
  const rng = new MT19937(seed);
  const [, ny, nx] = shape;
  const out: ClassLocations = {};
  for (const c of classes) {
    let count = 0;
    for (let i = 0; i < seg.length; i++) if (seg[i] === c) count++;
    if (count === 0) { out[String(c)] = []; continue; }
    const flat = new Int32Array(count);
    for (let i = 0, k = 0; i < seg.length; i++) if (seg[i] === c) flat[k++] = i;
    const order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    rng.shuffle(order);
    const n = numLocationSamples(count);
    const picked: number[][] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = flat[order[k]];
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      picked[k] = [Math.floor(i / (nx * ny)), y, x];
    }
    out[String(c)] = picked;
  }
  return out;
}
