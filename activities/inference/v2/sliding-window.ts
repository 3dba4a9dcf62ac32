/**
 * nnU-Net v2's nnUNetPredictor on a preprocessed case: sliding window over the network's logits (not v1's
 * softmax), mirroring averaged on the logits, Gaussian weighting, folds averaged. nnUNetPredictor keeps its
 * accumulators in float16 (predicted_logits, n_predictions and a float16 Gaussian scaled to a maximum of 10),
 * so every sum, the final division and the fold average are rounded to float16 here too, in its order of
 * operations: the answer is nnU-Net's up to the network's float32 differences, not a float32 refinement of it.
 * A 2d model predicts a 3D case slice by slice, as nnUNetPredictor's slicers do.
 * See docs/nnunet-v2.md, 'Networks'.
 */
import * as tf from '@tensorflow/tfjs';
import { filteredPeak } from '../gaussian';
import { cartesian, computeSteps, copyBlock, padImage, paddingForPatch, unpad, type PatchPredictor } from '../sliding-window';
import { roundToHalfInPlace } from './half';

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** compute_gaussian(patch, sigma_scale=1/8, value_scaling_factor=10) in float16, zeros replaced by the smallest value. */
export function gaussianMapV2(patchSize: readonly number[]): Float32Array {
  const { values, max } = filteredPeak(patchSize, 1 / 8);
  const scale = max / 10;
  const map = roundToHalfInPlace(Float32Array.from(values, (v) => v / scale));
  let min = Infinity;
  for (const v of map) if (v !== 0 && v < min) min = v;
  for (let i = 0; i < map.length; i++) if (map[i] === 0) map[i] = min;
  return map;
}

/** itertools' combinations of every size, smallest first: the order nnUNetPredictor mirrors in. */
export function mirrorCombinations(axes: readonly number[]): number[][] {
  const out: number[][] = [];
  const pick = (size: number, from: number, chosen: number[]): void => {
    if (chosen.length === size) { out.push([...chosen]); return; }
    for (let i = from; i < axes.length; i++) pick(size, i + 1, [...chosen, axes[i]!]);
  };
  for (let size = 1; size <= axes.length; size++) pick(size, 0, []);
  return out;
}

export interface LogitsNetwork { predict(x: tf.Tensor): tf.Tensor }

/**
 * _internal_maybe_mirror_and_predict as a PatchPredictor: the logits of the patch plus those of each mirrored
 * patch (flipped back), summed in float32 and divided by their number; class-first out.
 */
