/**
 * float16 rounding of float32 arrays in place, as torch casts float32 to half (round to nearest, ties to even;
 * overflow to ±Infinity; half subnormals in steps of 2^-24), without leaving float32 storage: nnUNetPredictor's
 * float16 accumulators emulated at ~1 ns a value (io/npz.ts's floatToHalf, one value at a time, takes ~70 ns).
 */

const HALF_OVERFLOW = 0x477ff000; // 65520: from here on a float32 rounds to the half infinity
const HALF_MIN_NORMAL = 0x38800000; // 2^-14
const F32_INFINITY = 0x7f800000;
const SUBNORMAL_STEP = 2 ** -24;

/** x rounded to an integer, ties to even. */
function roundHalfEven(x: number): number {
  const n = Math.floor(x);
  const d = x - n;
  return d > 0.5 || (d === 0.5 && n % 2 !== 0) ? n + 1 : n;
}

/** Rounds every value of `values` to the nearest float16 value, in place; NaN stays NaN. */
export function roundToHalfInPlace(values: Float32Array): Float32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const u = bits[i]!;
    const sign = u & 0x80000000;
    const a = u & 0x7fffffff;
    if (a > F32_INFINITY) continue; // NaN
    if (a >= HALF_OVERFLOW) {
      bits[i] = (sign | F32_INFINITY) >>> 0;
    } else if (a >= HALF_MIN_NORMAL) {
      // drop the 13 mantissa bits half lacks, ties to even; a carry correctly moves into the exponent
      bits[i] = (sign | ((a + 0x0fff + ((a >>> 13) & 1)) & 0xffffe000)) >>> 0;
    } else {
      const v = values[i]!;
      values[i] = Math.sign(v) * roundHalfEven(Math.abs(v) / SUBNORMAL_STEP) * SUBNORMAL_STEP;
    }
  }
  return values;
}

const one = new Float32Array(1);

/** The float16 value nearest to x (via float32, as torch casts), as a number. */
export function toHalf(x: number): number {
  one[0] = x;
  return roundToHalfInPlace(one)[0]!;
}

/**
 * The float16 value nearest to a float64 `x`, rounded once as numpy's float64 → float16 cast (astype) does;
 * rounding through float32 first could round twice. Ties to even; from 65520 on ±Infinity.
 */
export function doubleToHalf(x: number): number {
  const a = Math.abs(x);
  if (!(a < 65520)) return Number.isNaN(x) ? x : Math.sign(x) * Infinity;
  let e = Math.max(-14, Math.floor(Math.log2(a || 1)));
  if (e > -14 && 2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const step = 2 ** (Math.max(e, -14) - 10); // half subnormals share 2^-14's step, 2^-24
  return Math.sign(x) * roundHalfEven(a / step) * step;
}
