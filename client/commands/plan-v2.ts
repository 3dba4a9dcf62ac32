/**
 * `nnunet plan --fingerprint dataset_fingerprint.json --dataset-json dataset.json --planner CLASS [--json]`: nnU-Net
 * v2's planners (ExperimentPlanner, nnUNetPlannerResEncM / L / XL) on a v2 fingerprint; prints the plans.json that
 * nnUNetv2_plan_experiment would write (--json) or a per-configuration summary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planExperimentV2, type PlansV2 } from '../../activities/planning/v2/experiment';
import { readDatasetJsonV2, readFingerprintV2 } from '../../activities/planning/v2/inputs';
import { isPlannerV2, plannerNamesV2 } from '../../activities/planning/v2/presets';
import { printJson, UsageError } from '../context';

export interface PlanV2Opts {
  fingerprint?: string;
  datasetJson?: string;
  planner?: string;
  datasetName?: string;
  plansName?: string;
  overwriteTargetSpacing?: string;
  gpuMemory?: number;
  json?: boolean;
}

/** True when the flags ask for nnU-Net v2 planning (a dataset.json or a v2 planner class). */
export function wantsV2(opts: PlanV2Opts): boolean {
  return opts.datasetJson !== undefined || (opts.planner !== undefined && isPlannerV2(opts.planner));
}

function targetSpacing(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || !parts.every((n) => Number.isFinite(n) && n > 0)) {
    throw new UsageError(`--overwrite-target-spacing takes three positive numbers in array axis order, e.g. 3,0.8,0.8; got '${value}'`);
  }
  return parts;
}

function existing(file: string | undefined, flag: string): string {
  if (file === undefined) throw new UsageError(`nnU-Net v2 planning needs ${flag} FILE (--fingerprint dataset_fingerprint.json --dataset-json dataset.json)`);
  if (!fs.existsSync(file)) throw new UsageError(`${flag} ${file}: no such file`);
  return file;
}

export function planV2FromFlags(opts: PlanV2Opts): PlansV2 {
  const planner = opts.planner ?? 'ExperimentPlanner';
  if (!isPlannerV2(planner)) throw new UsageError(`unknown nnU-Net v2 planner "${planner}"; known: ${plannerNamesV2().join(', ')}`);
  const datasetJson = existing(opts.datasetJson, '--dataset-json');
  const fingerprint = readFingerprintV2(existing(opts.fingerprint, '--fingerprint'));
  return planExperimentV2(fingerprint, readDatasetJsonV2(datasetJson), {
    planner,
    datasetName: opts.datasetName ?? path.basename(path.dirname(path.resolve(datasetJson))),
    gpuMemoryTargetGb: opts.gpuMemory,
    overwriteTargetSpacing: targetSpacing(opts.overwriteTargetSpacing),
    plansName: opts.plansName,
  });
}

function summaryLines(plans: PlansV2): string[] {
  const lines = [`${String(plans.plans_name)} (${String(plans.experiment_planner_used)}), transpose_forward ${JSON.stringify(plans.transpose_forward)}`];
  for (const [name, c] of Object.entries(plans.configurations)) {
    if (typeof c.inherits_from === 'string') {
      lines.push(`${name}: ${c.inherits_from} fed by ${String(c.previous_stage)}`);
      continue;
    }
    const size = (v: unknown) => (v as number[]).join(' x ');
    lines.push(`${name}: patch ${size(c.patch_size)}, batch ${String(c.batch_size)}, spacing ${size(c.spacing)}, median shape ${size(c.median_image_size_in_voxels)}`);
  }
  return lines;
}

export function runPlanV2(opts: PlanV2Opts): void {
  const plans = planV2FromFlags(opts);
  if (opts.json) printJson(plans);
  else console.log(summaryLines(plans).join('\n'));
}
