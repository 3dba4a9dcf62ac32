/**
 * batchgeneratorsv2's image-only transforms with nnUNetTrainer's settings, each as (a) `sample…`: the parameters,
 * drawn in batchgeneratorsv2's order and distributions from our Rng, and (b) `apply…`: the deterministic step
 * given them, with torch's float32 arithmetic. Images are channel-first (Channels) and changed in place.
 * - GaussianNoise: one σ ~ U(0, 0.1) for all channels (synchronize_channels), image += σ·N(0, 1).
 * - GaussianBlur: per channel with p 0.5, one σ ~ U(0.5, 1) per axis; separable kernel (truncate 6, odd size
 *   round_to_nearest_odd(6σ + 0.5)), reflect padding, axes in order.
 * - MultiplicativeBrightness: per channel ×BGContrast(0.75, 1.25) (U(0.75, 1) or U(1, 1.25), half each).
 * - Contrast: per channel (x − mean)·BGContrast(0.75, 1.25) + mean, clipped to the channel's range.
 * - SimulateLowResolution: per channel with p 0.5, one zoom U(0.5, 1) for all axes (ignored axes 1): nearest-exact
 *   down to round(shape·zoom), (bi/tri)linear back up.
 * - Gamma: per channel γ ~ BGContrast(0.7, 1.5), optionally inverted (x → −x around it), range-normalised
 *   x^γ, mean and (unbiased) std restored.
 */
import type { Channels } from '../../augmentation/spatial';
import type { Rng } from '../../augmentation/random';
import { roundHalfEven } from '../../../common/numeric';
import type { Range } from '../../patch-size';
import { resizeLinear, resizeNearestExact } from './resize';

const f = Math.fround;
const EPS = 1e-7;

const voxels = (x: Channels) => x.shape.reduce((a, b) => a * b, 1);
const channelView = (x: Channels, c: number) => x.data.subarray(c * voxels(x), (c + 1) * voxels(x));

/** Channels whose torch.rand(1) < p (p 1: all, still one draw each). */
function pickChannels(rng: Rng, channels: number, p: number): number[] {
  return Array.from({ length: channels }, (_, c) => c).filter(() => rng.random() < p);
}

/** BGContrast's draw: U(lo, 1) or U(max(lo, 1), hi), half each. */
const bgContrast = (rng: Rng, r: Range) => rng.aroundOne(r);

// --- Gaussian noise ---------------------------------------------------------------------------------------------

export interface NoiseParams { sigma: number }

export function sampleNoise(rng: Rng, channels: number, variance: Range = [0, 0.1]): NoiseParams {
  pickChannels(rng, channels, 1);
  return { sigma: rng.uniform(variance[0], variance[1]) };
}

/** image += σ·N(0, 1), the normal draws from `rng` (torch's normal_ stream cannot be reproduced). */
export function applyNoise(x: Channels, p: NoiseParams, rng: Rng): void {
  for (let i = 0; i < x.data.length; i++) x.data[i] = f(x.data[i]! + f(rng.normal(p.sigma)));
}

// --- Gaussian blur ----------------------------------------------------------------------------------------------

export interface BlurParams { channels: number[]; sigmas: number[][] }

export function sampleBlur(rng: Rng, x: Channels, sigma: Range = [0.5, 1], pPerChannel = 0.5): BlurParams {
  const channels = pickChannels(rng, x.channels, pPerChannel);
  return { channels, sigmas: channels.map(() => x.shape.map(() => rng.uniform(sigma[0], sigma[1]))) };
}

/** _round_to_nearest_odd(σ·truncate + 0.5) with Python's round. */
export function blurKernelSize(sigma: number, truncate = 6): number {
  const n = sigma * truncate + 0.5;
  const r = roundHalfEven(n);
  if (r % 2 === 1) return r;
  return n - r >= 0 ? r + 1 : r - 1;
}

/** _build_kernel: exp(−½(x/σ)²) on the integer taps, normalised, float32. */
export function blurKernel(sigma: number, truncate = 6): Float32Array {
  const k = blurKernelSize(sigma, truncate);
  const half = (k - 1) / 2;
  const s = f(sigma);
  const pdf = Float32Array.from({ length: k }, (_, i) => {
    const t = f((i - half) / s);
    return f(Math.exp(f(-0.5 * f(t * t))));
  });
  let sum = 0;
  for (const v of pdf) sum = f(sum + v);
  return pdf.map((v) => f(v / sum));
}

/** torch's reflect padding index (no edge repeat), bouncing as often as needed. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** blur_dimension: one channel convolved along `axis` with the kernel, reflect-padded. */
function blurAxis(v: Float32Array, shape: readonly number[], axis: number, kernel: Float32Array): Float32Array {
  const n = shape[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < shape.length; a++) inner *= shape[a]!;
  const outer = v.length / (n * inner);
  const half = (kernel.length - 1) / 2;
  const out = new Float32Array(v.length);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < inner; j++) {
        let acc = 0;
        for (let k = 0; k < kernel.length; k++) acc += kernel[k]! * v[base + reflect(i + k - half, n) * inner + j]!;
        out[base + i * inner + j] = acc;
      }
    }
  }
  return out;
}

