/**
 * Planner registry: name -> planner, as nnU-Net finds planners by class name (-pl3d / -pl2d). The planners are
 * the explicit list PLANNERS below; a new planner is one more entry there (registerPlanner adds one at run time,
 * for tests and embedding code) and is then selectable by name everywhere (CLI, activity).
 */
import { BadInputError } from '../common/errors';
import { DATA_IDENTIFIER_V21, DATA_IDENTIFIER_V22, PLANNING, PLANS_IDENTIFIER_V21, PLANS_IDENTIFIER_V22 } from './constants';
import { planExperiment2d, planExperiment3d, type PlanContext } from './experiment';
import type { DatasetProperties } from './fingerprint';
import type { PlanKind, Plans } from './plans';
import { v22TargetSpacing } from './spacing';
import { vramReference3d } from './stage';

export interface ExperimentPlanner {
  name: string;
  kind: PlanKind;
  /** e.g. nnUNetPlansv2.1; the file is <plansIdentifier>_plans_3D.json / _2D.json. */
  plansIdentifier: string;
  dataIdentifier: string;
  plan(props: DatasetProperties, ctx?: PlanContext): Plans;
}

/** Every planner selectable by name: nnU-Net v1's v2.1 planners (3D at 8, 11, 16 and 32 GB; 2D) and 3D v2.2. */
const PLANNERS: readonly ExperimentPlanner[] = [
  v21Planner3d('ExperimentPlanner3D_v21', '', vramReference3d()),
  v21Planner3d('ExperimentPlanner3D_v21_11GB', '_big', vramReference3d(11)),
  v21Planner3d('ExperimentPlanner3D_v21_16GB', '_16GB', vramReference3d(16)),
  v21Planner3d('ExperimentPlanner3D_v21_32GB', '_verybig', vramReference3d(32)),
  v21Planner2d(),
  v22Planner3d(),
];

const registry = new Map<string, ExperimentPlanner>(PLANNERS.map((p) => [p.name, p]));

export function registerPlanner(p: ExperimentPlanner): void {
  registry.set(p.name, p);
}

export function plannerNames(): string[] {
  return [...registry.keys()].sort();
}

export function getPlanner(name: string): ExperimentPlanner {
  const p = registry.get(name);
  if (!p) throw new BadInputError(`unknown planner "${name}"; known planners: ${plannerNames().join(', ')}`);
  return p;
}

const GB_SUFFIX: Record<number, string> = { 11: '_big', 32: '_verybig' };

/** A 3D v2.1 planner whose memory proxy budget stands for `gb` GB (8 = nnU-Net's default planner). */
export function planner3dForMemory(gb: number): ExperimentPlanner {
  if (!(gb > 0) || !Number.isFinite(gb)) throw new BadInputError(`GPU memory target must be a positive number of GB, got ${gb}`);
  if (gb === PLANNING.defaultGpuMemoryGb) return getPlanner('ExperimentPlanner3D_v21');
  const name = `ExperimentPlanner3D_v21_${gb}GB`;
  return registry.get(name) ?? v21Planner3d(name, GB_SUFFIX[gb] ?? `_${gb}GB`, vramReference3d(gb));
}

function v21Planner3d(name: string, suffix: string, reference: number): ExperimentPlanner {
  const who = { name, kind: '3d' as const, plansIdentifier: PLANS_IDENTIFIER_V21 + suffix, dataIdentifier: DATA_IDENTIFIER_V21 + suffix };
  return { ...who, plan: (props, ctx) => planExperiment3d(props, reference, who, ctx) };
}

/** ExperimentPlanner3D_v22: v2.1 at 8 GB with its own identifiers and target spacing rule. */
function v22Planner3d(): ExperimentPlanner {
  const who = { name: 'ExperimentPlanner3D_v22', kind: '3d' as const, plansIdentifier: PLANS_IDENTIFIER_V22, dataIdentifier: DATA_IDENTIFIER_V22 };
  const reference = vramReference3d();
  return { ...who, plan: (props, ctx) => planExperiment3d(props, reference, who, ctx, v22TargetSpacing) };
}

function v21Planner2d(): ExperimentPlanner {
  const who = { name: 'ExperimentPlanner2D_v21', kind: '2d' as const, plansIdentifier: PLANS_IDENTIFIER_V21, dataIdentifier: `${DATA_IDENTIFIER_V21}_2D` };
  return { ...who, plan: (props, ctx) => planExperiment2d(props, who, ctx) };
}

export const DEFAULT_PLANNER_3D = 'ExperimentPlanner3D_v21';
export const DEFAULT_PLANNER_2D = 'ExperimentPlanner2D_v21';
