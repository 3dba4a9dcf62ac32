/**
 * nnU-Net v2's plan_experiment as a pure function: dataset_fingerprint.json + dataset.json in, the plans.json that
 * nnUNetv2_plan_experiment writes out (same keys, same order, same numbers). Target spacing, transpose, 3d_fullres,
 * 3d_lowres (spacing grown by 1.03 steps until the fullres patch covers at least a quarter of the image, dropped when
 * the image shrinks less than 2x) with its 3d_cascade_fullres, and 2d.
 */
import { argmax, columnwise, median, percentile, product, roundHalfEven } from '../../common/numeric';
import { planConfigurationV2, type ConfigurationContext, type ConfigurationPlanV2 } from './configuration';
import { normalizationV2, readerWriterFor, type DatasetJsonV2 } from './dataset-json';
import { PLANNER_PRESETS_V2, type PlannerPresetV2 } from './presets';

const ANISO_THRESHOLD = 3;
const LOWRES_CREATION_THRESHOLD = 0.25;
const SPACING_INCREASE_FACTOR = 1.03;

export interface FingerprintV2 {
  spacings: number[][];
  shapes_after_crop: number[][];
  foreground_intensity_properties_per_channel: Record<string, unknown>;
  median_relative_size_after_cropping: number;
}

export interface PlanOptionsV2 {
  planner: string;
  datasetName: string;
  gpuMemoryTargetGb?: number;
  overwriteTargetSpacing?: number[];
  plansName?: string;
  preprocessorName?: string;
}

export type PlansV2 = Record<string, unknown> & { configurations: Record<string, Record<string, unknown>> };

/** determine_fullres_target_spacing: the median spacing, with the 10th percentile on a clearly anisotropic axis. */
export function fullresTargetSpacing(fp: FingerprintV2, overwrite?: readonly number[]): number[] {
  if (overwrite) return [...overwrite];
  const target = columnwise(fp.spacings, (c) => percentile(c, 50));
  const targetSize = columnwise(fp.shapes_after_crop, (c) => percentile(c, 50));
  const worst = argmax(target);
  const others = target.map((_, i) => i).filter((i) => i !== worst);
  const maxOtherSpacing = Math.max(...others.map((i) => target[i]!));
  const anisoSpacing = target[worst]! > ANISO_THRESHOLD * maxOtherSpacing;
  const anisoVoxels = targetSize[worst]! * ANISO_THRESHOLD < Math.min(...others.map((i) => targetSize[i]!));
  if (anisoSpacing && anisoVoxels) {
    let axisSpacing = percentile(fp.spacings.map((s) => s[worst]!), 10);
    if (axisSpacing < maxOtherSpacing) axisSpacing = Math.max(maxOtherSpacing, axisSpacing) + 1e-5;
    target[worst] = axisSpacing;
  }
  return target;
}

function transposeOf(target: readonly number[]): { forward: number[]; backward: number[] } {
  const first = argmax(target);
  const forward = [first, ...[0, 1, 2].filter((i) => i !== first)];
  return { forward, backward: [0, 1, 2].map((i) => forward.indexOf(i)) };
}

const permute = <T>(values: readonly T[], order: readonly number[]): T[] => order.map((i) => values[i]!);

/** compute_new_shape: round(old_spacing / new_spacing · old_shape) per axis, Python's rounding. */
function newShape(shape: readonly number[], spacing: readonly number[], target: readonly number[]): number[] {
  return shape.map((s, i) => roundHalfEven((spacing[i]! / target[i]!) * s));
}

interface LowresSearch { plan: ConfigurationPlanV2 | null; medianNumVoxels: number }

/** The 3d_lowres loop: grow the coarse axes (or all) by 1.03 until the fullres-sized patch covers 25% of the image. */
function searchLowres(
  plan: (spacing: number[], shape: number[], id: string, voxels: number) => ConfigurationPlanV2,
  fullres: ConfigurationPlanV2, medianShape: readonly number[], numTraining: number, identifier: string,
): LowresSearch {
  let medianNumVoxels = product(medianShape);
  let patchVoxels = product(fullres.patch_size);
  let lowresPlan: ConfigurationPlanV2 | null = null;
  const lowres = [...fullres.spacing];
  while (patchVoxels / medianNumVoxels < LOWRES_CREATION_THRESHOLD) {
    const maxSpacing = Math.max(...lowres);
    const coarse = lowres.map((s) => maxSpacing / s > 2);
    const grow = coarse.some(Boolean) ? coarse : coarse.map(() => true);
    for (let i = 0; i < lowres.length; i++) if (grow[i]) lowres[i]! *= SPACING_INCREASE_FACTOR;
    const scaled = medianShape.map((m, i) => (fullres.spacing[i]! / lowres[i]!) * m);
    medianNumVoxels = product(scaled);
    lowresPlan = plan([...lowres], scaled.map(roundHalfEven), identifier, medianNumVoxels * numTraining);
    patchVoxels = product(lowresPlan.patch_size);
  }
  return { plan: lowresPlan, medianNumVoxels };
}

