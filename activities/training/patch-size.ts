/**
 * nnUNetTrainerV2's augmentation set-up (v1 setup_DA_params, batchgenerators defaults):
 * the enlarged sampling patch (`get_patch_size`) and every range and probability of the training pipeline,
 * resolved once per stage plan so the loader and the augmentation read one typed object.
 * See docs/augmentation.md, 'The enlarged patch', 'Pipeline'.
 */
import { roundHalfEven } from '../common/numeric';
import { deepSupervisionScales } from '../network/deep-supervision';

const DEG = Math.PI / 180;

/**
 * The scale range the enlarged patch is computed with (default params), before V2 widens it (a quirk:
 * docs/planning.md, 'Quirk decisions', 4).
 */
export const GENERATOR_SCALE_RANGE: readonly [number, number] = [0.85, 1.25];
/** The scale range SpatialTransform actually uses in nnUNetTrainerV2. */
export const TRAINING_SCALE_RANGE: readonly [number, number] = [0.7, 1.4];
export const OVERSAMPLE_FOREGROUND_PERCENT = 0.33;

export type Range = readonly [number, number];

/** v = v·M for a row vector and a row-major square matrix. */
function rowTimes(v: readonly number[], m: readonly (readonly number[])[]): number[] {
  return v.map((_, j) => v.reduce((acc, vi, i) => acc + vi * m[i]![j]!, 0));
}

export function rotationX(a: number): number[][] {
  const c = Math.cos(a), s = Math.sin(a);
  return [[1, 0, 0], [0, c, -s], [0, s, c]];
}
export function rotationY(a: number): number[][] {
  const c = Math.cos(a), s = Math.sin(a);
  return [[c, 0, s], [0, 1, 0], [-s, 0, c]];
}
export function rotationZ(a: number): number[][] {
  const c = Math.cos(a), s = Math.sin(a);
  return [[c, -s, 0], [s, c, 0], [0, 0, 1]];
}
export function rotation2d(a: number): number[][] {
  const c = Math.cos(a), s = Math.sin(a);
  return [[c, -s], [s, c]];
}

export function matMul(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((acc, v, k) => acc + v * b[k]![j]!, 0)));
}

const maxAbsAngle = (r: Range): number => Math.min(90 * DEG, Math.max(Math.abs(r[0]), Math.abs(r[1])));

/**
 * batchgenerators' get_patch_size: the patch that still covers `patch` after the largest rotation about each
 * axis (angles clipped to 90°) and the smallest scale, elementwise max, truncated to int.
 */
export function getPatchSize(patch: readonly number[], rotX: Range, rotY: Range, rotZ: Range, scaleRange: Range): number[] {
  let out = [...patch];
  const widen = (rotated: number[]) => { out = out.map((o, i) => Math.max(o, Math.abs(rotated[i]!))); };
  if (patch.length === 3) {
    widen(rowTimes(patch, rotationX(maxAbsAngle(rotX))));
    widen(rowTimes(patch, rotationY(maxAbsAngle(rotY))));
    widen(rowTimes(patch, rotationZ(maxAbsAngle(rotZ))));
  } else if (patch.length === 2) {
    widen(rowTimes(patch, rotation2d(maxAbsAngle(rotX))));
  } else {
    throw new RangeError(`getPatchSize: patch must be 2D or 3D, got [${patch.join(', ')}]`);
  }
  const minScale = Math.min(scaleRange[0], scaleRange[1]);
  return out.map((o) => Math.trunc(o / minScale));
}

/** Everything the training pipeline needs for one stage; angles in radians. */
export interface AugmentationParams {
  /** Network patch P (2 or 3 axes). */
  patchSize: number[];
  /** Enlarged patch P' the training loader samples (validation uses P). */
  generatorPatchSize: number[];
  /** 3D data augmented slice-wise in 2D (first axis folded into channels for the spatial transform). */
  dummy2D: boolean;
  rotation: { x: Range; y: Range; z: Range; pPerSample: number; pPerAxis: number };
  /** independentPerAxis: one factor per spatial axis (batchgenerators' independent_scale_for_each_axis; the DA2 variants). */
  scaling: { range: Range; pPerSample: number; independentPerAxis?: boolean };
  /** Image interpolation of the spatial transform: 3 as nnU-Net, 1 (linear) is faster. Seg is always per-label linear. */
  imageOrder: 1 | 3;
  noise: { varianceRange: Range; pPerSample: number };
  blur: { sigmaRange: Range; pPerSample: number; pPerChannel: number };
  brightness: { multiplierRange: Range; pPerSample: number };
  /** BrightnessTransform (additive N(mu, sigma) per channel), after the multiplicative one; absent in nnUNetTrainerV2. */
  additiveBrightness?: { mu: number; sigma: number; pPerSample: number; pPerChannel: number };
  contrast: { range: Range; pPerSample: number };
  lowRes: { zoomRange: Range; pPerSample: number; pPerChannel: number; ignoreAxes: number[] };
  invertedGamma: { range: Range; pPerSample: number };
  gamma: { range: Range; pPerSample: number };
  /** Spatial axes mirrored independently with p 0.5. */
  mirrorAxes: number[];
  /** Channels normalised inside the nonzero mask: zeroed where seg < 0 after augmentation. */
  maskChannels: number[];
  /** Deep-supervision target scales, highest resolution first (empty disables). */
  deepSupervisionScales: number[][];
  /** Cascade: labels 1..K-1 whose one-hot of the previous stage's seg is appended to the image (empty: no cascade). */
  cascadeLabels: number[];
  /** Cascade: random binary morphology on those one-hot channels (p per sample, ball radius range). */
  cascadeMorphology: { pPerSample: number; radiusRange: Range; pPerLabel?: number };
  /** nnU-Net v2's cascade transforms in place of cascadeMorphology (training/v2/cascade-transforms.ts). */
  cascadeV2?: CascadeAugmentationV2;
}

