/**
 * nnU-Net v2's foreground intensity statistics (DatasetFingerprintExtractor): per case, the channel values where the
 * cropped seg > 0 (C order), of which `num_samples = int(10e7 // num_cases)` are drawn with replacement by
 * `np.random.RandomState(1234).choice(values, num_samples)` (one generator per case, channels drawn in turn);
 * pooled over cases in case order: float32 mean and std (numpy's pairwise float32 sums), min, max and the 0.5 / 50 /
 * 99.5 percentiles (numpy's linear method). A case keeps whichever is smaller: its foreground values (the draws are
 * then replayed from the seed when pooling, and the percentiles come from per-voxel draw counts) or the drawn
 * samples themselves; so memory stays below nnU-Net's own pool of 10^8 samples per channel.
 */
import { MT19937 } from '../../common/mt19937';
import { pairwiseSum, REDUCE_CHUNK } from '../../common/float32-reductions';
import { pairwiseSum64 } from '../../common/numeric';

export const FOREGROUND_SEED = 1234;
/** num_foreground_voxels_for_intensitystats (10e7): samples per channel over the whole dataset. */
export const FOREGROUND_VOXELS_FOR_STATS = 10e7;

export const samplesPerCase = (numCases: number, budget = FOREGROUND_VOXELS_FOR_STATS): number => Math.floor(budget / numCases);

/**
 * One case's contribution per channel: its foreground values (C order) with the draws replayed from the seed, or,
 * when it has more foreground voxels than draws, the drawn samples in draw order.
 */
export interface CaseForeground {
  numForeground: number;
  numSamples: number;
  values?: Float32Array[];
  drawn?: Float32Array[];
}

/** The foreground voxels of every channel: `stacked` is (C + 1, ...) with the seg last (the cropped layout). */
export function foregroundValues(stacked: Float32Array, numChannels: number): Float32Array[] {
  const n = stacked.length / (numChannels + 1);
  const seg = stacked.subarray(numChannels * n);
  let count = 0;
  for (let i = 0; i < n; i++) if (seg[i]! > 0) count++;
  return Array.from({ length: numChannels }, (_, c) => {
    const out = new Float32Array(count);
    for (let i = 0, k = 0; i < n; i++) if (seg[i]! > 0) out[k++] = stacked[c * n + i]!;
    return out;
  });
}

/**
 * Replays `rs.choice(values, numSamples, replace=True)` of channel `channel` (randint(0, n): masked rejection per
 * draw, no draw at all for n = 1) and calls `visit` with each drawn index in order.
 */
export function replayDraws(numForeground: number, numSamples: number, channel: number, visit: (index: number) => void): void {
  if (numForeground === 0) return; // nnU-Net appends [] and draws nothing
  const rng = new MT19937(FOREGROUND_SEED);
  const max = numForeground - 1;
  // randint's masked rejection (numpy's random_bounded_uint64 for a range below 2^32), the mask computed once
  let mask = max;
  for (let shift = 1; shift < 32; shift <<= 1) mask |= mask >>> shift;
  for (let c = 0; c <= channel; c++) {
    const last = c === channel;
    for (let k = 0; k < numSamples; k++) {
      let i = 0;
      if (max > 0) do i = (rng.nextUint32() & mask) >>> 0; while (i > max);
      if (last) visit(i);
    }
  }
}

/** The case's contribution from its foreground values: kept as they are, or drawn now when the draws are fewer. */
export function caseForeground(values: Float32Array[], numSamples: number): CaseForeground {
  const numForeground = values[0]?.length ?? 0;
  if (numForeground <= numSamples) return { numForeground, numSamples, values };
  const drawn = values.map((v, c) => {
    const out = new Float32Array(numSamples);
    let k = 0;
    replayDraws(numForeground, numSamples, c, (i) => { out[k++] = v[i]!; });
    return out;
  });
  return { numForeground, numSamples, drawn };
}

/** Calls `visit` with the case's samples of `channel` in nnU-Net's order (and the value's index when replayed). */
function visitSamples(fg: CaseForeground, channel: number, visit: (v: number, index: number) => void): void {
  const drawn = fg.drawn?.[channel];
  if (drawn) { for (let k = 0; k < drawn.length; k++) visit(drawn[k]!, -1); return; }
  const values = fg.values![channel]!;
  replayDraws(fg.numForeground, fg.numSamples, channel, (i) => visit(values[i]!, i));
}

