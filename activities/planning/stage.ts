/**
 * Per-stage planning: initial patch, topology, the VRAM-proxy shrink loop and the batch size
 * with its 5 % dataset cap. Arithmetic follows nnU-Net's numpy code operation by operation so that rounding and
 * tie-breaking land where nnU-Net's do.
 * See docs/planning.md, '3D stage', '2D stage'.
 */
import { argmaxLastTie, mean, product, roundHalfEven } from '../common/numeric';
import { PLANNING } from './constants';
import type { StagePlan } from './plans';
import { getPoolAndConvProps, type Topology } from './topology';
import { approxVramConsumption } from './vram';

export interface StageInput {
  /** This stage's spacing (transposed). */
  currentSpacing: number[];
  /** The full-resolution target spacing (transposed). */
  originalSpacing: number[];
  /** Float median shape at originalSpacing (transposed). */
  originalShape: number[];
  numCases: number;
  numModalities: number;
  /** Including background (len(all_classes) + 1). */
  numClasses: number;
}

/** Median shape at the stage spacing: round(original_spacing / current_spacing · original_shape). */
function medianAtStage(s: StageInput): number[] {
  return s.originalShape.map((shape, i) => roundHalfEven((s.originalSpacing[i]! / s.currentSpacing[i]!) * shape));
}

/**
 * Shrinks the patch along the axis that is largest relative to the median shape, one divisor step at a time,
 * until the memory estimate fits `reference` (ExperimentPlanner3D_v21 / 2D_v21 while-loop).
 */
function shrinkToFit(spacing: number[], start: Topology, median: number[], reference: number,
  firstEstimate: number, estimate: (t: Topology) => number): { topology: Topology; estimate: number } {
  let topo = start;
  let here = firstEstimate;
  while (here > reference) {
    const shape = topo.patchSize;
    const axis = argmaxLastTie(shape.map((s, i) => s / median[i]!));
    const trial = [...shape];
    trial[axis]! -= topo.mustBeDivisibleBy[axis]!;
    const divisorAfter = getPoolAndConvProps(spacing, trial, PLANNING.featureMapMinEdge, PLANNING.maxNumPool).mustBeDivisibleBy;
    const shrunk = [...shape];
    shrunk[axis]! -= divisorAfter[axis]!;
    topo = getPoolAndConvProps(spacing, shrunk, PLANNING.featureMapMinEdge, PLANNING.maxNumPool);
    here = estimate(topo);
  }
  return { topology: topo, estimate: here };
}

function toStagePlan(s: StageInput, median: number[], topo: Topology, batchSize: number, dummy2d: boolean): StagePlan {
  return {
    batch_size: batchSize,
    num_pool_per_axis: topo.numPoolPerAxis,
    patch_size: topo.patchSize,
    median_patient_size_in_voxels: median,
    current_spacing: [...s.currentSpacing],
    original_spacing: [...s.originalSpacing],
    do_dummy_2D_data_aug: dummy2d,
    pool_op_kernel_sizes: topo.poolKernels,
    conv_kernel_sizes: topo.convKernels,
  };
}

/** Memory budget of a 3D planner: nnU-Net's 8 GB default carries the 32/30 feature rescale; the 11/32 GB
 * variants (ExperimentPlanner3D_v21_11GB/_32GB) scale the raw reference by GB/8 instead. */
export function vramReference3d(gpuMemoryGb: number = PLANNING.defaultGpuMemoryGb): number {
  if (gpuMemoryGb === PLANNING.defaultGpuMemoryGb) {
    return (PLANNING.vramReference3d * PLANNING.baseFeatures) / PLANNING.referenceBaseFeatures3d;
  }
  return (PLANNING.vramReference3d * gpuMemoryGb) / 8;
}

/** The starting patch: an isotropic 512 mm cube in voxels, computed as nnU-Net does, clipped to the median. */
function initialPatch3d(spacing: number[], median: number[]): number[] {
  const perMm = spacing.map((s) => 1 / s);
  const m = mean(perMm);
  const normalized = perMm.map((v) => v / m);
  const factor = (1 / Math.min(...normalized)) * 512;
  return normalized.map((v, i) => Math.min(roundHalfEven(v * factor), median[i]!));
}

/** ExperimentPlanner3D_v21.get_properties_for_stage. */
export function planStage3d(s: StageInput, reference: number): StagePlan {
  const median = medianAtStage(s);
  const datasetVoxels = product(median) * s.numCases;
  const start = getPoolAndConvProps(s.currentSpacing, initialPatch3d(s.currentSpacing, median), PLANNING.featureMapMinEdge, PLANNING.maxNumPool);
  const estimate = (t: Topology) => approxVramConsumption({
    patchSize: t.patchSize, poolKernels: t.poolKernels, baseFeatures: PLANNING.baseFeatures, maxFeatures: PLANNING.maxFeatures3d,
    numModalities: s.numModalities, numClasses: s.numClasses, convPerStage: PLANNING.convPerStage,
  });
  const { topology, estimate: here } = shrinkToFit(s.currentSpacing, start, median, reference, estimate(start), estimate);
  const patch = topology.patchSize;
  const batch = Math.floor(Math.max(reference / here, 1) * PLANNING.defaultBatchSize3d);
  const cap = Math.max(roundHalfEven((PLANNING.batchCoversMaxFractionOfDataset * datasetVoxels) / product(patch)), PLANNING.minBatchSize);
  const batchSize = Math.max(1, Math.min(batch, cap));
  const dummy2d = Math.max(...patch) / patch[0]! > PLANNING.anisotropyThreshold;
  return toStagePlan(s, median, topology, batchSize, dummy2d);
}

/** ExperimentPlanner2D_v21.get_properties_for_stage: in-plane patch = in-plane median, one stage. */
export function planStage2d(s: StageInput): StagePlan {
  const median = medianAtStage(s);
  const datasetVoxels = product(median) * s.numCases;
  const spacing2d = s.currentSpacing.slice(1);
  const median2d = median.slice(1);
  const start = getPoolAndConvProps(spacing2d, median2d, PLANNING.featureMapMinEdge, PLANNING.maxNumPool);
  const reference = (PLANNING.vramReference2d * PLANNING.defaultBatchSize2d) / 2;
  const estimateWith = (features: number) => (t: Topology) => approxVramConsumption({
    patchSize: t.patchSize, poolKernels: t.poolKernels, baseFeatures: features, maxFeatures: PLANNING.maxFeatures2d,
    numModalities: s.numModalities, numClasses: s.numClasses, convPerStage: PLANNING.convPerStage,
  });
  const first = estimateWith(PLANNING.firstEstimateBaseFeatures2d)(start);
  const { topology, estimate: here } = shrinkToFit(spacing2d, start, median2d, reference, first, estimateWith(PLANNING.baseFeatures));
  const batch = Math.floor(reference / here) * 2;
  if (batch < PLANNING.minBatchSize) {
    throw new Error(`2D planning: batch size ${batch} < ${PLANNING.minBatchSize} after shrinking the patch (nnU-Net raises here too)`);
  }
  const cap = roundHalfEven((PLANNING.batchCoversMaxFractionOfDataset * datasetVoxels) / product(topology.patchSize));
  return toStagePlan(s, median, topology, Math.max(1, Math.min(batch, cap)), false);
}
