/**
 * nnU-Net v1's plans.pkl (either v2.1 planner) as our Plans, and our Plans as a plans.pkl nnU-Net v1 reads.
 * The JSON plans are nnU-Net's dict, so the mapping is direct; the three nnunet-ts fields (planner_name,
 * plans_kind, unet_max_num_features) are derived on read and left out on write. See docs/interop.md.
 */
import { BadInputError } from '../common/errors';
import { readPlansPklJson, writePlansPklJson } from '../io/nnunet-pickles';
import { PLANNING } from './constants';
import { DEFAULT_PLANNER_2D, DEFAULT_PLANNER_3D, getPlanner, plannerNames } from './registry';
import type { PlanKind, Plans } from './plans';

const OUR_FIELDS = ['planner_name', 'plans_kind', 'unet_max_num_features'] as const;

export function readPlansPkl(file: string): Plans {
  return plansFromNnunet(readPlansPklJson(file), file);
}

/** nnU-Net's plans dict in JSON form (from plans.pkl or a .model.pkl's 'plans') → our Plans; `source` names it. */
export function plansFromNnunet(json: Record<string, unknown>, source: string): Plans {
  const stage0 = (json.plans_per_stage as Record<string, { patch_size?: unknown }> | undefined)?.['0'];
  const patch = stage0?.patch_size;
  if (!Array.isArray(patch) || (patch.length !== 2 && patch.length !== 3)) {
    throw new BadInputError(`${source}: plans_per_stage[0].patch_size must list 2 or 3 sizes; point at an nnU-Net v1 plans file`, source);
  }
  const kind: PlanKind = patch.length === 2 ? '2d' : '3d';
  return {
    ...(json as unknown as Plans),
    planner_name: plannerFor(kind, String(json.data_identifier ?? '')),
    plans_kind: kind,
    unet_max_num_features: kind === '3d' ? PLANNING.networkMaxFeatures3d : PLANNING.networkMaxFeatures2d,
  };
}

/** The registered planner of this kind whose data identifier matches (nnU-Net does not record the planner). */
function plannerFor(kind: PlanKind, dataIdentifier: string): string {
  const match = plannerNames().map(getPlanner).find((p) => p.kind === kind && p.dataIdentifier === dataIdentifier);
  return match?.name ?? (kind === '2d' ? DEFAULT_PLANNER_2D : DEFAULT_PLANNER_3D);
}

/** Writes plans as nnU-Net's planner pickles them (integer keys, numpy arrays), without our own fields. */
export function writePlansPkl(file: string, plans: Plans): void {
  writePlansPklJson(file, plansAsPklJson(plans));
}

/** Our Plans as nnU-Net's plans dict in JSON form (our own fields left out), e.g. for a .model.pkl. */
export function plansAsPklJson(plans: Plans): Record<string, unknown> {
  const dict: Record<string, unknown> = { ...plans };
  for (const key of OUR_FIELDS) delete dict[key];
  return dict;
}
