/**
 * NaN and Inf voxels are refused wherever data enters a run (fingerprint, preprocessing, prediction): one NaN
 * turns a z-score normalization into a whole NaN channel and a prediction into background, silently.
 */
import { BadInputError } from '../common/errors';
import { isIntegerDtype, type DType, type VoxelArray } from './volume';

export interface NonFiniteCount { nan: number; inf: number }

export function countNonFinite(data: VoxelArray, dtype?: DType): NonFiniteCount {
  const counts = { nan: 0, inf: 0 };
  if (dtype && isIntegerDtype(dtype)) return counts;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x !== x) counts.nan++;
    else if (x === Infinity || x === -Infinity) counts.inf++;
  }
  return counts;
}

/** The fix, in the words every such error uses. */
export const NON_FINITE_FIX = 'replace them with finite values (e.g. the image minimum, or 0) and export the file again';

export function nonFiniteMessage(file: string, c: NonFiniteCount): string {
  return `${file}: contains ${c.nan} NaN and ${c.inf} Inf voxels; nnU-Net needs finite intensities: ${NON_FINITE_FIX}`;
}

export function assertFinite(v: { data: VoxelArray; dtype?: DType }, file: string): void {
  const c = countNonFinite(v.data, v.dtype);
  if (c.nan > 0 || c.inf > 0) throw new BadInputError(nonFiniteMessage(file, c), file);
}
