/**
 * nnUNetTrainer.get_training_transforms (nnunetv2 2.8.1, batchgeneratorsv2) per sample, in its order and with its
 * probabilities: [dummy 2D fold] SpatialTransform [unfold] → GaussianNoise (p 0.1) → GaussianBlur (p 0.2) →
 * MultiplicativeBrightness (p 0.15) → Contrast (p 0.15) → SimulateLowResolution (p 0.25) → inverted Gamma (p 0.1)
 * → Gamma (p 0.3) → Mirror (each allowed axis p 0.5) → MaskImage (use_mask_for_norm channels, 0 where seg < 0) →
 * RemoveLabel(−1 → 0). A cascade stage (is_cascaded) has 2 seg channels (target, previous stage's seg) through all
 * of it (SpatialTransform resamples each channel on its own labels, Mirror flips both, MaskImage reads the target,
 * RemoveLabel clears −1 in both), then MoveSegAsOneHotToData(1, foreground labels) → ApplyRandomBinaryOperator
 * (p 0.4) → RemoveRandomConnectedComponent (p 0.2) (../cascade-transforms.ts). Deep-supervision targets follow in
 * the batch worker (nearest-exact, targets.ts), as for the validation batches (RemoveLabel, then for the cascade
 * MoveSegAsOneHotToData). See docs/augmentation.md, 'nnU-Net v2 (batchgeneratorsv2)'.
 */
import type { Batch } from '../../dataloader';
import type { Channels } from '../../augmentation/spatial';
import type { Rng } from '../../augmentation/random';
import { flipAxis } from '../../augmentation/mirror';
import { applyMask, mapSamples, moveSegAsOneHotToData, removeNegativeLabels } from '../../augmentation/pipeline';
import type { AugmentationParams } from '../../patch-size';
import {
  applyBlur, applyBrightness, applyContrast, applyGamma, applyLowRes, applyNoise,
  sampleBlur, sampleChannelFactors, sampleGamma, sampleLowRes, sampleNoise,
} from './intensity';
import { CASCADE_AUGMENTATION_V2, cascadeAugmentationV2 } from '../cascade-transforms';
import { applySpatialV2, asDummy2D, sampleSpatialV2, SPATIAL_V2, type SpatialConfigV2 } from './spatial';

/** What the v2 training transforms need; `pipeline` tells it from v1's AugmentationParams in a batch worker. */
export interface AugmentationV2 {
  pipeline: 'batchgeneratorsv2';
  /** Network patch P (the loader samples the larger initial_patch_size). */
  patchSize: number[];
  /** 3D patch augmented slice-wise (max(P)/P[0] > 3): first axis folded into channels, low-res keeps it. */
  dummy2D: boolean;
  spatial: SpatialConfigV2;
  mirrorAxes: number[];
  maskChannels: number[];
  /** 3d_cascade_fullres: the foreground labels whose one-hot previous-stage seg is appended; empty otherwise. */
  cascadeLabels: number[];
}

export const isAugmentationV2 = (a: object): a is AugmentationV2 => (a as Partial<AugmentationV2>).pipeline === 'batchgeneratorsv2';

/** The v2 transforms from the trainer's parameters (augmentation-v2.ts: rotation_for_DA, dummy 2D, mirror axes). */
export function toAugmentationV2(params: AugmentationParams): AugmentationV2 {
  return {
    pipeline: 'batchgeneratorsv2',
    patchSize: [...params.patchSize],
    dummy2D: params.dummy2D,
    spatial: { ...SPATIAL_V2, rotation: params.rotation.x },
    mirrorAxes: [...params.mirrorAxes],
    maskChannels: [...params.maskChannels],
    cascadeLabels: [...params.cascadeLabels],
  };
}

/** The intensity transforms' probabilities (RandomTransform apply_probability). */
const P_APPLY = { noise: 0.1, blur: 0.2, brightness: 0.15, contrast: 0.15, lowRes: 0.25, invertedGamma: 0.1, gamma: 0.3 };

function spatialStep(image: Channels, seg: Channels, cfg: AugmentationV2, rng: Rng): { image: Channels; seg: Channels } {
  const P = cfg.patchSize;
  if (!cfg.dummy2D) return applySpatialV2(image, seg, P, sampleSpatialV2(cfg.spatial, P.length, rng));
  if (image.shape[0] !== P[0]) throw new RangeError(`dummy 2D: loaded first axis ${image.shape[0]} must equal the patch's ${P[0]}`);
  return asDummy2D(image, seg, (i, s) => applySpatialV2(i, s, P.slice(1), sampleSpatialV2(cfg.spatial, 2, rng)));
}

/** Augments one sample (image C×P', seg 1×P', or 2×P' for the cascade) into a P-sized sample (C + K one-hot channels). */
export function augmentSampleV2(image: Channels, seg: Channels, cfg: AugmentationV2, rng: Rng): { image: Channels; seg: Channels } {
  const r = spatialStep(image, seg, cfg, rng);
  const img = r.image;
  const C = img.channels;
  if (rng.chance(P_APPLY.noise)) applyNoise(img, sampleNoise(rng, C), rng);
  if (rng.chance(P_APPLY.blur)) applyBlur(img, sampleBlur(rng, img));
  if (rng.chance(P_APPLY.brightness)) applyBrightness(img, sampleChannelFactors(rng, C));
  if (rng.chance(P_APPLY.contrast)) applyContrast(img, sampleChannelFactors(rng, C));
  if (rng.chance(P_APPLY.lowRes)) applyLowRes(img, sampleLowRes(rng, img, cfg.dummy2D ? [0] : []));
  if (rng.chance(P_APPLY.invertedGamma)) applyGamma(img, sampleGamma(rng, C, 1));
  if (rng.chance(P_APPLY.gamma)) applyGamma(img, sampleGamma(rng, C, 0));
  for (const axis of cfg.mirrorAxes.filter(() => rng.random() < 0.5)) {
    flipAxis(img, axis);
    flipAxis(r.seg, axis);
  }
  applyMask(img, r.seg, cfg.maskChannels);
  removeNegativeLabels(r.seg.data);
  if (cfg.cascadeLabels.length === 0) return { image: img, seg: r.seg };
  const moved = moveSegAsOneHotToData(img, r.seg, cfg.cascadeLabels);
  cascadeAugmentationV2(moved.image, cfg.cascadeLabels.length, CASCADE_AUGMENTATION_V2, rng);
  return moved;
}

/** A training batch from the loader (P') augmented to the network patch P: data [B, C (+ K), ...P], seg [B, 1, ...P]. */
export function augmentBatchV2(batch: Batch, cfg: AugmentationV2, rng: Rng): Batch {
  return mapSamples(batch, (image, seg) => augmentSampleV2(image, seg, cfg, rng));
}