function dataIdentifier(preset: PlannerPresetV2, plansName: string, configuration: string): string {
  const shared = preset.sharesDefaultData && (configuration === '2d' || configuration === '3d_fullres');
  return `${shared ? 'nnUNetPlans' : plansName}_${configuration}`;
}

function contextFor(preset: PlannerPresetV2, fp: FingerprintV2, ds: DatasetJsonV2, opts: PlanOptionsV2): ConfigurationContext {
  const norm = normalizationV2(ds, fp.median_relative_size_after_cropping);
  return {
    preset,
    gpuMemoryGb: opts.gpuMemoryTargetGb ?? preset.defaultGpuMemoryGb,
    numInputChannels: Object.keys(ds.channel_names ?? ds.modality ?? {}).length,
    numLabels: Object.keys(ds.labels).length,
    preprocessorName: opts.preprocessorName ?? 'DefaultPreprocessor',
    normalizationSchemes: norm.schemes,
    useMaskForNorm: norm.useMask,
  };
}

export function presetV2(planner: string): PlannerPresetV2 {
  const preset = PLANNER_PRESETS_V2[planner];
  if (!preset) throw new Error(`unknown nnU-Net v2 planner "${planner}"; known: ${Object.keys(PLANNER_PRESETS_V2).join(', ')}`);
  return preset;
}

/** nnU-Net v2's ExperimentPlanner.plan_experiment for the named planner class. */
export function planExperimentV2(fp: FingerprintV2, ds: DatasetJsonV2, opts: PlanOptionsV2): PlansV2 {
  const preset = presetV2(opts.planner);
  const plansName = opts.plansName ?? preset.plansName;
  const ctx = contextFor(preset, fp, ds, opts);
  const plan = (spacing: number[], shape: number[], configuration: string, voxels: number) =>
    planConfigurationV2(ctx, spacing, shape, dataIdentifier(preset, plansName, configuration), voxels);

  const target = fullresTargetSpacing(fp, opts.overwriteTargetSpacing);
  const transpose = transposeOf(target);
  const spacingT = permute(target, transpose.forward);
  const shapes = fp.shapes_after_crop.map((shape, i) => newShape(shape, fp.spacings[i]!, target));
  const medianShapeT = permute(columnwise(shapes, median), transpose.forward);
  const approxVoxels = product(medianShapeT) * ds.numTraining;

  let fullres: ConfigurationPlanV2 | null = null;
  let lowres: ConfigurationPlanV2 | null = null;
  if (medianShapeT[0] !== 1) {
    fullres = plan(spacingT, medianShapeT, '3d_fullres', approxVoxels);
    const search = searchLowres((s, m, _id, v) => plan(s, m, '3d_lowres', v), fullres, medianShapeT, ds.numTraining, '3d_lowres');
    lowres = product(medianShapeT) / search.medianNumVoxels < 2 ? null : search.plan;
    if (lowres) lowres.batch_dice = false;
    fullres.batch_dice = lowres !== null;
  }
  const plan2d = plan(spacingT.slice(1), medianShapeT.slice(1), '2d', approxVoxels);
  plan2d.batch_dice = true;

  const configurations: Record<string, Record<string, unknown>> = { '2d': plan2d };
  if (lowres) configurations['3d_lowres'] = { ...lowres, next_stage: '3d_cascade_fullres' };
  if (fullres) configurations['3d_fullres'] = fullres;
  if (fullres && lowres) configurations['3d_cascade_fullres'] = { inherits_from: '3d_fullres', previous_stage: '3d_lowres' };

  return {
    dataset_name: opts.datasetName,
    plans_name: plansName,
    original_median_spacing_after_transp: permute(columnwise(fp.spacings, median), transpose.forward),
    original_median_shape_after_transp: permute(columnwise(fp.shapes_after_crop, median), transpose.forward).map(roundHalfEven),
    image_reader_writer: readerWriterFor(ds),
    transpose_forward: transpose.forward,
    transpose_backward: transpose.backward,
    configurations,
    experiment_planner_used: preset.className,
    label_manager: 'LabelManager',
    foreground_intensity_properties_per_channel: fp.foreground_intensity_properties_per_channel,
  };
}
