/**
 * Resampling of one case for preprocessing: resample_patient's new shape and separate-z
 * decision, then every image channel (order 3) and the seg (per-label order 1) through the kernels of
 * activities/volume/resample.ts. When the shape does not change nnU-Net does nothing, and neither do we.
 * See docs/preprocessing.md, 'Resampling'.
 */
import { resampleChannel, resampledShape, separateZAxis } from '../volume/resample';
import type { Shape3 } from '../volume/crop';

export interface CaseArrays {
  /** (C, z, y, x) image channels. */
  channels: Float32Array;
  numChannels: number;
  /** (z, y, x) seg (values -1, 0..K-1). */
  seg: Float32Array;
  shape: Shape3;
}

const voxels = (s: Shape3) => s[0] * s[1] * s[2];

export function resampleCase(c: CaseArrays, originalSpacing: readonly number[], targetSpacing: readonly number[]): CaseArrays {
  const shape = resampledShape(c.shape, originalSpacing, targetSpacing);
  if (shape.every((d, a) => d === c.shape[a])) return c;
  const axis = separateZAxis(originalSpacing, targetSpacing);
  const inShape: [number, number, number] = [c.shape[0], c.shape[1], c.shape[2]];
  const n = voxels(c.shape);
  const m = voxels(shape);
  const channels = new Float32Array(c.numChannels * m);
  for (let k = 0; k < c.numChannels; k++) {
    channels.set(resampleChannel(c.channels.subarray(k * n, (k + 1) * n), inShape, shape, { isSeg: false, axis }), k * m);
  }
  const seg = Float32Array.from(resampleChannel(c.seg, inShape, shape, { isSeg: true, axis }));
  return { channels, numChannels: c.numChannels, seg, shape };
}
