/**
 * nnUNetTrainer.configure_rotation_dummyDA_mirroring_and_inital_patch_size and get_training_transforms' parameters
 * on the v1 augmentation pipeline. The rule (v2): 3D patches whose max(P)/P[0] > 3 are augmented slice-wise
 * (dummy 2D) with ±180° in-plane rotation, other 3D patches ±30° about each axis, 2D ±180° (±15° when
 * max(P)/min(P) > 1.5); the loader's patch is get_patch_size(P, rot, rot, rot, (0.85, 1.25)) with its first axis
 * reset to P[0] for dummy 2D. These parameters feed v2's transforms (augmentation/pipeline.ts, toAugmentationV2)
 * and, for comparisons, v1's pipeline (image interpolated linearly, as batchgeneratorsv2's grid_sample).
 */
import type { V2NetworkSpec } from '../../network/v2/arch-kwargs';
import { CASCADE_AUGMENTATION_V2 } from './cascade-transforms';
import type { TrainerV2Settings } from './variants';
import { GENERATOR_SCALE_RANGE, getPatchSize, setupAugmentationParams, type AugmentationParams, type Range } from '../patch-size';

/** nnunetv2's ANISO_THRESHOLD for dummy 2D augmentation. */
export const ANISO_THRESHOLD = 3;

const DEG = Math.PI / 180;

export function rotationForDAV2(patch: readonly number[]): { rotation: Range; dummy2D: boolean } {
  if (patch.length === 2) return { rotation: Math.max(...patch) / Math.min(...patch) > 1.5 ? [-15 * DEG, 15 * DEG] : [-180 * DEG, 180 * DEG], dummy2D: false };
  const dummy2D = Math.max(...patch) / patch[0]! > ANISO_THRESHOLD;
  return { rotation: dummy2D ? [-180 * DEG, 180 * DEG] : [-30 * DEG, 30 * DEG], dummy2D };
}

/** nnunetv2's initial_patch_size: what the training loader samples before the spatial transform. */
export function initialPatchSizeV2(patch: readonly number[]): number[] {
  const { rotation, dummy2D } = rotationForDAV2(patch);
  const out = getPatchSize(patch, rotation, rotation, rotation, GENERATOR_SCALE_RANGE);
  if (dummy2D) out[0] = patch[0]!;
  return out;
}

/** The mirrored spatial axes (nnUNetTrainer: all; NoMirroring: none; onlyMirror01: (0, 1) in 3D, (0) in 2D). */
export function mirrorAxesV2(dims: number, mirroring: TrainerV2Settings['mirroring']): number[] {
  if (mirroring === 'none') return [];
  if (mirroring === 'axes01') return dims === 2 ? [0] : [0, 1];
  return Array.from({ length: dims }, (_, i) => i);
}

/** `cascadeLabels`: a cascade stage's foreground labels (its one-hot previous stage gets v2's cascade transforms). */
export function augmentationParamsV2(spec: V2NetworkSpec, patch: readonly number[], maskChannels: readonly number[],
  opts: Pick<TrainerV2Settings, 'deepSupervision' | 'dataAugmentation' | 'mirroring'>, cascadeLabels: readonly number[] = []): AugmentationParams {
  const { rotation, dummy2D } = rotationForDAV2(patch);
  const base = setupAugmentationParams(
    { patch_size: [...patch], do_dummy_2D_data_aug: dummy2D, pool_op_kernel_sizes: spec.strides.slice(1) },
    Object.fromEntries(maskChannels.map((c) => [String(c), true])),
    { cascadeLabels: [...cascadeLabels] },
  );
  return {
    ...base,
    generatorPatchSize: opts.dataAugmentation ? initialPatchSizeV2(patch) : [...patch],
    rotation: { ...base.rotation, x: rotation, y: rotation, z: rotation },
    imageOrder: 1,
    mirrorAxes: opts.dataAugmentation ? mirrorAxesV2(patch.length, opts.mirroring) : [],
    deepSupervisionScales: opts.deepSupervision ? base.deepSupervisionScales : [],
    ...(cascadeLabels.length ? { cascadeV2: CASCADE_AUGMENTATION_V2 } : {}),
  };
}
