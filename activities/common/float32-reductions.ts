/**
 * numpy's float32 reductions, bit for bit: `np.sum` / `mean` / `std` of a float32 array accumulate in float32
 * with numpy's pairwise summation (blocks of 128 summed with 8 interleaved accumulators), and nnU-Net v2
 * normalizes with those float32 statistics. Math.fround after every operation reproduces float32 arithmetic.
 */

const BLOCK = 128;
const f = Math.fround;

/** numpy's pairwise_sum for float32 over values[start, start + n). */
export function pairwiseSum(values: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s = f(s + values[start + i]!);
    return s;
  }
  if (n <= BLOCK) {
    let r0 = f(values[start]!), r1 = f(values[start + 1]!), r2 = f(values[start + 2]!), r3 = f(values[start + 3]!);
    let r4 = f(values[start + 4]!), r5 = f(values[start + 5]!), r6 = f(values[start + 6]!), r7 = f(values[start + 7]!);
    let i = start + 8;
    const end = start + n - (n % 8);
    for (; i < end; i += 8) {
      r0 = f(r0 + values[i]!); r1 = f(r1 + values[i + 1]!); r2 = f(r2 + values[i + 2]!); r3 = f(r3 + values[i + 3]!);
      r4 = f(r4 + values[i + 4]!); r5 = f(r5 + values[i + 5]!); r6 = f(r6 + values[i + 6]!); r7 = f(r7 + values[i + 7]!);
    }
    let s = f(f(f(r0 + r1) + f(r2 + r3)) + f(f(r4 + r5) + f(r6 + r7)));
    for (; i < start + n; i++) s = f(s + values[i]!);
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f(pairwiseSum(values, start, n2) + pairwiseSum(values, start + n2, n - n2));
}

/** numpy's reduction hands the inner loop at most this many elements at a time (its iterator buffer size). */
export const REDUCE_CHUNK = 8192;

/** np.sum(x) of a contiguous float32 array: pairwise within each chunk of 8192, chunks added in order. */
export function sumFloat32(values: ArrayLike<number>): number {
  let s = 0;
  for (let start = 0; start < values.length; start += REDUCE_CHUNK) {
    s = f(s + pairwiseSum(values, start, Math.min(REDUCE_CHUNK, values.length - start)));
  }
  return s;
}

/** np.mean(x) of a float32 array (NaN when empty, as numpy). */
export function meanFloat32(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  return f(sumFloat32(values) / values.length);
}

/** np.std(x) (population) of a float32 array: float32 mean, float32 squared deviations, float32 pairwise sum. */
export function stdFloat32(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  const mean = meanFloat32(values);
  const sq = new Float32Array(n);
  for (let i = 0; i < n; i++) { const d = f(values[i]! - mean); sq[i] = d * d; }
  return f(Math.sqrt(f(sumFloat32(sq) / n)));
}
