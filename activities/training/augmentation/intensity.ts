/**
 * batchgenerators' per-sample intensity transforms (noise, brightness, contrast, gamma) as nnU-Net's moreDA
 * pipeline calls them. Each works in place on one sample's image channels (channel-first, any spatial rank) and
 * makes the same draws, in the same order, as batchgenerators 0.25 (whose noise σ comes from Python's `random`
 * instead); the caller decides the per-sample probability.
 * See docs/augmentation.md, 'Pipeline'.
 */
import { mean, std } from '../../common/numeric';
import type { Range } from '../patch-size';
import type { Rng } from './random';
import type { Channels } from './spatial';

const channelSize = (x: Channels) => x.data.length / x.channels;

function channelView(x: Channels, c: number): Float32Array {
  const n = channelSize(x);
  return x.data.subarray(c * n, (c + 1) * n);
}

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < a.length; i++) { const v = a[i]!; if (v < mn) mn = v; if (v > mx) mx = v; }
  return { mean: mean(a), std: std(a), min: mn, max: mx };
}

/** Gaussian noise: one σ ~ U(range) per sample (nnU-Net's "variance" is used as the std), all channels. */
export function gaussianNoise(x: Channels, varianceRange: Range, rng: Rng): void {
  const sd = rng.uniform(varianceRange[0], varianceRange[1]);
  const n = channelSize(x);
  for (let c = 0; c < x.channels; c++) {
    rng.random(); // batchgenerators' p_per_channel (1) draw
    for (let i = c * n; i < (c + 1) * n; i++) x.data[i]! += rng.normal(sd);
  }
}

/** Multiplicative brightness: per channel factor ~ U(range). */
export function brightnessMultiplicative(x: Channels, range: Range, rng: Rng): void {
  rng.uniform(range[0], range[1]); // batchgenerators draws a shared multiplier first, unused per channel
  for (let c = 0; c < x.channels; c++) {
    const f = rng.uniform(range[0], range[1]);
    const v = channelView(x, c);
    for (let i = 0; i < v.length; i++) v[i]! *= f;
  }
}

/** batchgenerators' augment_brightness_additive (per channel): with p per channel, add N(mu, sigma) to the channel. */
export function brightnessAdditive(x: Channels, p: { mu: number; sigma: number; pPerChannel: number }, rng: Rng): void {
  for (let c = 0; c < x.channels; c++) {
    if (!(rng.random() <= p.pPerChannel)) continue;
    const shift = p.mu + rng.normal(p.sigma);
    const v = channelView(x, c);
    for (let i = 0; i < v.length; i++) v[i]! += shift;
  }
}

/** Contrast: per channel (x − mean)·f + mean, clipped to the channel's original range (preserve_range). */
export function contrast(x: Channels, range: Range, rng: Rng): void {
  for (let c = 0; c < x.channels; c++) {
    rng.random(); // batchgenerators' p_per_channel (1) draw
    const f = rng.aroundOne(range);
    const v = channelView(x, c);
    const { mean, min, max } = stats(v);
    for (let i = 0; i < v.length; i++) {
      const y = (v[i]! - mean) * f + mean;
      v[i] = y < min ? min : y > max ? max : y;
    }
  }
}

/** Gamma per channel on the [min, max]-normalised values, mean and std retained; `invert` works on −x. */
export function gamma(x: Channels, range: Range, invert: boolean, rng: Rng, epsilon = 1e-7): void {
  for (let c = 0; c < x.channels; c++) {
    const v = channelView(x, c);
    if (invert) for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
    const before = stats(v);
    const g = rng.aroundOne(range);
    const rnge = before.max - before.min + epsilon;
    for (let i = 0; i < v.length; i++) v[i] = Math.pow((v[i]! - before.min) / rnge, g) * rnge + before.min;
    const after = stats(v);
    const k = before.std / (after.std + 1e-8);
    for (let i = 0; i < v.length; i++) v[i] = (v[i]! - after.mean) * k + before.mean;
    if (invert) for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
  }
}
