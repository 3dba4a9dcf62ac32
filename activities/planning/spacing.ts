/** Target spacing, transposition and median shape.
 * See docs/planning.md, 'Target spacing', 'Transposition and median shape'.
 */
import { argmax, columnwise, median, percentile } from '../common/numeric';
import type { DatasetProperties } from './fingerprint';
import { PLANNING } from './constants';

/** ExperimentPlanner.get_target_spacing (used by the 2D planner): per-axis 50th percentile of the spacings. */
export function medianTargetSpacing(props: DatasetProperties): number[] {
  return columnwise(props.all_spacings, (c) => percentile(c, PLANNING.targetSpacingPercentile));
}

/** The worst axis's coarser spacing for anisotropic data, given the other axes' coarsest spacing. */
type WorstAxisRule = (tenthPercentile: number, maxOtherSpacing: number) => number;

/** v2.1: the 10th percentile, but never finer than the other axes (nudged 1e-5 above them when clamped). */
const v21WorstAxis: WorstAxisRule = (t, maxOther) => (t < maxOther ? Math.max(maxOther, t) + 1e-5 : t);

/** v2.2: the 10th percentile, but never finer than 3x (the anisotropy threshold) the other axes. */
const v22WorstAxis: WorstAxisRule = (t, maxOther) => Math.max(maxOther * PLANNING.anisotropyThreshold, t);

/**
 * The median spacing, except that for anisotropic data (worst axis > 3x coarser AND > 3x fewer voxels) the worst
 * axis takes the 10th percentile of its spacings, bounded below by `worstAxis`. Sizes are the cropped sizes at
 * their own spacing (a quirk, reproduced: docs/planning.md, 'Quirk decisions', 1).
 */
function anisotropyAware(props: DatasetProperties, worstAxis: WorstAxisRule): number[] {
  const target = medianTargetSpacing(props);
  const targetSize = columnwise(props.all_sizes, (c) => percentile(c, PLANNING.targetSpacingPercentile));
  const worst = argmax(target);
  const others = [0, 1, 2].filter((i) => i !== worst);
  const maxOtherSpacing = Math.max(...others.map((i) => target[i]!));
  const minOtherSize = Math.min(...others.map((i) => targetSize[i]!));
  const anisoSpacing = target[worst]! > PLANNING.anisotropyThreshold * maxOtherSpacing;
  const anisoVoxels = targetSize[worst]! * PLANNING.anisotropyThreshold < minOtherSize;
  if (anisoSpacing && anisoVoxels) {
    target[worst] = worstAxis(percentile(props.all_spacings.map((s) => s[worst]!), 10), maxOtherSpacing);
  }
  return target;
}

/** ExperimentPlanner3D_v21.get_target_spacing (docs/planning.md, 'Target spacing'). */
export function anisotropyAwareTargetSpacing(props: DatasetProperties): number[] {
  return anisotropyAware(props, v21WorstAxis);
}

/** ExperimentPlanner3D_v22.get_target_spacing: as v2.1, but the worst axis stays at least 3x the others. */
export function v22TargetSpacing(props: DatasetProperties): number[] {
  return anisotropyAware(props, v22WorstAxis);
}

/** Worst (largest-spacing) axis first, the rest in order; and its inverse. */
export function transposition(targetSpacing: readonly number[]): { forward: number[]; backward: number[] } {
  const worst = argmax(targetSpacing);
  const forward = [worst, ...[0, 1, 2].filter((i) => i !== worst)];
  const backward = [0, 1, 2].map((i) => forward.indexOf(i));
  return { forward, backward };
}

/** Per-axis np.median of every case's shape resampled to the target spacing (floats, not rounded). */
export function medianShapeAtSpacing(props: DatasetProperties, targetSpacing: readonly number[]): number[] {
  const shapes = props.all_spacings.map((sp, c) => sp.map((s, a) => (s / targetSpacing[a]!) * props.all_sizes[c]![a]!));
  return columnwise(shapes, median);
}

export function permute<T>(values: readonly T[], order: readonly number[]): T[] {
  return order.map((i) => values[i]!);
}
