/**
 * `nnunet plan --fingerprint FILE.json [--json]` plans from a fingerprint alone (nnU-Net's dataset_properties as
 * JSON) and prints, per configuration, spacing, median shape, patch, batch, pooling, kernels and normalization.
 * `nnunet plan -t TASK` reads <preprocessed>/<task>/dataset_properties.json and writes the plans files there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { configurationsOf, planTask } from '../../activities/planning/activity';
import { findFingerprint, writePlansFile } from '../../activities/planning/plans-file';
import { plannerNames } from '../../activities/planning/registry';
import { formatSummary, summarizePlans } from '../../activities/planning/summary';
import { configFor, printJson, UsageError } from '../context';
import { stageSettings, type PlannerSettings } from '../settings';
import { DATASET_PROPERTIES_FILE } from '../../activities/io/layout';
import { resolveTask } from '../task-ref';
import { runPlanV2, wantsV2, type PlanV2Opts } from './plan-v2';
import { plannerNamesV2 } from '../../activities/planning/v2/presets';
import type { TaskPaths } from '../../activities/contract';

interface PlanOpts extends PlanV2Opts { task?: string; pl3d?: string; pl2d?: string }

function gb(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--gpu-memory must be a positive number of GB, got '${value}'`);
  return n;
}

function fromFingerprintOnly(file: string): TaskPaths {
  if (!fs.existsSync(file)) throw new UsageError(`--fingerprint ${file}: no such file`);
  const dir = path.dirname(path.resolve(file));
  return { taskName: path.basename(file, '.json'), rawDir: '', croppedDir: '', preprocessedDir: dir, resultsDir: '' };
}

export function register(program: Command): void {
  program
    .command('plan')
    .description('plan 2d / 3d_fullres / 3d_lowres configurations from a dataset fingerprint (nnU-Net v1 v2.1 planners)')
    .option('--fingerprint <file>', 'a fingerprint JSON (nnU-Net dataset_properties form); prints the plans, writes nothing')
    .option('-t, --task <task>', 'task id or folder name: read its fingerprint and write the plans into its preprocessed folder')
    .option('--pl3d <name>', '3D planner by name, or None (default ExperimentPlanner3D_v21)')
    .option('--pl2d <name>', '2D planner by name, or None (default ExperimentPlanner2D_v21)')
    .option('--gpu-memory <GB>', 'GPU memory target for the 3D planner: 8, 11, 32, ... (default from config: planning.gpuMemoryTargetGb)', gb)
    .option('--json', 'print the per-configuration summary as JSON (v2: the plans.json itself)')
    .option('--dataset-json <file>', 'nnU-Net v2: the dataset.json beside a v2 dataset_fingerprint.json given with --fingerprint')
    .option('--planner <class>', 'nnU-Net v2 planner class (default ExperimentPlanner with --dataset-json)')
    .option('--dataset-name <name>', 'nnU-Net v2: dataset_name in the plans (default: the folder holding dataset.json)')
    .option('--plans-name <name>', 'nnU-Net v2: plans name instead of the planner\'s (nnUNetv2_plan_experiment -overwrite_plans_name)')
    .option('--overwrite-target-spacing <z,y,x>', 'nnU-Net v2: 3d_fullres target spacing in array axis order (-overwrite_target_spacing)')
    .addHelpText('after', () => `\nplanners: ${plannerNames().join(', ')}\nnnU-Net v2 planners: ${plannerNamesV2().join(', ')}`)
    .action(async (opts: PlanOpts, cmd: Command) => {
      if (wantsV2(opts)) {
        if (opts.task !== undefined || opts.pl2d !== undefined || opts.pl3d !== undefined) throw new UsageError('nnU-Net v2 planning takes --fingerprint and --dataset-json, not -t / --pl2d / --pl3d');
        runPlanV2(opts);
        return;
      }
      const v2Only = ['planner', 'datasetName', 'plansName', 'overwriteTargetSpacing'] as const;
      const stray = v2Only.find((k) => opts[k] !== undefined);
      if (stray) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is for nnU-Net v2 planning: pass --dataset-json and a v2 --planner (${plannerNamesV2().join(', ')})`);
      if ((opts.fingerprint === undefined) === (opts.task === undefined)) throw new UsageError('pass exactly one of --fingerprint FILE or -t TASK');
      checkPlannerNames(opts);
      const config = configFor(cmd);
      let paths: TaskPaths;
      let fingerprintFile: string;
      if (opts.fingerprint !== undefined) {
        paths = fromFingerprintOnly(opts.fingerprint);
        fingerprintFile = opts.fingerprint;
      } else {
        paths = resolveTask(config, opts.task!).paths;
        const found = findFingerprint([paths.preprocessedDir, paths.croppedDir]);
        if (!found) throw new UsageError(`task ${opts.task}: no ${DATASET_PROPERTIES_FILE} in ${paths.preprocessedDir} or ${paths.croppedDir}; run \`nnunet fingerprint -t ${opts.task}\` first`);
        fingerprintFile = found;
      }
      const { rows, configurations, cascade } = planFrom(paths, fingerprintFile, stageSettings(config, opts).planner, opts.task !== undefined);
      if (opts.json) printJson({ configurations, cascade, plans: rows });
      else console.log(formatSummary(rows, cascade));
    });
}

/** Usage error for a planner name that is neither known nor None. */
export function checkPlannerNames(choice: { pl3d?: string; pl2d?: string }): void {
  for (const name of [choice.pl3d, choice.pl2d]) {
    if (name && name !== 'None' && name !== 'none' && !plannerNames().includes(name)) {
      throw new UsageError(`unknown planner "${name}"; known planners: ${plannerNames().join(', ')}`);
    }
  }
}

/** Plans from a fingerprint (a planner named None is left out) and, when write, writes the plans files; shared with plan-and-preprocess. */
export function planFrom(paths: TaskPaths, fingerprintFile: string, planner: PlannerSettings, write: boolean) {
  const input = { paths, fingerprintFile, planner: planner.list, gpuMemoryTargetGb: planner.gpuMemoryTargetGb };
  const planned = planTask(input).filter((p) => !planner.skip[p.plans.plans_kind]);
  if (write) for (const p of planned) writePlansFile(p.file, p.plans);
  const rows = planned.flatMap((p) => summarizePlans(p.plans, write ? p.file : undefined));
  const configurations = configurationsOf(planned);
  return { rows, configurations, cascade: configurations.includes('3d_lowres') };
}
