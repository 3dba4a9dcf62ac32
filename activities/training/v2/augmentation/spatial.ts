/**
 * batchgeneratorsv2's SpatialTransform as nnUNetTrainer.get_training_transforms builds it: p_rotation 0.2 (each
 * axis's angle drawn from rotation_for_DA), p_scaling 0.2 with one factor U(0.7, 1.4) for all axes
 * (p_synchronize_scaling_across_axes 1), no elastic deformation, centred (random_crop False), segmentation
 * resampled per label with padding label -1. Without rotation or scaling it is crop_tensor around floor(S/2).
 * Dummy 2D (Convert3DTo2DTransform / Convert2DTo3DTransform) folds the first spatial axis into the channels.
 * Split in (a) drawing the parameters and (b) applying them, so (b) can be checked against batchgeneratorsv2.
 */
import { cropWithPadding } from '../../dataloader';
import type { Channels } from '../../augmentation/spatial';
import type { Rng } from '../../augmentation/random';
import { matMul, rotation2d, rotationX, rotationY, rotationZ, type Range } from '../../patch-size';
import { affineGrid, sampleImage, sampleSegmentation } from './grid-sample';

export interface SpatialConfigV2 {
  pRotation: number;
  /** rotation_for_DA, radians, drawn per axis. */
  rotation: Range;
  pScaling: number;
  scaling: Range;
}

/** Angles (one per spatial axis; 2D uses the last) and the synchronised scale factor; null: plain centre crop. */
export type SpatialParamsV2 = { angles: number[]; scale: number } | null;

/** The nnUNetTrainer settings of SpatialTransform. */
export const SPATIAL_V2: Omit<SpatialConfigV2, 'rotation'> = { pRotation: 0.2, pScaling: 0.2, scaling: [0.7, 1.4] };

/** sample_scalar of a (lo, hi) range: lo itself when the range is empty. */
function sampleRange(rng: Rng, r: Range): number {
  return r[0] === r[1] ? r[0] : rng.uniform(r[0], r[1]);
}

/** SpatialTransform.get_parameters' draws, in its order (the elastic coin is drawn too, p 0). */
export function sampleSpatialV2(cfg: SpatialConfigV2, dims: number, rng: Rng): SpatialParamsV2 {
  const doRotation = rng.chance(cfg.pRotation);
  const doScale = rng.chance(cfg.pScaling);
  rng.chance(0);
  const angles = Array.from({ length: dims }, () => (doRotation ? sampleRange(rng, cfg.rotation) : 0));
  let scale = 1;
  if (doScale) {
    rng.random(); // np.random.uniform() <= p_synchronize_scaling_across_axes (1)
    scale = sampleRange(rng, cfg.scaling);
  }
  return doRotation || doScale ? { angles, scale } : null;
}

/** create_affine_matrix_3d (Rz·Ry·Rx·S) or create_affine_matrix_2d (R(last angle)·S). */
export function affineV2(params: NonNullable<SpatialParamsV2>, dims: number): number[][] {
  const { angles, scale } = params;
  const S = Array.from({ length: dims }, (_, i) => Array.from({ length: dims }, (_, j) => (i === j ? scale : 0)));
  if (dims === 2) return matMul(rotation2d(angles[angles.length - 1]!), S);
  return matMul(matMul(matMul(rotationZ(angles[2]!), rotationY(angles[1]!)), rotationX(angles[0]!)), S);
}

const as3 = (s: readonly number[]): [number, number, number] => (s.length === 3 ? [s[0]!, s[1]!, s[2]!] : [1, s[0]!, s[1]!]);

/** crop_tensor around floor(S/2): the box [floor(S/2) − P//2, + P), padded with `pad` outside. */
export function centreCropV2(src: Channels, patch: readonly number[], pad: number): Channels {
  const lower = as3(src.shape.map((s, d) => Math.floor(s / 2) - Math.floor(patch[d]! / 2)));
  if (src.shape.length === 2) lower[0] = 0;
  const size = as3(patch);
  const out = new Float32Array(src.channels * size[0] * size[1] * size[2]);
  cropWithPadding(src.data, as3(src.shape), 0, src.channels, lower, size, out, 0, pad);
  return { data: out, channels: src.channels, shape: [...patch] };
}

/** SpatialTransform applied with given parameters: image zero-padded, seg padded with `segPad`. */
export function applySpatialV2(image: Channels, seg: Channels, patch: readonly number[], params: SpatialParamsV2, segPad = -1): { image: Channels; seg: Channels } {
  if (params === null) return { image: centreCropV2(image, patch, 0), seg: centreCropV2(seg, patch, segPad) };
  const grid = affineGrid(affineV2(params, patch.length), patch, image.shape);
  return { image: sampleImage(image, grid), seg: sampleSegmentation(seg, grid, segPad) };
}

/** Convert3DTo2DTransform → f → Convert2DTo3DTransform: the first spatial axis becomes channels (C·X, Y, Z). */
export function asDummy2D(image: Channels, seg: Channels, f2d: (image: Channels, seg: Channels) => { image: Channels; seg: Channels }): { image: Channels; seg: Channels } {
  const [x, ...plane] = image.shape as [number, ...number[]];
  const fold = (c: Channels): Channels => ({ data: c.data, channels: c.channels * x, shape: plane });
  const r = f2d(fold(image), fold(seg));
  const unfold = (c: Channels, channels: number): Channels => ({ data: c.data, channels, shape: [x, ...c.shape] });
  return { image: unfold(r.image, image.channels), seg: unfold(r.seg, seg.channels) };
}
