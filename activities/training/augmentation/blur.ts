/**
 * Gaussian blur as scipy.ndimage.gaussian_filter (isotropic σ, truncate 4, 'reflect' borders: d c b a | a b c d),
 * separable over every spatial axis; nnU-Net's GaussianBlurTransform (docs/augmentation.md, 'Pipeline').
 */
import type { Range } from '../patch-size';
import type { Rng } from './random';
import type { Channels } from './spatial';

export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) { k[i + radius] = Math.exp(-0.5 * (i * i) / (sigma * sigma)); sum += k[i + radius]!; }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Half-sample symmetric index into [0, n). */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  const j = ((i % period) + period) % period;
  return j < n ? j : period - 1 - j;
}

/** Convolves one channel (`shape`, C order) with `kernel` along `axis`, in place. */
function convolveAxis(v: Float32Array, shape: readonly number[], axis: number, kernel: Float64Array): void {
  const n = shape[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < shape.length; a++) inner *= shape[a]!;
  const outer = v.length / (n * inner);
  const r = (kernel.length - 1) / 2;
  const line = new Float64Array(n + 2 * r);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      for (let k = -r; k < n + r; k++) line[k + r] = v[base + reflect(k, n) * inner]!;
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let t = 0; t < kernel.length; t++) s += kernel[t]! * line[k + t]!;
        v[base + k * inner] = s;
      }
    }
  }
}

export function gaussianFilter(v: Float32Array, shape: readonly number[], sigma: number): void {
  const kernel = gaussianKernel(sigma);
  for (let a = 0; a < shape.length; a++) if (shape[a]! > 1) convolveAxis(v, shape, a, kernel);
}

/** Each channel with p `pPerChannel`: σ ~ U(range) drawn for that channel. */
export function gaussianBlur(x: Channels, sigmaRange: Range, pPerChannel: number, rng: Rng): void {
  const n = x.data.length / x.channels;
  for (let c = 0; c < x.channels; c++) {
    if (!(rng.random() <= pPerChannel)) continue; // batchgenerators compares with <= here
    const sigma = rng.uniform(sigmaRange[0], sigmaRange[1]);
    gaussianFilter(x.data.subarray(c * n, (c + 1) * n), x.shape, sigma);
  }
}
