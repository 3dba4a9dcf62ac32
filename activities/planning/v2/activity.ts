/**
 * The `plan` activity with method 'v2': one v2 planner class (default ExperimentPlanner; the ResEnc presets
 * nnUNetPlannerResEncM/L/XL) writes one plans file, <preprocessed>/<Dataset>/<plans name>.json, holding every
 * configuration. Both plans kinds of the output name that file, and both identifiers are the plans name, so the
 * workflow handles v1 and v2 plans alike. Idempotent: the same fingerprint gives the same file.
 */
import { CONFIGURATIONS, type Configuration, type PlanInput, type PlanOutput } from '../../contract';
import { BadInputError } from '../../common/errors';
import { planDatasetV2 } from './plan-dataset';
import { isPlannerV2, plannerNamesV2 } from './presets';

export const DEFAULT_PLANNER_V2 = 'ExperimentPlanner';

export function planV2(input: PlanInput): PlanOutput {
  const planner = input.planner ?? DEFAULT_PLANNER_V2;
  if (!isPlannerV2(planner)) throw new BadInputError(`planner ${planner} is not an nnU-Net v2 planner; use one of ${plannerNamesV2().join(', ')} (planning.v2Planner or --planner)`);
  const { plansFile, plansName, plans } = planDatasetV2(input.paths, { planner, gpuMemoryTargetGb: input.gpuMemoryTargetGb });
  const planned = Object.keys(plans.configurations);
  const configurations: Configuration[] = CONFIGURATIONS.filter((c) => planned.includes(c));
  const has3d = configurations.some((c) => c !== '2d');
  return {
    plansFiles: { ...(planned.includes('2d') ? { '2d': plansFile } : {}), ...(has3d ? { '3d': plansFile } : {}) },
    plansIdentifier: plansName,
    plansIdentifiers: { '2d': plansName, '3d': plansName },
    configurations,
  };
}
