/**
 * One-dimensional resampling along an axis of a C-order volume, with scipy.ndimage.zoom's semantics as skimage's
 * resize uses them (grid_mode=True, mode='nearest'): output sample k reads the input at
 * x = (k + 0.5) · n_in / n_out − 0.5. Order 3 is a cubic B-spline on prefiltered coefficients; like scipy, the
 * line is first padded by 12 edge values and filtered with reflecting boundary conditions. Order 1 is linear and
 * order 0 nearest (round half up), both with the coordinate clamped to the input (mode 'nearest').
 * Tensor-product splines are separable, so a 3D zoom is three of these passes (exact up to float rounding).
 */

export type Order = 0 | 1 | 3;

/** scipy prepads 'nearest'-mode spline input by this many edge samples before filtering. */
const SPLINE_PAD = 12;
const CUBIC_POLE = Math.sqrt(3) - 2;

/** In-place cubic B-spline prefilter of one line (scipy ni_splines.c apply_filter, reflect initialisation). */
function prefilterCubic(c: Float64Array): void {
  const n = c.length;
  const z = CUBIC_POLE;
  const gain = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) c[i]! *= gain;
  if (n === 1) return;
  // causal initialisation, half-sample symmetric extension
  const zn = Math.pow(z, n);
  const c0 = c[0]!;
  let acc = c0 + zn * c[n - 1]!;
  let zi = z;
  for (let i = 1; i < n; i++) {
    acc += zi * (c[i]! + zn * c[n - 1 - i]!);
    zi *= z;
  }
  c[0] = acc * (z / (1 - zn * zn)) + c0;
  for (let i = 1; i < n; i++) c[i]! += z * c[i - 1]!;
  c[n - 1]! *= z / (z - 1);
  for (let i = n - 2; i >= 0; i--) c[i] = z * (c[i + 1]! - c[i]!);
}

/** Precomputed taps of one output sample: source indices (into the line, padded for order 3) and weights. */
interface Taps { index: Int32Array; weight: Float64Array; width: number }

function sourceCoordinate(k: number, nIn: number, nOut: number): number {
  return (k + 0.5) * (nIn / nOut) - 0.5;
}

function tapsFor(order: Order, nIn: number, nOut: number): Taps {
  const width = order === 3 ? 4 : order === 1 ? 2 : 1;
  const index = new Int32Array(nOut * width);
  const weight = new Float64Array(nOut * width);
  for (let k = 0; k < nOut; k++) {
    let x = sourceCoordinate(k, nIn, nOut);
    const o = k * width;
    if (order === 3) {
      x += SPLINE_PAD;
      const last = nIn + 2 * SPLINE_PAD - 1;
      const f = Math.floor(x);
      const t = x - f;
      const t2 = t * t;
      const t3 = t2 * t;
      const w = [(1 - t) * (1 - t) * (1 - t) / 6, (4 - 6 * t2 + 3 * t3) / 6, (1 + 3 * t + 3 * t2 - 3 * t3) / 6, t3 / 6];
      for (let j = 0; j < 4; j++) {
        index[o + j] = Math.min(Math.max(f - 1 + j, 0), last);
        weight[o + j] = w[j]!;
      }
      continue;
    }
    x = Math.min(Math.max(x, 0), nIn - 1);
    if (order === 1) {
      const f = Math.floor(x);
      const t = x - f;
      index[o] = f;
      index[o + 1] = Math.min(f + 1, nIn - 1);
      weight[o] = 1 - t;
      weight[o + 1] = t;
    } else {
      index[o] = Math.min(Math.floor(x + 0.5), nIn - 1);
      weight[o] = 1;
    }
  }
  return { index, weight, width };
}

/**
 * Resamples `src` (C order, `shape`) along `axis` to `nOut` samples. Returns a new Float64Array with the shape
 * changed on that axis. Works for any rank.
 */
export function resampleAxis(src: ArrayLike<number>, shape: readonly number[], axis: number, nOut: number, order: Order): Float64Array {
  const nIn = shape[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < shape.length; a++) inner *= shape[a]!;
  let outer = 1;
  for (let a = 0; a < axis; a++) outer *= shape[a]!;
  const out = new Float64Array(outer * nOut * inner);
  const taps = tapsFor(order, nIn, nOut);
  const lineLen = order === 3 ? nIn + 2 * SPLINE_PAD : nIn;
  const line = new Float64Array(lineLen);
  const off = order === 3 ? SPLINE_PAD : 0;
  for (let o = 0; o < outer; o++) {
    const inBase = o * nIn * inner;
    const outBase = o * nOut * inner;
    for (let i = 0; i < inner; i++) {
      for (let k = 0; k < nIn; k++) line[off + k] = src[inBase + k * inner + i]!;
      if (order === 3) {
        line.fill(line[off]!, 0, off);
        line.fill(line[off + nIn - 1]!, off + nIn);
        prefilterCubic(line);
      }
      for (let k = 0; k < nOut; k++) {
        let v = 0;
        const t0 = k * taps.width;
        for (let j = 0; j < taps.width; j++) v += taps.weight[t0 + j]! * line[taps.index[t0 + j]!]!;
        out[outBase + k * inner + i] = v;
      }
    }
  }
  return out;
}

/** A zoom over the given axes to `outShape` (axes whose size does not change are left as they are). */
export function zoom(src: ArrayLike<number>, shape: readonly number[], outShape: readonly number[], order: Order, axes?: readonly number[]): Float64Array {
  let cur: ArrayLike<number> = src;
  const curShape = [...shape];
  for (const a of axes ?? shape.map((_, i) => i)) {
    if (curShape[a] === outShape[a]) continue;
    cur = resampleAxis(cur, curShape, a, outShape[a]!, order);
    curShape[a] = outShape[a]!;
  }
  return cur instanceof Float64Array && cur !== src ? cur : Float64Array.from(cur);
}
