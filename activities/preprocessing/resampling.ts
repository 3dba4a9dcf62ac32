/**
 * The one place preprocessing calls into resampling (spec §4.1-4.2). The kernels, the separate-z decision and
 * the new shape rule live in activities/volume/resample.ts (planning engineer's); this adapter only fixes the
 * shapes of what we pass. When the shape does not change nnU-Net does nothing, and neither do we.
 */
import { NotImplementedError } from '../common/errors';
import { roundHalfEven } from '../common/numeric';
import type { Shape3 } from '../volume/crop';

export interface CaseArrays {
  /** (C, z, y, x) image channels. */
  channels: Float32Array;
  numChannels: number;
  /** (z, y, x) seg (values -1, 0..K-1). */
  seg: Float32Array;
  shape: Shape3;
}

/** resample_patient's new shape: round(original_spacing / target_spacing · shape), half-even. */
export function resampledShape(shape: Shape3, originalSpacing: readonly number[], targetSpacing: readonly number[]): Shape3 {
  return [0, 1, 2].map((a) => roundHalfEven((originalSpacing[a] / targetSpacing[a]) * shape[a])) as unknown as Shape3;
}

export function resampleCase(c: CaseArrays, originalSpacing: readonly number[], targetSpacing: readonly number[]): CaseArrays {
  const shape = resampledShape(c.shape, originalSpacing, targetSpacing);
  if (shape.every((d, a) => d === c.shape[a])) return c;
  throw new NotImplementedError('resampling (activities/volume/resample.ts has not landed)');
}
