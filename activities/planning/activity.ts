import type { Configuration, PlanInput, PlanOutput, PlansIdentifiers } from '../contract';
import { readDatasetProperties } from './fingerprint';
import { hasLowresStage, type Plans } from './plans';
import { writePlansFile } from './plans-file';
import { plansFile } from '../io/layout';
import type { ExperimentPlanner } from './registry';
import { parsePlannerList, selectPlanners } from './select';
import { planV2 } from './v2/activity';

export interface PlannedFile { planner: ExperimentPlanner; plans: Plans; file: string }

/** Plans every selected configuration kind from the fingerprint; pure apart from reading the fingerprint. */
export function planTask(input: PlanInput): PlannedFile[] {
  const props = readDatasetProperties(input.fingerprintFile);
  const planners = selectPlanners({ ...parsePlannerList(input.planner), gpuMemoryTargetGb: input.gpuMemoryTargetGb });
  const ctx = { preprocessedDir: input.paths.preprocessedDir, croppedDir: input.paths.croppedDir };
  return planners.map((planner) => ({
    planner,
    plans: planner.plan(props, ctx),
    file: plansFile(input.paths, planner.plansIdentifier, planner.kind),
  }));
}

/** The configurations a set of plans makes possible (the cascade only with a lowres stage). */
export function configurationsOf(planned: readonly PlannedFile[]): Configuration[] {
  const out: Configuration[] = [];
  for (const { plans } of planned) {
    if (plans.plans_kind === '2d') out.push('2d');
    else out.push('3d_fullres', ...(hasLowresStage(plans) ? (['3d_lowres', '3d_cascade_fullres'] as const) : []));
  }
  return out;
}

/**
 * Activity `plan`: writes <plansIdentifier>_plans_3D.json / _2D.json into the preprocessed folder. Idempotent:
 * the same fingerprint and planners give byte-identical files, which are then left untouched.
 */
export async function plan(input: PlanInput): Promise<PlanOutput> {
  if (input.method === 'v2') return planV2(input);
  const planned = planTask(input);
  const plansFiles: PlanOutput['plansFiles'] = {};
  const plansIdentifiers: PlansIdentifiers = {};
  for (const p of planned) {
    writePlansFile(p.file, p.plans);
    plansFiles[p.plans.plans_kind] = p.file;
    plansIdentifiers[p.plans.plans_kind] = p.planner.plansIdentifier;
  }
  const main = planned.find((p) => p.plans.plans_kind === '3d') ?? planned[0];
  return { plansFiles, plansIdentifier: main ? main.planner.plansIdentifier : '', plansIdentifiers, configurations: configurationsOf(planned) };
}
