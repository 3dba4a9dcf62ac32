/**
 * nnU-Net v2's normalization classes (default_normalization_schemes.py), per channel, in place, before resampling,
 * in float32 arithmetic with numpy's float32 statistics:
 * - ZScoreNormalization: (x - mean) / max(std, 1e-8); with use_mask_for_norm only where seg >= 0, over that region
 *   (voxels outside keep their value: v2 does not zero them, unlike v1).
 * - CTNormalization: clip to the fingerprint's [percentile_00_5, percentile_99_5], then (x - mean) / max(std, 1e-8).
 * - NoNormalization: unchanged. RescaleTo01Normalization: (x - min) / max(max - min, 1e-8). RGBTo01Normalization: x / 255.
 */
import { BadInputError } from '../../common/errors';
import { meanFloat32, stdFloat32 } from '../../common/float32-reductions';

export const NORMALIZATION_EPSILON = 1e-8;
const f = Math.fround;

export interface IntensityPropertiesV2 { mean: number; std: number; percentile_00_5: number; percentile_99_5: number }

export interface ChannelNormalizationV2 {
  scheme: string;
  useMaskForNorm: boolean;
  intensity?: IntensityPropertiesV2;
}

function zScore(x: Float32Array, seg: ArrayLike<number>, useMask: boolean): void {
  if (!useMask) {
    const mean = meanFloat32(x);
    const div = f(Math.max(stdFloat32(x), NORMALIZATION_EPSILON));
    for (let i = 0; i < x.length; i++) x[i] = f(x[i]! - mean) / div;
    return;
  }
  const inside: number[] = [];
  for (let i = 0; i < x.length; i++) if (seg[i]! >= 0) inside.push(i);
  if (inside.length === 0) return; // numpy normalizes an empty selection: nothing changes
  const region = Float32Array.from(inside, (i) => x[i]!);
  const mean = meanFloat32(region);
  const div = f(Math.max(stdFloat32(region), NORMALIZATION_EPSILON));
  for (const i of inside) x[i] = f(x[i]! - mean) / div;
}

function ct(x: Float32Array, p: IntensityPropertiesV2): void {
  const [lo, hi, mean] = [f(p.percentile_00_5), f(p.percentile_99_5), f(p.mean)];
  const div = f(Math.max(p.std, NORMALIZATION_EPSILON));
  for (let i = 0; i < x.length; i++) {
    const v = x[i]! < lo ? lo : x[i]! > hi ? hi : x[i]!;
    x[i] = f(v - mean) / div;
  }
}

function rescaleTo01(x: Float32Array): void {
  let min = Infinity;
  for (let i = 0; i < x.length; i++) if (x[i]! < min) min = x[i]!;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) { x[i] = f(x[i]! - min); if (x[i]! > max) max = x[i]!; }
  const div = f(Math.max(max, NORMALIZATION_EPSILON));
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / div;
}

function rgbTo01(x: Float32Array, source: string): void {
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < 0 || x[i]! > 255) {
      throw new BadInputError(`${source}: RGBTo01Normalization needs values in 0..255 (uint8 RGB), found ${x[i]}; name the channel differently in dataset.json (e.g. "zscore")`, source);
    }
    x[i] = x[i]! / 255;
  }
}

/** Normalizes channel `x` in place (Float32Array stores round each result to float32); `seg` is the cropped seg. */
export function normalizeChannelV2(x: Float32Array, seg: ArrayLike<number>, how: ChannelNormalizationV2, source: string): void {
  switch (how.scheme) {
    case 'ZScoreNormalization': return zScore(x, seg, how.useMaskForNorm);
    case 'CTNormalization':
      if (!how.intensity) throw new BadInputError(`${source}: CTNormalization needs the fingerprint's foreground intensity properties of this channel`, source);
      return ct(x, how.intensity);
    case 'NoNormalization': return;
    case 'RescaleTo01Normalization': return rescaleTo01(x);
    case 'RGBTo01Normalization': return rgbTo01(x, source);
    default:
      throw new BadInputError(`${source}: unknown normalization scheme "${how.scheme}"; nnU-Net v2 has ZScoreNormalization, CTNormalization, NoNormalization, RescaleTo01Normalization, RGBTo01Normalization`, source);
  }
}
