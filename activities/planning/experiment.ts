/**
 * plan_experiment of nnU-Net v1's ExperimentPlanner3D_v21 and ExperimentPlanner2D_v21 as pure functions:
 * fingerprint in, plans dict out (docs/planning.md, 'How the v2.1 planners decide').
 */
import * as path from 'node:path';
import { product } from '../common/numeric';
import { LabelManager } from '../io/label-manager';
import { PLANNING } from './constants';
import { modalityNames, type DatasetProperties } from './fingerprint';
import { normalizationSchemes, useMaskForNorm } from './normalization';
import type { PlanKind, Plans, StagePlan } from './plans';
import { anisotropyAwareTargetSpacing, medianShapeAtSpacing, medianTargetSpacing, permute, transposition } from './spacing';
import { planStage2d, planStage3d, type StageInput } from './stage';

export interface PlanContext {
  /** Where the plans will live (plans' preprocessed_data_folder); empty when planning from a bare fingerprint. */
  preprocessedDir?: string;
  /** Folder with the cropped cases, to list list_of_npz_files; case ids come from size_reductions. */
  croppedDir?: string;
}

export interface PlannerIdentity {
  name: string;
  kind: PlanKind;
  dataIdentifier: string;
}

interface Geometry {
  targetSpacing: number[];
  medianShape: number[];
  forward: number[];
  backward: number[];
  base: StageInput;
}

function geometry(props: DatasetProperties, targetSpacing: number[]): Geometry {
  const medianShape = medianShapeAtSpacing(props, targetSpacing);
  const { forward, backward } = transposition(targetSpacing);
  const spacingT = permute(targetSpacing, forward);
  return {
    targetSpacing, medianShape, forward, backward,
    base: {
      currentSpacing: spacingT,
      originalSpacing: spacingT,
      originalShape: permute(medianShape, forward),
      numCases: props.all_sizes.length,
      numModalities: modalityNames(props).length,
      numClasses: segmentationHeads(props),
    },
  };
}

/**
 * The lowres (cascade) stage: coarsen the spacing by 1 % steps (the finest axes first while any axis is more than
 * 2x finer than the coarsest) until the median case is at most 4 patches; keep it only if it at least halves the
 * voxel count of the full-resolution median (docs/planning.md, 'Lowres stage').
 */
function lowresStage(g: Geometry, fullres: StagePlan, reference: number): StagePlan | undefined {
  let patchVoxels = product(fullres.patch_size);
  let numVoxels = product(g.medianShape);
  if (numVoxels / patchVoxels < PLANNING.patientsPerPatchStage0) return undefined;
  const spacing = [...g.targetSpacing];
  let stage: StagePlan | undefined;
  while (numVoxels > PLANNING.patientsPerPatchStage0 * patchVoxels) {
    const maxSpacing = Math.max(...spacing);
    const tooFine = spacing.map((s) => maxSpacing / s > 2);
    const anyTooFine = tooFine.some(Boolean);
    for (let a = 0; a < 3; a++) if (!anyTooFine || tooFine[a]) spacing[a]! *= 1.01;
    numVoxels = product(g.targetSpacing.map((t, a) => (t / spacing[a]!) * g.medianShape[a]!));
    stage = planStage3d({ ...g.base, currentSpacing: permute(spacing, g.forward) }, reference);
    patchVoxels = product(stage.patch_size);
  }
  if (stage && 2 * product(stage.median_patient_size_in_voxels) < product(fullres.median_patient_size_in_voxels)) return stage;
  return undefined;
}

function caseFiles(props: DatasetProperties, ctx: PlanContext): string[] {
  return Object.keys(props.size_reductions).sort().map((id) => (ctx.croppedDir ? path.join(ctx.croppedDir, `${id}.npz`) : `${id}.npz`));
}

const labelManager = (props: DatasetProperties): LabelManager | undefined =>
  props.label_spec ? new LabelManager(props.label_spec, 'dataset_properties.label_spec') : undefined;

/** Foreground classes, or for a region dataset the number of regions (each a sigmoid head). */
function numClasses(props: DatasetProperties): number {
  const m = labelManager(props);
  if (!m) return props.all_classes.length;
  return m.hasRegions ? m.foregroundRegions.length : m.foregroundLabels.length;
}

/** Network outputs the stage planner budgets for: one per region, else background + classes. */
function segmentationHeads(props: DatasetProperties): number {
  return labelManager(props)?.numSegmentationHeads ?? props.all_classes.length + 1;
}

function assemble(props: DatasetProperties, g: Geometry, stageList: StagePlan[], who: PlannerIdentity, ctx: PlanContext): Plans {
  const plansPerStage: Record<string, StagePlan> = {};
  stageList.forEach((s, i) => { plansPerStage[String(i)] = s; });
  const plans: Plans = {
    num_stages: stageList.length,
    num_modalities: modalityNames(props).length,
    modalities: { ...props.modalities },
    normalization_schemes: normalizationSchemes(props),
    dataset_properties: props,
    list_of_npz_files: caseFiles(props, ctx),
    original_spacings: props.all_spacings.map((s) => [...s]),
    original_sizes: props.all_sizes.map((s) => [...s]),
    preprocessed_data_folder: ctx.preprocessedDir ?? '',
    num_classes: numClasses(props),
    all_classes: [...props.all_classes],
    base_num_features: PLANNING.baseFeatures,
    use_mask_for_norm: useMaskForNorm(props),
    keep_only_largest_region: null,
    min_region_size_per_class: null,
    min_size_per_class: null,
    transpose_forward: g.forward,
    transpose_backward: g.backward,
    data_identifier: who.dataIdentifier,
    plans_per_stage: plansPerStage,
    preprocessor_name: who.kind === '3d' ? 'GenericPreprocessor' : 'PreprocessorFor2D',
    planner_name: who.name,
    plans_kind: who.kind,
    unet_max_num_features: who.kind === '3d' ? PLANNING.networkMaxFeatures3d : PLANNING.networkMaxFeatures2d,
    ...(props.label_spec ? { label_spec: props.label_spec } : {}),
  };
  if (who.kind === '3d') plans.conv_per_stage = PLANNING.convPerStage;
  return plans;
}

/** The planner's get_target_spacing. */
export type TargetSpacingRule = (props: DatasetProperties) => number[];

/**
 * ExperimentPlanner3D_v21.plan_experiment with a given memory reference (see vramReference3d); v2.2 is the same
 * with its own target spacing rule.
 */
export function planExperiment3d(
  props: DatasetProperties, reference: number, who: PlannerIdentity, ctx: PlanContext = {},
  targetSpacing: TargetSpacingRule = anisotropyAwareTargetSpacing,
): Plans {
  const g = geometry(props, targetSpacing(props));
  const fullres = planStage3d(g.base, reference);
  const lowres = lowresStage(g, fullres, reference);
  return assemble(props, g, lowres ? [lowres, fullres] : [fullres], who, ctx);
}

/** ExperimentPlanner2D_v21.plan_experiment: plain median spacing, one stage. */
export function planExperiment2d(props: DatasetProperties, who: PlannerIdentity, ctx: PlanContext = {}): Plans {
  const g = geometry(props, medianTargetSpacing(props));
  return assemble(props, g, [planStage2d(g.base)], who, ctx);
}
