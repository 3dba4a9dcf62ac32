/**
 * nnU-Net's Gaussian importance map for sliding-window aggregation (v1 `SegmentationNetwork._get_gaussian`):
 * a 1 at index P//2 of a zero patch, filtered by scipy's gaussian_filter with sigma = P/8 per axis
 * (mode constant 0, truncate 4), divided by its maximum, cast to float32, exact zeros replaced by the smallest
 * non-zero value.
 *
 * Filtering a single 1 is exact arithmetic on scipy's normalised 1D kernels: the value at a voxel is the
 * product of each axis's kernel weight at its offset from the centre (multiplied in axis order, as the
 * separable filter does), zero beyond the kernel radius int(4σ + 0.5). We compute exactly that, including
 * numpy's pairwise summation for the kernel normalisation, so the float32 map matches scipy's bit for bit
 * up to the last-ulp behaviour of exp().
 * See docs/evaluation.md, 'Sliding window'.
 */

/** numpy's pairwise summation (`pairwise_sum` in numpy's umath loops), as `ndarray.sum()` does for float64. */
export function numpySum(a: ArrayLike<number>, start = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, start, n2) + numpySum(a, start + n2, n - n2);
}

/** scipy.ndimage's `_gaussian_kernel1d(sigma, 0, radius)`: exp(-x²/(2σ²)) for x in [-radius, radius], normalised. */
export function gaussianKernel1d(sigma: number, radius: number): Float64Array {
  const phi = new Float64Array(2 * radius + 1);
  const a = -0.5 / (sigma * sigma);
  for (let x = -radius; x <= radius; x++) phi[x + radius] = Math.exp(a * (x * x));
  const sum = numpySum(phi);
  for (let i = 0; i < phi.length; i++) phi[i] /= sum;
  return phi;
}

/** Weight of each index along one axis after filtering a 1 at P//2 (scipy skips axes with σ <= 1e-15). */
function axisProfile(p: number, sigmaScale: number): Float64Array {
  const prof = new Float64Array(p);
  const c = Math.floor(p / 2);
  const sigma = p * sigmaScale;
  if (!(sigma > 1e-15)) {
    prof[c] = 1;
    return prof;
  }
  const radius = Math.trunc(4 * sigma + 0.5);
  const w = gaussianKernel1d(sigma, radius);
  for (let i = 0; i < p; i++) {
    const d = i - c;
    if (d >= -radius && d <= radius) prof[i] = w[d + radius];
  }
  return prof;
}

/** The filtered 1 over a patch (float64, C order) and its maximum, before any scaling or cast. */
export function filteredPeak(patchSize: readonly number[], sigmaScale = 1 / 8): { values: Float64Array; max: number } {
  if (patchSize.length === 0 || patchSize.some((p) => !Number.isInteger(p) || p < 1)) {
    throw new RangeError(`patch size must be positive integers, got [${patchSize.join(', ')}]`);
  }
  const profiles = patchSize.map((p) => axisProfile(p, sigmaScale));
  const n = patchSize.reduce((a, b) => a * b, 1);
  const values = new Float64Array(n);
  const idx = new Array<number>(patchSize.length).fill(0);
  let max = 0;
  for (let i = 0; i < n; i++) {
    let v = 1;
    for (let d = 0; d < patchSize.length; d++) v *= profiles[d][idx[d]];
    values[i] = v;
    if (v > max) max = v;
    for (let d = patchSize.length - 1; d >= 0; d--) {
      if (++idx[d] < patchSize[d]) break;
      idx[d] = 0;
    }
  }
  return { values, max };
}

/** The importance map over a patch (any number of axes, C order), float32, max 1, no zeros. */
export function gaussianImportanceMap(patchSize: readonly number[], sigmaScale = 1 / 8): Float32Array {
  const { values, max } = filteredPeak(patchSize, sigmaScale);
  const n = values.length;
  const map = new Float32Array(n);
  let minNonZero = Infinity;
  for (let i = 0; i < n; i++) {
    map[i] = (values[i] / max) * 1;
    if (map[i] !== 0 && map[i] < minNonZero) minNonZero = map[i];
  }
  for (let i = 0; i < n; i++) if (map[i] === 0) map[i] = minNonZero;
  return map;
}
