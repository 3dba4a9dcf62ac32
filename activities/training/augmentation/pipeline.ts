/**
 * nnU-Net's training augmentation (get_moreDA_augmentation as nnUNetTrainerV2 sets it up), one
 * sample at a time, in nnU-Net's order and with its probabilities: [dummy 2D] spatial → noise → blur →
 * brightness → contrast → low resolution → inverted gamma → gamma → mirror → mask → seg −1 → 0 → (cascade) the
 * previous stage's seg (second seg channel) as one-hot image channels, with random binary morphology (p 0.4), or
 * for nnU-Net v2 its cascade transforms (v2/cascade-transforms.ts).
 * Deep-supervision targets are made by network/deepSupervision (see batch-worker's toNetworkBatch).
 * See docs/augmentation.md, 'Pipeline'.
 */
import { product } from '../../common/numeric';
import type { Batch } from '../dataloader';
import type { AugmentationParams } from '../patch-size';
import { gaussianBlur } from './blur';
import { brightnessAdditive, brightnessMultiplicative, contrast, gamma, gaussianNoise } from './intensity';
import { simulateLowResolution } from './lowres';
import { mirror } from './mirror';
import { randomBinaryOperators } from './morphology';
import type { Rng } from './random';
import { cascadeAugmentationV2 } from '../v2/cascade-transforms';
import { drawSpatialMatrix, spatialTransform, type Channels } from './spatial';

/** Image channels zeroed where the (first) seg channel is < 0 (MaskTransform, use_mask_for_norm). */
export function applyMask(image: Channels, seg: Channels, maskChannels: readonly number[]): void {
  const n = product(image.shape);
  for (const c of maskChannels) {
    if (c >= image.channels) continue;
    const base = c * n;
    for (let i = 0; i < n; i++) if (seg.data[i]! < 0) image.data[base + i] = 0;
  }
}

/** RemoveLabelTransform(-1, 0). */
export function removeNegativeLabels(seg: Float32Array): void {
  for (let i = 0; i < seg.length; i++) if (seg[i]! < 0) seg[i] = 0;
}

/**
 * MoveSegAsOneHotToData(1, labels): seg channel 1 becomes one image channel per label (1 where equal), appended
 * after the image channels; the seg keeps channel 0 only.
 */
export function moveSegAsOneHotToData(image: Channels, seg: Channels, labels: readonly number[]): { image: Channels; seg: Channels } {
  if (seg.channels < 2) throw new RangeError('cascade: the batch has no previous-stage segmentation channel');
  const n = product(image.shape);
  const data = new Float32Array((image.channels + labels.length) * n);
  data.set(image.data.subarray(0, image.channels * n));
  labels.forEach((label, k) => {
    const base = (image.channels + k) * n;
    for (let i = 0; i < n; i++) if (seg.data[n + i] === label) data[base + i] = 1;
  });
  return {
    image: { data, channels: image.channels + labels.length, shape: image.shape },
    seg: { data: seg.data.slice(0, n), channels: 1, shape: seg.shape },
  };
}

/** The spatial step, folding the first axis into channels for dummy-2D 3D data. */
function spatialStep(image: Channels, seg: Channels, params: AugmentationParams, rng: Rng): { image: Channels; seg: Channels } {
  const P = params.patchSize;
  if (!params.dummy2D) {
    const m = drawSpatialMatrix(params, P.length as 2 | 3, rng);
    return spatialTransform(image, seg, P, m, params.imageOrder);
  }
  const [z, ...plane] = image.shape as [number, ...number[]];
  if (z !== P[0]) throw new RangeError(`dummy 2D: loaded first axis ${z} must equal the patch's ${P[0]}`);
  const fold = (x: Channels): Channels => ({ data: x.data, channels: x.channels * z, shape: plane });
  const m = drawSpatialMatrix(params, 2, rng);
  const r = spatialTransform(fold(image), fold(seg), P.slice(1), m, params.imageOrder);
  const unfold = (x: Channels, channels: number): Channels => ({ data: x.data, channels, shape: [...P] });
  return { image: unfold(r.image, image.channels), seg: unfold(r.seg, seg.channels) };
}

