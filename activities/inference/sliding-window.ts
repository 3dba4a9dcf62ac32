/**
 * The typed-array half of nnU-Net v1's sliding-window inference (`SegmentationNetwork._internal_predict_3D_3Dconv_tiled`),
 * without the network: padding to the patch size, tile starts, Gaussian-weighted aggregation.
 *
 * Shapes are spatial, in array order ([z, y, x] or [y, x]); multi-channel arrays are channel-first and C order.
 * The patch predictor (network, softmax, mirroring) is a callback; this module multiplies its output by the
 * importance map, sums it into preallocated float32 buffers and divides by the summed weights at the end,
 * exactly in nnU-Net's order of operations (float32 products and sums).
 * See docs/evaluation.md, 'Sliding window'.
 */
import { roundHalfEven } from '../common/numeric';
import { gaussianImportanceMap } from './gaussian';

/**
 * Tile starts per axis (`_compute_steps_for_sliding_window`): n = ceil((I − P)/(P·s)) + 1 tiles; if n > 1 the
 * starts are round_half_even(k · (I − P)/(n − 1)), else [0]. Requires I >= P (pad first).
 */
export function computeSteps(patchSize: readonly number[], imageSize: readonly number[], stepSize: number): number[][] {
  if (patchSize.length !== imageSize.length) throw new RangeError('patch and image must have the same number of axes');
  if (!(stepSize > 0 && stepSize <= 1)) throw new RangeError(`step size must be in (0, 1], got ${stepSize}`);
  return patchSize.map((p, d) => {
    const size = imageSize[d];
    if (size < p) throw new RangeError(`image axis ${d} (${size}) is smaller than the patch (${p}); pad it first`);
    const numSteps = Math.ceil((size - p) / (p * stepSize)) + 1;
    if (numSteps <= 1) return [0];
    const actual = (size - p) / (numSteps - 1);
    return Array.from({ length: numSteps }, (_, k) => roundHalfEven(actual * k));
  });
}

/** Padding that brings every axis up to the patch size (`pad_nd_image`): below = diff//2, above = the rest. */
export interface Padding {
  shape: number[];
  paddedShape: number[];
  below: number[];
  above: number[];
}

export function paddingForPatch(shape: readonly number[], patchSize: readonly number[]): Padding {
  if (shape.length !== patchSize.length) throw new RangeError('image and patch must have the same number of axes');
  const paddedShape = shape.map((s, d) => Math.max(s, patchSize[d]));
  const below = shape.map((s, d) => Math.floor((paddedShape[d] - s) / 2));
  const above = shape.map((s, d) => paddedShape[d] - s - below[d]);
  return { shape: [...shape], paddedShape, below, above };
}

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

/** Spatial shape as 3 axes (a 2D [y, x] becomes [1, y, x]); the memory layout is the same. */
function as3(shape: readonly number[]): [number, number, number] {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 2) return [1, shape[0], shape[1]];
  throw new RangeError(`sliding window works on 2 or 3 spatial axes, got ${shape.length}`);
}

/** A start/offset as 3 axes (a 2D [y, x] becomes [0, y, x]). */
function start3(start: readonly number[]): [number, number, number] {
  return start.length === 2 ? [0, start[0], start[1]] : as3(start);
}

/**
 * Copies a channel-first block between two channel-first arrays: `src` (spatial shape srcShape) starting at srcStart
 * into `dst` (dstShape) at dstStart, size `size` per axis, for `channels` channels.
 */
export function copyBlock(
  src: Float32Array, srcShape: readonly number[], srcStart: readonly number[],
  dst: Float32Array, dstShape: readonly number[], dstStart: readonly number[],
  size: readonly number[], channels: number,
): void {
  const [sz, sy, sx] = as3(srcShape);
  const [dz, dy, dx] = as3(dstShape);
  const [oz, oy, ox] = start3(srcStart);
  const [tz, ty, tx] = start3(dstStart);
  const [nz, ny, nx] = as3(size);
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        const s = ((c * sz + oz + z) * sy + oy + y) * sx + ox;
        const d = ((c * dz + tz + z) * dy + ty + y) * dx + tx;
        dst.set(src.subarray(s, s + nx), d);
      }
    }
  }
}

/** Zero-pads a channel-first image to `padding.paddedShape` (constant 0, as nnU-Net's default pad_border_mode). */
export function padImage(image: Float32Array, channels: number, padding: Padding): Float32Array {
  if (image.length !== channels * prod(padding.shape)) throw new RangeError('image length does not match channels × shape');
  if (padding.paddedShape.every((p, d) => p === padding.shape[d])) return image;
  const out = new Float32Array(channels * prod(padding.paddedShape));
  copyBlock(image, padding.shape, padding.shape.map(() => 0), out, padding.paddedShape, padding.below, padding.shape, channels);
  return out;
}

