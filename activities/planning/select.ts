/**
 * Which planners a run uses: nnU-Net's -pl3d / -pl2d (by registry name), the GPU memory target, or the defaults
 * (ExperimentPlanner3D_v21 + ExperimentPlanner2D_v21). "None" skips that kind, as in nnU-Net.
 */
import { BadInputError } from '../common/errors';
import type { PlanKind } from './plans';
import { DEFAULT_PLANNER_2D, DEFAULT_PLANNER_3D, getPlanner, planner3dForMemory, type ExperimentPlanner } from './registry';

export interface PlannerSelection {
  /** Registry name, or "None" to skip 3D planning. */
  planner3d?: string;
  planner2d?: string;
  /** Used only when planner3d is not given: picks the v2.1 3D planner for this many GB. */
  gpuMemoryTargetGb?: number;
}

function pick(name: string | undefined, kind: PlanKind, fallback: () => ExperimentPlanner): ExperimentPlanner | undefined {
  if (name === 'None' || name === 'none') return undefined;
  const p = name ? getPlanner(name) : fallback();
  if (p.kind !== kind) throw new BadInputError(`planner "${p.name}" makes ${p.kind} plans, not ${kind}; pass it as the ${p.kind} planner`);
  return p;
}

export function selectPlanners(sel: PlannerSelection): ExperimentPlanner[] {
  const p3 = pick(sel.planner3d, '3d', () => (sel.gpuMemoryTargetGb === undefined ? getPlanner(DEFAULT_PLANNER_3D) : planner3dForMemory(sel.gpuMemoryTargetGb)));
  const p2 = pick(sel.planner2d, '2d', () => getPlanner(DEFAULT_PLANNER_2D));
  return [p3, p2].filter((p): p is ExperimentPlanner => p !== undefined);
}

/**
 * The activity's single `planner` string: comma-separated registry names, at most one per kind
 * ("ExperimentPlanner3D_v21_11GB" or "MyPlanner3D,ExperimentPlanner2D_v21"); kinds not named use the default.
 */
export function parsePlannerList(list: string | undefined): Pick<PlannerSelection, 'planner3d' | 'planner2d'> {
  const out: { planner3d?: string; planner2d?: string } = {};
  for (const name of (list ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const kind = getPlanner(name).kind;
    const key = kind === '3d' ? 'planner3d' : 'planner2d';
    if (out[key]) throw new BadInputError(`planner list "${list}" names two ${kind} planners`);
    out[key] = name;
  }
  return out;
}