/** (value, how often it was drawn) of one case's channel; `counts` per foreground voxel when the draws were replayed. */
function drawCounts(fg: CaseForeground, channel: number, counts: Float64Array | null): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const drawn = fg.drawn?.[channel];
  if (drawn) {
    for (const v of Float32Array.from(drawn).sort()) {
      const last = out[out.length - 1];
      if (last && last[0] === v) last[1]++;
      else out.push([v, 1]);
    }
    return out;
  }
  fg.values![channel]!.forEach((v, i) => { if (counts![i]! > 0) out.push([v, counts![i]!]); });
  return out;
}

export interface ForegroundStatsV2 {
  mean: number;
  median: number;
  std: number;
  min: number;
  max: number;
  percentile_99_5: number;
  percentile_00_5: number;
}

/** np.percentile on a float32 array: the lerp's difference is a float32 subtraction, the rest float64. */
function lerpFloat32(a: number, b: number, t: number): number {
  const diff = Math.fround(b - a);
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Percentiles of the multiset {value[i] repeated count[i] times}, values sorted ascending. */
function weightedPercentile(values: Float64Array, cumulative: Float64Array, q: number, float32: boolean): number {
  const total = cumulative[cumulative.length - 1]!;
  const virtual = (total - 1) * (q / 100);
  const lo = Math.max(0, Math.min(total - 1, Math.floor(virtual)));
  const hi = Math.min(total - 1, lo + 1);
  const at = (rank: number) => {
    let a = 0, b = cumulative.length - 1;
    while (a < b) { const m = (a + b) >> 1; if (cumulative[m]! > rank) b = m; else a = m + 1; }
    return values[a]!;
  };
  const [x, y, t] = [at(lo), at(hi), virtual - lo];
  return float32 ? lerpFloat32(x, y, t) : (t >= 0.5 ? y - (y - x) * (1 - t) : x + (y - x) * t);
}

/**
 * Sums the samples of every case in order, as numpy's chunked pairwise sum over the pooled array; counts the
 * replayed draws per foreground voxel into `counts` when given (one replay serves the mean and the percentiles).
 */
function pooledSum(cases: readonly CaseForeground[], channel: number, map: (v: number) => number, round: (x: number) => number,
  counts?: Array<Float64Array | null>): number {
  const chunk = new Float64Array(REDUCE_CHUNK);
  let filled = 0;
  let s = 0;
  const flush = () => { s = round(s + pairwiseSumIn(chunk, filled, round)); filled = 0; };
  cases.forEach((fg, k) => {
    const count = counts?.[k];
    visitSamples(fg, channel, (v, i) => {
      if (count) count[i]!++;
      chunk[filled++] = map(v);
      if (filled === REDUCE_CHUNK) flush();
    });
  });
  if (filled > 0) flush();
  return s;
}

function pairwiseSumIn(chunk: Float64Array, n: number, round: (x: number) => number): number {
  // float64 when a case without foreground made the pooled array float64
  return round === Math.fround ? pairwiseSum(chunk, 0, n) : pairwiseSum64(chunk, 0, n);
}

/** The pooled statistics of one channel; null when no case has foreground (nnU-Net fails there). */
export function pooledForegroundStats(cases: readonly CaseForeground[], channel: number): ForegroundStatsV2 | null {
  // np.concatenate with a case's empty list ([] is float64) makes the pooled array float64
  const float32 = cases.every((fg) => fg.numForeground > 0);
  const round = float32 ? Math.fround : (x: number) => x;
  const counts = cases.map((fg) => (fg.drawn ? null : new Float64Array(fg.numForeground)));
  const sum = pooledSum(cases, channel, (v) => v, round, counts);
  const entries = cases.flatMap((fg, k) => drawCounts(fg, channel, counts[k]!));
  if (entries.length === 0) return null;
  entries.sort((a, b) => a[0] - b[0]);
  const values = Float64Array.from(entries, (e) => e[0]);
  const cumulative = new Float64Array(entries.length);
  entries.reduce((acc, e, i) => (cumulative[i] = acc + e[1]), 0);
  const total = cumulative[cumulative.length - 1]!;
  const mean = round(sum / total);
  const variance = round(pooledSum(cases, channel, (v) => { const d = round(v - mean); return round(d * d); }, round) / total);
  return {
    mean,
    median: weightedPercentile(values, cumulative, 50, float32),
    std: round(Math.sqrt(variance)),
    min: values[0]!,
    max: values[values.length - 1]!,
    percentile_99_5: weightedPercentile(values, cumulative, 99.5, float32),
    percentile_00_5: weightedPercentile(values, cumulative, 0.5, float32),
  };
}