/** nnU-Net v2's cascade transforms on the one-hot previous stage (values: v2/cascade-transforms.ts). */
export interface CascadeAugmentationV2 {
  binaryOperator: { pPerSample: number; strelSize: Range; pPerLabel: number };
  removeComponent: { pPerSample: number; maxFraction: number; pPerLabel: number; fillWithOtherClassP: number };
}

/** The part of a plans stage that decides the augmentation. */
export interface StageForAugmentation {
  patch_size: number[];
  do_dummy_2D_data_aug: boolean;
  pool_op_kernel_sizes: number[][];
}

/**
 * nnUNetTrainerV2.setup_DA_params for a stage: 3D ±30° per axis (dummy 2D: ±180° in-plane), 2D ±180° or ±15°
 * when max(P)/min(P) > 1.5, P' from the default scale range, then scaling (0.7, 1.4), elastic off.
 * `useMaskForNorm` is the plans' per-channel use_mask_for_norm; `cascadeLabels` (3d_cascade_fullres) are the
 * foreground labels 1..num_classes (nnUNetTrainerV2CascadeFullRes' all_segmentation_labels).
 */
export function setupAugmentationParams(stage: StageForAugmentation, useMaskForNorm: Record<string, boolean> = {},
  opts: { cascadeLabels?: number[] } = {}): AugmentationParams {
  const patch = [...stage.patch_size];
  const threeD = patch.length === 3;
  if (!threeD && patch.length !== 2) throw new RangeError(`patch_size must have 2 or 3 axes: [${patch.join(', ')}]`);
  const dummy2D = threeD && stage.do_dummy_2D_data_aug;
  const r30: Range = [-30 * DEG, 30 * DEG];
  const r180: Range = [-180 * DEG, 180 * DEG];
  const r15: Range = [-15 * DEG, 15 * DEG];
  let rotX: Range = r30;
  const rotY: Range = threeD ? r30 : r180;
  const rotZ: Range = threeD ? r30 : r180;
  if (dummy2D) rotX = r180;
  if (!threeD) rotX = Math.max(...patch) / Math.min(...patch) > 1.5 ? r15 : r180;

  const generatorPatchSize = dummy2D
    ? [patch[0]!, ...getPatchSize(patch.slice(1), rotX, rotY, rotZ, GENERATOR_SCALE_RANGE)]
    : getPatchSize(patch, rotX, rotY, rotZ, GENERATOR_SCALE_RANGE);

  return {
    patchSize: patch,
    generatorPatchSize,
    dummy2D,
    rotation: { x: rotX, y: rotY, z: rotZ, pPerSample: 0.2, pPerAxis: 1 },
    scaling: { range: TRAINING_SCALE_RANGE, pPerSample: 0.2 },
    imageOrder: 3,
    noise: { varianceRange: [0, 0.1], pPerSample: 0.1 },
    blur: { sigmaRange: [0.5, 1], pPerSample: 0.2, pPerChannel: 0.5 },
    brightness: { multiplierRange: [0.75, 1.25], pPerSample: 0.15 },
    contrast: { range: [0.75, 1.25], pPerSample: 0.15 },
    lowRes: { zoomRange: [0.5, 1], pPerSample: 0.25, pPerChannel: 0.5, ignoreAxes: dummy2D ? [0] : [] },
    invertedGamma: { range: [0.7, 1.5], pPerSample: 0.1 },
    gamma: { range: [0.7, 1.5], pPerSample: 0.3 },
    mirrorAxes: threeD ? [0, 1, 2] : [0, 1],
    maskChannels: Object.entries(useMaskForNorm).filter(([, v]) => v).map(([k]) => Number(k)).sort((a, b) => a - b),
    deepSupervisionScales: stage.pool_op_kernel_sizes.length > 0 ? deepSupervisionScales(stage.pool_op_kernel_sizes) : [],
    cascadeLabels: [...(opts.cascadeLabels ?? [])],
    cascadeMorphology: { pPerSample: 0.4, radiusRange: [1, 8] },
  };
}

/** Index of the first batch sample forced to contain foreground: round_half_even(B · (1 − p)). */
export function firstForcedForegroundIndex(batchSize: number, oversample = OVERSAMPLE_FOREGROUND_PERCENT): number {
  return roundHalfEven(batchSize * (1 - oversample));
}
