/**
 * Foreground intensity statistics as nnU-Net v1's DatasetAnalyzer computes them: per case and
 * channel, the values where the cropped seg > 0 in C order, every 10th one (`[::10]`); pooled over cases,
 * median, mean, population sd, min, max and the 99.5 / 0.5 percentiles with numpy's linear interpolation.
 *
 * Precision: nnU-Net computes these on float32 arrays (float32 accumulators); we use float64 on the same
 * float32 samples, so results agree with numpy to ~1e-6 relative, never worse.
 * See docs/preprocessing.md, 'Fingerprint'.
 */
import { mean, medianOfSorted, percentileOfSorted, std } from '../common/numeric';

/** Keep every 10th foreground voxel (nnU-Net's `modality[mask][::10]`). */
export const FOREGROUND_SAMPLE_STRIDE = 10;

/** nnU-Net's per-channel statistic names; null where nnU-Net has NaN (no foreground at all). */
export interface IntensityStats {
  median: number | null;
  mean: number | null;
  sd: number | null;
  mn: number | null;
  mx: number | null;
  percentile_99_5: number | null;
  percentile_00_5: number | null;
}

/**
 * The sampled foreground values of every channel of one cropped case. `stacked` is (C + 1, z, y, x) with the
 * seg last (the cropped .npy layout). Returns one Float32Array per channel.
 */
export function sampleForeground(stacked: Float32Array, numChannels: number): Float32Array[] {
  const n = stacked.length / (numChannels + 1);
  const segOffset = numChannels * n;
  let fg = 0;
  for (let i = 0; i < n; i++) if (stacked[segOffset + i] > 0) fg++;
  const count = Math.ceil(fg / FOREGROUND_SAMPLE_STRIDE);
  const samples = Array.from({ length: numChannels }, () => new Float32Array(count));
  let rank = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!(stacked[segOffset + i] > 0)) continue;
    if (rank % FOREGROUND_SAMPLE_STRIDE === 0) {
      for (let c = 0; c < numChannels; c++) samples[c][k] = stacked[c * n + i];
      k++;
    }
    rank++;
  }
  return samples;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** nnU-Net's `_compute_stats` on one list of values (all null for an empty list, as nnU-Net's NaNs). */
export function computeIntensityStats(values: Float32Array): IntensityStats {
  if (values.length === 0) {
    return { median: null, mean: null, sd: null, mn: null, mx: null, percentile_99_5: null, percentile_00_5: null };
  }
  const sorted = Float64Array.from(values).sort();
  return {
    median: finiteOrNull(medianOfSorted(sorted)),
    mean: finiteOrNull(mean(values)),
    sd: finiteOrNull(std(values)),
    mn: finiteOrNull(sorted[0]),
    mx: finiteOrNull(sorted[sorted.length - 1]),
    percentile_99_5: finiteOrNull(percentileOfSorted(sorted, 99.5)),
    percentile_00_5: finiteOrNull(percentileOfSorted(sorted, 0.5)),
  };
}

/** Concatenates per-case samples in case order (nnU-Net's `w += iv`). */
export function concatSamples(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
