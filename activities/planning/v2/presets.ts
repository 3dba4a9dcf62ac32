/**
 * The constants that tell nnU-Net v2's planners apart: ExperimentPlanner (PlainConvUNet, the 8 GB default) and the
 * residual-encoder presets ResEncUNetPlanner / nnUNetPlannerResEncM / L / XL. Their reference values are what each
 * planner compares the network's feature-map size with (scaled by target / reference GB).
 */
import type { UNetKind } from './network-size';

export interface PlannerPresetV2 {
  className: string;
  plansName: string;
  network: UNetKind;
  defaultGpuMemoryGb: number;
  referenceGb: number;
  referenceVal3d: number;
  referenceVal2d: number;
  blocksPerStageEncoder: readonly number[];
  blocksPerStageDecoder: readonly number[];
  /** Largest share of the dataset one batch may cover. */
  maxDatasetCovered: number;
  /** ExperimentPlanner shrinks while estimate / refBs · 2 > reference; the ResEnc planners while estimate > reference. */
  shrinkRule: 'batch-of-two' | 'estimate';
  /** ResEnc planners reuse nnUNetPlans' 2d / 3d_fullres data (same preprocessing). */
  sharesDefaultData: boolean;
}

const PLAIN_ENCODER = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
const PLAIN_DECODER = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
const RESENC_ENCODER = [1, 3, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6];
const RESENC_DECODER = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];

function resEnc(className: string, plansName: string, gb: number, val3d: number, val2d: number, covered: number): PlannerPresetV2 {
  return {
    className, plansName, network: 'ResidualEncoderUNet', defaultGpuMemoryGb: gb, referenceGb: gb,
    referenceVal3d: val3d, referenceVal2d: val2d, blocksPerStageEncoder: RESENC_ENCODER,
    blocksPerStageDecoder: RESENC_DECODER, maxDatasetCovered: covered, shrinkRule: 'estimate', sharesDefaultData: true,
  };
}

export const PLANNER_PRESETS_V2: Readonly<Record<string, PlannerPresetV2>> = {
  ExperimentPlanner: {
    className: 'ExperimentPlanner', plansName: 'nnUNetPlans', network: 'PlainConvUNet', defaultGpuMemoryGb: 8,
    referenceGb: 8, referenceVal3d: 560000000, referenceVal2d: 85000000, blocksPerStageEncoder: PLAIN_ENCODER,
    blocksPerStageDecoder: PLAIN_DECODER, maxDatasetCovered: 0.05, shrinkRule: 'batch-of-two', sharesDefaultData: false,
  },
  ResEncUNetPlanner: resEnc('ResEncUNetPlanner', 'nnUNetResEncUNetPlans', 8, 680000000, 135000000, 0.05),
  nnUNetPlannerResEncM: resEnc('nnUNetPlannerResEncM', 'nnUNetResEncUNetMPlans', 8, 680000000, 135000000, 1),
  nnUNetPlannerResEncL: resEnc('nnUNetPlannerResEncL', 'nnUNetResEncUNetLPlans', 24, 2100000000, 380000000, 1),
  nnUNetPlannerResEncXL: resEnc('nnUNetPlannerResEncXL', 'nnUNetResEncUNetXLPlans', 40, 3600000000, 560000000, 1),
};

export function plannerNamesV2(): string[] {
  return Object.keys(PLANNER_PRESETS_V2);
}

export function isPlannerV2(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(PLANNER_PRESETS_V2, name);
}
