/**
 * The plans file: nnU-Net v1's plans dict (nnUNetPlansv2.1_plans_3D.pkl / _2D.pkl) as JSON, same keys and
 * meaning. Integer dict keys become strings ("0", "1"); numpy arrays become arrays. Vectors are in transposed
 * axis order (transpose_forward applied) except original_spacings / original_sizes and dataset_properties.
 */
import type { DatasetProperties } from './fingerprint';
import { LabelManager, type LabelSpec } from '../io/label-manager';

export type NormalizationScheme = 'CT' | 'noNorm' | 'nonCT';

/** One resolution stage (plans_per_stage[i]). */
export interface StagePlan {
  batch_size: number;
  num_pool_per_axis: number[];
  patch_size: number[];
  /** Median case shape at this stage's spacing (int, half-even rounding). */
  median_patient_size_in_voxels: number[];
  current_spacing: number[];
  original_spacing: number[];
  do_dummy_2D_data_aug: boolean;
  pool_op_kernel_sizes: number[][];
  conv_kernel_sizes: number[][];
}

export type PlanKind = '3d' | '2d';

export interface Plans {
  num_stages: number;
  num_modalities: number;
  modalities: Record<string, string>;
  normalization_schemes: Record<string, NormalizationScheme>;
  dataset_properties: DatasetProperties;
  list_of_npz_files: string[];
  original_spacings: number[][];
  original_sizes: number[][];
  preprocessed_data_folder: string;
  /** Number of foreground classes (the network adds background); for regions: the number of regions (no background head). */
  num_classes: number;
  all_classes: number[];
  base_num_features: number;
  use_mask_for_norm: Record<string, boolean>;
  keep_only_largest_region: null;
  min_region_size_per_class: null;
  min_size_per_class: null;
  transpose_forward: number[];
  transpose_backward: number[];
  data_identifier: string;
  /** "0" = lowres and "1" = fullres when a cascade exists; otherwise only "0". */
  plans_per_stage: Record<string, StagePlan>;
  preprocessor_name: 'GenericPreprocessor' | 'PreprocessorFor2D';
  conv_per_stage?: number;
  /** nnunet-ts extensions (not in nnU-Net's pkl): which planner made this and what the network caps features at. */
  planner_name: string;
  plans_kind: PlanKind;
  unet_max_num_features: number;
  /** Regions and/or the ignore label of a v2 dataset (absent for plain labels): see labelManagerOf. */
  label_spec?: LabelSpec;
}

/** The plans' labels as v2's LabelManager; undefined for plain v1 labels (softmax over 0..num_classes). */
export function labelManagerOf(plans: Plans, source = 'plans'): LabelManager | undefined {
  return plans.label_spec ? new LabelManager(plans.label_spec, source) : undefined;
}

/** Whether the network has region outputs (sigmoid, painted by regions_class_order) instead of softmax classes. */
export function hasRegionOutputs(plans: Plans): boolean {
  return labelManagerOf(plans)?.hasRegions ?? false;
}

/** Network output channels: one per region, or background + num_classes. */
export function segmentationHeadsOf(plans: Plans): number {
  return labelManagerOf(plans)?.numSegmentationHeads ?? plans.num_classes + 1;
}

export function stages(plans: Plans): StagePlan[] {
  return Object.keys(plans.plans_per_stage).map(Number).sort((a, b) => a - b).map((k) => plans.plans_per_stage[String(k)]!);
}

/** 3d_fullres / 3d_cascade_fullres use the last stage, 3d_lowres stage 0 (only when there are two). */
export function hasLowresStage(plans: Plans): boolean {
  return plans.plans_kind === '3d' && plans.num_stages > 1;
}