/** Removes the padding from a channel-first array of the padded shape. */
export function unpad(padded: Float32Array, channels: number, padding: Padding): Float32Array {
  if (padding.paddedShape.every((p, d) => p === padding.shape[d])) return padded;
  const out = new Float32Array(channels * prod(padding.shape));
  copyBlock(padded, padding.paddedShape, padding.below, out, padding.shape, padding.shape.map(() => 0), padding.shape, channels);
  return out;
}

/** Predicts one patch: input channel-first (C × patch), output class-first probabilities (K × patch). */
export type PatchPredictor = (patch: Float32Array, start: readonly number[]) => Float32Array | Promise<Float32Array>;

export interface SlidingWindowOptions {
  /** Fraction of the patch between tile starts (nnU-Net default 0.5). */
  stepSize?: number;
  /** Gaussian weighting when there is more than one tile (nnU-Net default true). */
  useGaussian?: boolean;
  /** Reuse a precomputed importance map for this patch size. */
  gaussian?: Float32Array;
  onTile?: (done: number, total: number) => void;
}

export interface SlidingWindowResult {
  /** K × shape probabilities (the aggregated, weight-normalised predictions), padding removed. */
  probabilities: Float32Array;
  steps: number[][];
  numTiles: number;
}

/**
 * Sliding-window prediction of a channel-first image (C × shape) with a patch predictor returning K classes.
 * Memory: the padded image, K × padded shape sums, one padded-shape weight array, one patch in and out.
 */
export async function slidingWindowPredict(
  image: Float32Array, channels: number, shape: readonly number[], patchSize: readonly number[], numClasses: number,
  predict: PatchPredictor, options: SlidingWindowOptions = {},
): Promise<SlidingWindowResult> {
  const padding = paddingForPatch(shape, patchSize);
  const data = padImage(image, channels, padding);
  const dataShape = padding.paddedShape;
  const steps = computeSteps(patchSize, dataShape, options.stepSize ?? 0.5);
  const starts = cartesian(steps);
  const patchVoxels = prod(patchSize);
  const weights = (options.useGaussian ?? true) && starts.length > 1
    ? options.gaussian ?? gaussianImportanceMap(patchSize)
    : new Float32Array(patchVoxels).fill(1);
  if (weights.length !== patchVoxels) throw new RangeError('importance map does not match the patch size');
  const weighted = (options.useGaussian ?? true) && starts.length > 1;
  const n = prod(dataShape);
  const sums = new Float32Array(numClasses * n);
  const norm = new Float32Array(n);
  const input = new Float32Array(channels * patchVoxels);
  let done = 0;
  for (const start of starts) {
    copyBlock(data, dataShape, start, input, patchSize, patchSize.map(() => 0), patchSize, channels);
    const pred = await predict(input, start);
    if (pred.length !== numClasses * patchVoxels) {
      throw new RangeError(`patch predictor returned ${pred.length} values, expected ${numClasses} × ${patchVoxels}`);
    }
    accumulate(sums, norm, dataShape, pred, weighted, weights, patchSize, start, numClasses);
    options.onTile?.(++done, starts.length);
  }
  for (let k = 0; k < numClasses; k++) {
    const off = k * n;
    for (let i = 0; i < n; i++) sums[off + i] = sums[off + i] / norm[i];
  }
  return { probabilities: unpad(sums, numClasses, padding), steps, numTiles: starts.length };
}

/** sums[:, tile] += pred · weights when weighted (float32 products, as torch), else pred; norm[tile] += weights. */
function accumulate(
  sums: Float32Array, norm: Float32Array, dataShape: readonly number[], pred: Float32Array, weighted: boolean,
  weights: Float32Array, patchSize: readonly number[], start: readonly number[], numClasses: number,
): void {
  const [dz, dy, dx] = as3(dataShape);
  const [pz, py, px] = as3(patchSize);
  const [oz, oy, ox] = start3(start);
  const n = dz * dy * dx;
  const pv = pz * py * px;
  for (let z = 0; z < pz; z++) {
    for (let y = 0; y < py; y++) {
      const rowP = (z * py + y) * px;
      const rowD = ((oz + z) * dy + oy + y) * dx + ox;
      for (let x = 0; x < px; x++) norm[rowD + x] += weights[rowP + x];
      for (let k = 0; k < numClasses; k++) {
        const pOff = k * pv + rowP;
        const dOff = k * n + rowD;
        if (weighted) for (let x = 0; x < px; x++) sums[dOff + x] += Math.fround(pred[pOff + x] * weights[rowP + x]);
        else for (let x = 0; x < px; x++) sums[dOff + x] += pred[pOff + x];
      }
    }
  }
}

/** All tile starts, first axis slowest (nnU-Net's nested loops). */
export function cartesian(steps: readonly number[][]): number[][] {
  let out: number[][] = [[]];
  for (const axis of steps) out = out.flatMap((prefix) => axis.map((s) => [...prefix, s]));
  return out;
}