export function applyBlur(x: Channels, p: BlurParams): void {
  p.channels.forEach((c, j) => {
    let v: Float32Array = channelView(x, c);
    x.shape.forEach((_, axis) => { v = blurAxis(v, x.shape, axis, blurKernel(p.sigmas[j]![axis]!)); });
    channelView(x, c).set(v);
  });
}

// --- Multiplicative brightness and contrast -------------------------------------------------------------------

export interface ChannelFactors { channels: number[]; factors: number[] }

/** MultiplicativeBrightnessTransform / ContrastTransform draws: every channel (p 1), BGContrast(range) each. */
export function sampleChannelFactors(rng: Rng, channels: number, range: Range = [0.75, 1.25]): ChannelFactors {
  const picked = pickChannels(rng, channels, 1);
  return { channels: picked, factors: picked.map(() => bgContrast(rng, range)) };
}

export function applyBrightness(x: Channels, p: ChannelFactors): void {
  p.channels.forEach((c, j) => {
    const m = f(p.factors[j]!);
    const v = channelView(x, c);
    for (let i = 0; i < v.length; i++) v[i] = f(v[i]! * m);
  });
}

/** Channel mean as torch reduces float32 (accumulated here in float64, then rounded). */
function meanOf(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return f(s / v.length);
}

function rangeOf(v: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < v.length; i++) { if (v[i]! < lo) lo = v[i]!; if (v[i]! > hi) hi = v[i]!; }
  return [lo, hi];
}

/** ContrastTransform with preserve_range: (x − mean)·m + mean, clipped to [min, max] of the channel. */
export function applyContrast(x: Channels, p: ChannelFactors): void {
  p.channels.forEach((c, j) => {
    const m = f(p.factors[j]!);
    const v = channelView(x, c);
    const mean = meanOf(v);
    const [lo, hi] = rangeOf(v);
    for (let i = 0; i < v.length; i++) v[i] = Math.min(hi, Math.max(lo, f(f(f(v[i]! - mean) * m) + mean)));
  });
}

// --- Simulated low resolution ---------------------------------------------------------------------------------

export interface LowResParams { channels: number[]; scales: number[][] }

export function sampleLowRes(rng: Rng, x: Channels, ignoreAxes: readonly number[], zoom: Range = [0.5, 1], pPerChannel = 0.5): LowResParams {
  const channels = pickChannels(rng, x.channels, pPerChannel);
  const scales = channels.map(() => {
    const s = rng.uniform(zoom[0], zoom[1]);
    return x.shape.map((_, d) => (ignoreAxes.includes(d) ? 1 : s));
  });
  return { channels, scales };
}

export function applyLowRes(x: Channels, p: LowResParams): void {
  p.channels.forEach((c, j) => {
    const small = x.shape.map((n, d) => roundHalfEven(n * f(p.scales[j]![d]!)));
    const v = channelView(x, c);
    v.set(resizeLinear(resizeNearestExact(v, x.shape, small), small, x.shape));
  });
}

// --- Gamma ----------------------------------------------------------------------------------------------------

export interface GammaParams { channels: number[]; gammas: number[]; invert: boolean[]; retainStats: boolean[] }

/** GammaTransform's draws: channels (p 1), retain_stats (p 1), invert (p pInvert), then γ per channel. */
export function sampleGamma(rng: Rng, channels: number, pInvert: number, range: Range = [0.7, 1.5]): GammaParams {
  const picked = pickChannels(rng, channels, 1);
  const retainStats = picked.map(() => rng.random() < 1);
  const invert = picked.map(() => rng.random() < pInvert);
  return { channels: picked, retainStats, invert, gammas: picked.map(() => bgContrast(rng, range)) };
}

/** Unbiased standard deviation (torch's std), accumulated in float64. */
function stdOf(v: Float32Array, mean: number): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - mean) ** 2;
  return f(Math.sqrt(s / Math.max(1, v.length - 1)));
}

export function applyGamma(x: Channels, p: GammaParams): void {
  p.channels.forEach((c, k) => {
    const v = channelView(x, c);
    const g = f(p.gammas[k]!);
    const inv = p.invert[k]!, retain = p.retainStats[k]!;
    if (inv) for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
    let mean = 0, std = 0;
    if (retain) { let s = 0; for (const t of v) s += t; mean = f(s / v.length); std = stdOf(v, s / v.length); }
    const [lo, hi] = rangeOf(v);
    const range = f(hi - lo);
    const denom = Math.max(range, EPS);
    for (let i = 0; i < v.length; i++) v[i] = f(f(f(Math.pow(f(f(v[i]! - lo) / denom), g)) * range) + lo);
    if (retain) {
      let s = 0;
      for (const t of v) s += t;
      const meanHere = f(s / v.length);
      const factor = f(std / Math.max(stdOf(v, s / v.length), EPS));
      for (let i = 0; i < v.length; i++) v[i] = f(f(f(v[i]! - meanHere) * factor) + mean);
    }
    if (inv) for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
  });
}
