/**
 * Numeric helpers with numpy's exact semantics, so ports of nnU-Net's decisions land on the same numbers:
 * round-half-to-even (Python round / np.round), np.percentile's default "linear" method (including numpy's
 * two-sided lerp), np.median, np.mean and population np.std.
 */

/** Python's round() / np.round(x): ties go to the even integer (2.5 -> 2, 3.5 -> 4). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** numpy's _lerp: a + (b-a)·t for t < 0.5, b - (b-a)·(1-t) otherwise (keeps results monotone and exact at t=1). */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  const s = Float64Array.from(values as ArrayLike<number>);
  s.sort();
  return s;
}

/** np.percentile(values, q) with the default linear method; q in [0, 100]. NaN for an empty input. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  return percentileOfSorted(sortedCopy(values), q);
}

/** percentile() on data already sorted ascending (avoids re-sorting when several percentiles are needed). */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const virtualIndex = (n - 1) * (q / 100);
  const lo = Math.max(0, Math.min(n - 1, Math.floor(virtualIndex)));
  const hi = Math.min(n - 1, lo + 1);
  const gamma = virtualIndex - lo;
  return lerp(sorted[lo]!, sorted[hi]!, gamma);
}

/** np.median: the middle element, or the mean of the two middle ones ((a + b) / 2). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  return medianOfSorted(sortedCopy(values));
}

export function medianOfSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}

/** Per-column statistic over rows (np.<stat>(np.vstack(rows), 0)). */
export function columnwise(rows: ReadonlyArray<ReadonlyArray<number>>, stat: (column: number[]) => number): number[] {
  if (rows.length === 0) return [];
  const dims = rows[0]!.length;
  const out: number[] = [];
  for (let d = 0; d < dims; d++) out.push(stat(rows.map((r) => r[d]!)));
  return out;
}

/**
 * np.mean: numpy sums float arrays pairwise (blocks of 8 unrolled accumulators below 128 elements), so a plain
 * running sum can differ in the last bits; this follows numpy's pairwise_sum for float64.
 */
export function sum(values: ArrayLike<number>): number {
  return pairwiseSum64(values, 0, values.length);
}

/** numpy's pairwise_sum in float64 over values[start, start + n). */
export function pairwiseSum64(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [a[start]!, a[start + 1]!, a[start + 2]!, a[start + 3]!, a[start + 4]!, a[start + 5]!, a[start + 6]!, a[start + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k]! += a[start + i + k]!;
    let res = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum64(a, start, n2) + pairwiseSum64(a, start + n2, n - n2);
}

export function mean(values: ArrayLike<number>): number {
  return values.length === 0 ? NaN : sum(values) / values.length;
}

/** np.std with ddof = 0 (population standard deviation), computed as numpy does: sqrt(mean(|x - mean|²)). */
export function std(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  const m = mean(values);
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = values[i]! - m;
    sq[i] = d * d;
  }
  return Math.sqrt(sum(sq) / n);
}

/** np.argmax: index of the first maximum. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** np.argsort(values)[-1] for short vectors: numpy's small-array sort is stable, so ties resolve to the LAST index. */
export function argmaxLastTie(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! >= values[best]!) best = i;
  return best;
}

export function product(values: ArrayLike<number>): number {
  let p = 1;
  for (let i = 0; i < values.length; i++) p *= values[i]!;
  return p;
}
