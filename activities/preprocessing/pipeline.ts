/**
 * GenericPreprocessor's array pipeline after cropping, shared by the training cases (preprocess-case.ts) and
 * test cases at inference (test-case.ts): transpose with transpose_forward, NaN -> 0 in the image channels,
 * resample to the stage spacing (2D: never across the first axis), seg values < -1 -> 0, normalize.
 */
import type { Shape3 } from '../volume/crop';
import { normalizeChannel, type ChannelNormalization } from './normalize';
import { resampleCase } from './resampling';
import { transposeChannels, transposedShape } from './transpose';

/** What one plans stage fixes for every case. */
export interface StageParams {
  transposeForward: number[];
  /** Stage spacing, transposed order. */
  targetSpacing: number[];
  /** PreprocessorFor2D: keep each case's own spacing on the first (transposed) axis. */
  inPlaneOnly: boolean;
  normalizations: ChannelNormalization[];
}

export interface PreprocessedArrays {
  /** (C + 1, z, y, x) float32 in transposed axis order: normalized channels, then the seg (-1, 0..K-1). */
  data: Float32Array;
  numChannels: number;
  shape: Shape3;
  /** nnU-Net's spacing_after_resampling (transposed order). */
  spacing: number[];
}

/** `stacked` is a cropped case ((C + 1, ...cropShape), seg last); `originalSpacing` in array (untransposed) order. */
export function resampleAndNormalize(
  stacked: Float32Array, numChannels: number, cropShape: Shape3, originalSpacing: readonly number[], p: StageParams,
): PreprocessedArrays {
  const perm = p.transposeForward;
  const transposed = transposeChannels(stacked, cropShape, perm);
  const tShape = transposedShape(cropShape, perm);
  const n = tShape[0] * tShape[1] * tShape[2];
  const channels = transposed.subarray(0, numChannels * n);
  for (let i = 0; i < channels.length; i++) if (channels[i] !== channels[i]) channels[i] = 0;

  const spacingT = perm.map((a) => originalSpacing[a]);
  const target = [...p.targetSpacing];
  if (p.inPlaneOnly) target[0] = spacingT[0];
  const r = resampleCase({ channels, numChannels, seg: transposed.subarray(numChannels * n), shape: tShape }, spacingT, target);

  const m = r.shape[0] * r.shape[1] * r.shape[2];
  const data = new Float32Array((numChannels + 1) * m);
  data.set(r.channels.subarray(0, numChannels * m));
  const seg = data.subarray(numChannels * m);
  seg.set(r.seg);
  for (let i = 0; i < m; i++) if (seg[i] < -1) seg[i] = 0;
  p.normalizations.forEach((how, c) => normalizeChannel(data.subarray(c * m, (c + 1) * m), seg, how));
  return { data, numChannels, shape: r.shape, spacing: target };
}
