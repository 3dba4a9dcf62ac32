/**
 * Intensity normalization per channel, after resampling (GenericPreprocessor.resample_and_normalize):
 * - "CT": clip to the fingerprint's [percentile_00_5, percentile_99_5], then (x - mean) / sd with the
 *   fingerprint's foreground mean and sd (no epsilon); with use_mask_for_norm also zero where seg < 0.
 * - "noNorm": unchanged.
 * - "nonCT" with use_mask_for_norm: inside seg >= 0, (x - mean) / (std + 1e-8) over that region; 0 outside.
 * - "nonCT" without mask: (x - mean) / (std + 1e-8) over the whole (cropped, resampled) channel.
 * Statistics are float64 over float32 voxels (numpy uses float32 accumulators: ~1e-7 relative difference).
 * See docs/preprocessing.md, 'Normalization'.
 */
import { BadInputError } from '../common/errors';
import type { NormalizationScheme } from '../planning/plans';

export interface CtIntensityProperties { mean: number; sd: number; lower: number; upper: number }

export type ChannelNormalization =
  | { scheme: 'CT'; useMask: boolean; ct: CtIntensityProperties }
  | { scheme: 'noNorm' }
  | { scheme: 'nonCT'; useMask: boolean };

export const ZSCORE_EPSILON = 1e-8;

/** Mean and population std of `x` where seg >= 0 (all voxels without seg); two passes for accuracy. */
function meanStd(x: Float32Array, seg: Float32Array | null): { mean: number; std: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) if (!seg || seg[i] >= 0) { sum += x[i]; count++; }
  const mean = count ? sum / count : NaN;
  let sq = 0;
  for (let i = 0; i < x.length; i++) if (!seg || seg[i] >= 0) { const d = x[i] - mean; sq += d * d; }
  return { mean, std: count ? Math.sqrt(sq / count) : NaN, count };
}

/** Normalizes one channel in place; `seg` is the (resampled) seg channel of the same case. */
export function normalizeChannel(x: Float32Array, seg: Float32Array, how: ChannelNormalization): void {
  switch (how.scheme) {
    case 'noNorm':
      return;
    case 'CT': {
      const { mean, sd, lower, upper } = how.ct;
      for (let i = 0; i < x.length; i++) {
        const v = x[i] < lower ? lower : x[i] > upper ? upper : x[i];
        x[i] = (v - mean) / sd;
      }
      if (how.useMask) for (let i = 0; i < x.length; i++) if (seg[i] < 0) x[i] = 0;
      return;
    }
    case 'nonCT': {
      const region = how.useMask ? seg : null;
      const { mean, std, count } = meanStd(x, region);
      if (count === 0) { x.fill(0); return; } // numpy would give NaN everywhere in the (empty) mask; nothing to scale
      const scale = 1 / (std + ZSCORE_EPSILON);
      for (let i = 0; i < x.length; i++) x[i] = region && region[i] < 0 ? 0 : (x[i] - mean) * scale;
      return;
    }
  }
}

/** The normalization of each channel from the plans' schemes, mask flags and the fingerprint's statistics. */
export function channelNormalizations(
  schemes: Record<string, NormalizationScheme>,
  useMask: Record<string, boolean>,
  intensity: Record<string, { mean: number | null; sd: number | null; percentile_00_5: number | null; percentile_99_5: number | null }> | null | undefined,
  source: string,
): ChannelNormalization[] {
  return Object.keys(schemes).map(Number).sort((a, b) => a - b).map((c) => {
    const key = String(c);
    const scheme = schemes[key];
    if (scheme === 'noNorm') return { scheme };
    if (scheme === 'nonCT') return { scheme, useMask: useMask[key] === true };
    const p = intensity?.[key];
    if (!p || p.mean === null || p.sd === null || p.percentile_00_5 === null || p.percentile_99_5 === null) {
      throw new BadInputError(`${source}: CT channel ${key} needs foreground intensity statistics in the fingerprint (no label voxels found?); re-run the fingerprint`, source);
    }
    return { scheme: 'CT', useMask: useMask[key] === true, ct: { mean: p.mean, sd: p.sd, lower: p.percentile_00_5, upper: p.percentile_99_5 } };
  });
}