export function mirroredLogitsPredictor(net: LogitsNetwork, patchSize: readonly number[], inChannels: number, mirrorAxes: readonly number[] = []): PatchPredictor {
  const dims = patchSize.length;
  const spatial = Array.from({ length: dims }, (_, i) => i);
  const combinations = mirrorCombinations(mirrorAxes);
  return async (patch) => {
    const out = tf.tidy(() => {
      const x = tf.tensor(patch, [inChannels, ...patchSize], 'float32').transpose([...spatial.map((a) => a + 1), 0]).expandDims(0);
      let sum = net.predict(x);
      for (const axes of combinations) {
        const flip = axes.map((a) => a + 1);
        sum = tf.add(sum, tf.reverse(net.predict(tf.reverse(x, flip)), flip));
      }
      if (combinations.length) sum = tf.div(sum, combinations.length + 1);
      return sum.squeeze([0]).transpose([dims, ...spatial]);
    });
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
}

/** One sliding window over a channel-first image whose spatial rank equals the patch's; float16 accumulation. */
async function slideHalf(image: Float32Array, channels: number, shape: readonly number[], patchSize: readonly number[], heads: number, predict: PatchPredictor, stepSize: number, gaussian: Float32Array): Promise<Float32Array> {
  const padding = paddingForPatch(shape, patchSize);
  const data = padImage(image, channels, padding);
  const dataShape = padding.paddedShape;
  const n = prod(dataShape);
  const pv = prod(patchSize);
  const sums = new Float32Array(heads * n);
  const weights = new Float32Array(n);
  const input = new Float32Array(channels * pv);
  const zeros = patchSize.map(() => 0);
  for (const start of cartesian(computeSteps(patchSize, dataShape, stepSize))) {
    copyBlock(data, dataShape, start, input, patchSize, zeros, patchSize, channels);
    const pred = await predict(input, start);
    if (pred.length !== heads * pv) throw new RangeError(`patch predictor returned ${pred.length} values, expected ${heads} × ${pv}`);
    // prediction *= gaussian (float32); predicted_logits[sl] += prediction and n_predictions[sl] += gaussian: float32 sums rounded to float16
    const tile = new Float32Array(heads * pv);
    copyBlock(sums, dataShape, start, tile, patchSize, zeros, patchSize, heads);
    for (let i = 0; i < tile.length; i++) tile[i] = tile[i]! + Math.fround(pred[i]! * gaussian[i % pv]!);
    roundToHalfInPlace(tile);
    copyBlock(tile, patchSize, zeros, sums, dataShape, start, patchSize, heads);
    const norm = new Float32Array(pv);
    copyBlock(weights, dataShape, start, norm, patchSize, zeros, patchSize, 1);
    for (let i = 0; i < pv; i++) norm[i] = norm[i]! + gaussian[i]!;
    roundToHalfInPlace(norm);
    copyBlock(norm, patchSize, zeros, weights, dataShape, start, patchSize, 1);
  }
  for (let k = 0; k < heads; k++) for (let i = 0; i < n; i++) sums[k * n + i] = sums[k * n + i]! / weights[i]!;
  roundToHalfInPlace(sums);
  return unpad(sums, heads, padding);
}

/** A 2d model over a 3D case: each z slice on its own (nnUNetPredictor's slicers fix the first axis). */
async function slideSlices(image: Float32Array, channels: number, shape: readonly number[], patchSize: readonly number[], heads: number, predict: PatchPredictor, stepSize: number, gaussian: Float32Array): Promise<Float32Array> {
  const [depth, ...plane] = shape as [number, ...number[]];
  const pv = prod(plane);
  const out = new Float32Array(heads * depth * pv);
  const slice = new Float32Array(channels * pv);
  for (let z = 0; z < depth; z++) {
    for (let c = 0; c < channels; c++) slice.set(image.subarray((c * depth + z) * pv, (c * depth + z + 1) * pv), c * pv);
    const logits = await slideHalf(slice, channels, plane, patchSize, heads, predict, stepSize, gaussian);
    for (let k = 0; k < heads; k++) out.set(logits.subarray(k * pv, (k + 1) * pv), (k * depth + z) * pv);
  }
  return out;
}

export interface SlidingWindowV2Options {
  /** tile_step_size (nnU-Net default 0.5). */
  stepSize?: number;
}

/**
 * predict_logits_from_preprocessed_data: the case (channel-first, C × shape) through every fold's patch
 * predictor, their logits summed and averaged in float16. A 2d patch over a 3D shape goes slice by slice.
 * Returns heads × shape logits (float16 values in a Float32Array).
 */
export async function predictLogitsV2(
  image: Float32Array, channels: number, shape: readonly number[], patchSize: readonly number[], heads: number,
  folds: readonly PatchPredictor[], options: SlidingWindowV2Options = {},
): Promise<Float32Array> {
  if (image.length !== channels * prod(shape)) throw new RangeError(`case has ${image.length} values, ${channels} channels × ${shape.join('x')} needs ${channels * prod(shape)}`);
  if (shape.length !== patchSize.length && shape.length !== patchSize.length + 1) throw new RangeError(`a ${patchSize.length}D patch cannot slide over a ${shape.length}D case`);
  if (folds.length === 0) throw new RangeError('no fold to predict with');
  const gaussian = gaussianMapV2(patchSize);
  const stepSize = options.stepSize ?? 0.5;
  const slide = shape.length === patchSize.length ? slideHalf : slideSlices;
  let total: Float32Array | undefined;
  for (const fold of folds) {
    const logits = await slide(image, channels, shape, patchSize, heads, fold, stepSize, gaussian);
    if (total) {
      for (let i = 0; i < total.length; i++) total[i] = total[i]! + logits[i]!;
      roundToHalfInPlace(total);
    } else {
      total = logits;
    }
  }
  if (folds.length > 1) {
    for (let i = 0; i < total!.length; i++) total![i] = total![i]! / folds.length;
    roundToHalfInPlace(total!);
  }
  return total!;
}