/** Augments one sample (image C×P', seg 1×P') into a P-sized sample. */
export function augmentSample(image: Channels, seg: Channels, params: AugmentationParams, rng: Rng): { image: Channels; seg: Channels } {
  const r = spatialStep(image, seg, params, rng);
  const img = r.image;
  if (rng.chance(params.noise.pPerSample)) gaussianNoise(img, params.noise.varianceRange, rng);
  if (rng.chance(params.blur.pPerSample)) gaussianBlur(img, params.blur.sigmaRange, params.blur.pPerChannel, rng);
  if (rng.chance(params.brightness.pPerSample)) brightnessMultiplicative(img, params.brightness.multiplierRange, rng);
  const additive = params.additiveBrightness;
  if (additive && rng.chance(additive.pPerSample)) brightnessAdditive(img, additive, rng);
  if (rng.chance(params.contrast.pPerSample)) contrast(img, params.contrast.range, rng);
  if (rng.chance(params.lowRes.pPerSample)) simulateLowResolution(img, params.lowRes.zoomRange, params.lowRes.pPerChannel, params.lowRes.ignoreAxes, rng);
  if (rng.chance(params.invertedGamma.pPerSample)) gamma(img, params.invertedGamma.range, true, rng);
  if (rng.chance(params.gamma.pPerSample)) gamma(img, params.gamma.range, false, rng);
  mirror(img, r.seg, params.mirrorAxes, rng);
  applyMask(img, r.seg, params.maskChannels);
  removeNegativeLabels(r.seg.data);
  if (params.cascadeLabels.length === 0) return { image: img, seg: r.seg };
  const moved = moveSegAsOneHotToData(img, r.seg, params.cascadeLabels);
  if (params.cascadeV2) cascadeAugmentationV2(moved.image, params.cascadeLabels.length, params.cascadeV2, rng);
  else if (rng.chance(params.cascadeMorphology.pPerSample)) {
    const oneHot = params.cascadeLabels.map((_, k) => img.channels + k);
    randomBinaryOperators(moved.image, oneHot, params.cascadeMorphology.radiusRange, rng, params.cascadeMorphology.pPerLabel);
  }
  return moved;
}

/** Runs `perSample` on every sample of a batch and packs the results ([B, C', ...P], [B, 1, ...P]). */
export function mapSamples(batch: Batch, perSample: (image: Channels, seg: Channels) => { image: Channels; seg: Channels }): Batch {
  const [B, C] = batch.dataShape as [number, number];
  const S = batch.segShape[1]!;
  const inSpatial = batch.dataShape.slice(2);
  const nIn = product(inSpatial);
  let data: Float32Array | undefined;
  let seg: Float32Array | undefined;
  let outShape: number[] = [];
  let outChannels = 0;
  for (let b = 0; b < B; b++) {
    // Views, not copies: every per-sample step writes new arrays (the spatial step allocates its output).
    const image: Channels = { data: batch.data.subarray(b * C * nIn, (b + 1) * C * nIn), channels: C, shape: inSpatial };
    const s: Channels = { data: batch.seg.subarray(b * S * nIn, (b + 1) * S * nIn), channels: S, shape: inSpatial };
    const r = perSample(image, s);
    if (!data) {
      outShape = r.image.shape;
      outChannels = r.image.channels;
      data = new Float32Array(B * r.image.data.length);
      seg = new Float32Array(B * r.seg.data.length);
    }
    data.set(r.image.data, b * r.image.data.length);
    seg!.set(r.seg.data, b * r.seg.data.length);
  }
  return { data: data!, dataShape: [B, outChannels, ...outShape], seg: seg!, segShape: [B, 1, ...outShape], keys: batch.keys };
}

/** A training batch from the loader (P') augmented to the network patch P: data [B, C (+ cascade one-hot), ...P], seg [B, 1, ...P]. */
export function augmentBatch(batch: Batch, params: AugmentationParams, rng: Rng): Batch {
  return mapSamples(batch, (image, seg) => augmentSample(image, seg, params, rng));
}

/** Validation batches get no augmentation: seg −1 → 0 and, for the cascade, the one-hot previous-stage seg. */
export function validationBatch(batch: Batch, cascadeLabels: readonly number[] = []): Batch {
  removeNegativeLabels(batch.seg);
  if (cascadeLabels.length === 0) return batch;
  return mapSamples(batch, (image, seg) => moveSegAsOneHotToData(image, seg, cascadeLabels));
}
