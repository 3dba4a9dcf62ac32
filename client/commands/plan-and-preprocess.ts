/**
 * `nnunet plan-and-preprocess -t 4 [5 ...]`: nnUNet_plan_and_preprocess in one command. Per task: verify (with
 * --verify), fingerprint, plan, preprocess (unless --no-pp). Directly, through the same functions as the
 * single-stage commands; or with --via-temporal as the task workflow with stopAfter 'preprocess' (train,
 * find-best and postprocess shown skipped). That run uses the task's workflow id; a later `nnunet run` has
 * other arguments, so it starts a new run whose finished stages skip their work.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config';
import type { TaskPaths } from '../../activities/contract';
import type { TaskWorkflowInput } from '../../workflows/options';
import type { DagNode } from '../../workflows/state';
import { configFor, positiveInt, printJson, UsageError, WorkFailedError } from '../context';
import { resolveTask } from '../task-ref';
import { isNonePlanner, stageSettings } from '../settings';
import { assertOutputFoldersWritable } from '../output-folders';
import { checkPlannerNames, planFrom } from './plan';
import { fingerprintTask } from './fingerprint';
import { plannedConfigurations, preprocessTask } from './preprocess';
import { verifyTask } from './verify';
import { taskInput } from '../task-input';
import { planPretrained, PRETRAINED_PLANNER } from '../../activities/planning/pretrained-plans';
import { writePlansFile } from '../../activities/planning/plans-file';

export interface PlanAndPreprocessFlags {
  task: string[];
  verify?: boolean;
  processes?: number;
  lowresProcesses?: number;
  pl3d?: string;
  pl2d?: string;
  /** false with --no-pp: stop after planning. */
  pp: boolean;
  /** nnU-Net -overwrite_plans / -overwrite_plans_identifier: preprocess with another dataset's 3D plans. */
  overwritePlans?: string;
  overwritePlansIdentifier?: string;
  viaTemporal?: boolean;
  json?: boolean;
}

/** One task, directly: the single-stage commands' functions in order. Throws WorkFailedError on a bad dataset. */
async function direct(config: Config, ref: string, paths: TaskPaths, flags: PlanAndPreprocessFlags) {
  const settings = stageSettings(config, flags);
  const { numProcesses } = settings;
  const out: Record<string, unknown> = { task: paths.taskName };
  if (flags.verify) {
    const report = await verifyTask(paths.rawDir, { json: flags.json });
    out.verify = report;
    if (!report.ok) throw new WorkFailedError(`${paths.rawDir}: the dataset failed verification (see above)`);
  }
  const fp = await fingerprintTask(paths, numProcesses, flags.json);
  out.fingerprint = fp;
  if (flags.overwritePlans) return { ...out, ...(await withPretrainedPlans(ref, paths, fp.fingerprintFile, flags, settings)) };
  const plan = planFrom(paths, fp.fingerprintFile, settings.planner, true);
  out.plan = { configurations: plan.configurations, cascade: plan.cascade };
  if (!flags.json) console.log(`${paths.taskName}: planned ${plan.configurations.join(', ')}`);
  if (flags.pp) {
    const configurations = plannedConfigurations(paths, settings.plansIdentifiers);
    out.preprocess = await preprocessTask(paths, ref, configurations, {
      plansIdentifiers: settings.plansIdentifiers, numProcesses, numProcessesLowres: settings.numProcessesLowres, json: flags.json,
    });
  }
  return out;
}

/**
 * -overwrite_plans FILE -overwrite_plans_identifier ID: the 3D plans are FILE's (activities/planning/pretrained-plans.ts),
 * written as nnUNetPlans_pretrained_ID, then the 3D configurations are preprocessed with them. nnU-Net adopts FILE
 * only when it preprocesses (with -no_pp it leaves its own plans under that name); here the plans are FILE's either way.
 */
async function withPretrainedPlans(ref: string, paths: TaskPaths, fingerprintFile: string, flags: PlanAndPreprocessFlags, settings: ReturnType<typeof stageSettings>) {
  const { plans, file, plansIdentifier } = planPretrained({ paths, fingerprintFile, sourceFile: path.resolve(flags.overwritePlans!), identifier: flags.overwritePlansIdentifier! });
  writePlansFile(file, plans);
  const ids = { '2d': plansIdentifier, '3d': plansIdentifier };
  const configurations = plannedConfigurations(paths, ids);
  if (!flags.json) {
    console.log(`${paths.taskName}: plans of ${flags.overwritePlans} written as ${file} (${configurations.join(', ')}); train with -p ${plansIdentifier}`);
  }
  const out: Record<string, unknown> = { plan: { configurations, plansIdentifier, plansFile: file } };
  if (flags.pp) {
    out.preprocess = await preprocessTask(paths, ref, configurations, { plansIdentifiers: ids, numProcesses: settings.numProcesses, numProcessesLowres: settings.numProcessesLowres, json: flags.json });
  }
  return out;
}

/** nnU-Net's rules for -overwrite_plans: with its identifier, with the Pretrained 3D planner (or none named), no 2D planning. */
export function checkOverwritePlans(flags: PlanAndPreprocessFlags, say: (line: string) => void): PlanAndPreprocessFlags {
  if (!flags.overwritePlans) {
    if (flags.overwritePlansIdentifier) throw new UsageError('--overwrite-plans-identifier needs --overwrite-plans FILE (the plans to use instead of planning)');
    if (flags.pl3d === PRETRAINED_PLANNER) throw new UsageError(`--pl3d ${PRETRAINED_PLANNER} needs --overwrite-plans FILE and --overwrite-plans-identifier ID`);
    return flags;
  }
  if (!flags.overwritePlansIdentifier) throw new UsageError('--overwrite-plans needs --overwrite-plans-identifier ID (the plans are then nnUNetPlans_pretrained_ID; nnU-Net: "You need to specify -overwrite_plans_identifier")');
  if (flags.pl3d !== undefined && flags.pl3d !== PRETRAINED_PLANNER) throw new UsageError(`with --overwrite-plans use --pl3d ${PRETRAINED_PLANNER} (or no --pl3d), got ${flags.pl3d}`);
  if (flags.viaTemporal) throw new UsageError('--overwrite-plans is not supported with --via-temporal (the workflow plans the task itself); run it directly');
  if (flags.pl2d === undefined || !isNonePlanner(flags.pl2d)) say("Overwriting plans only works for the 3d planner. I am setting '--planner2d' to None. This will skip 2d planning and preprocessing.");
  return { ...flags, pl3d: undefined, pl2d: 'None' };
}

/** The task workflow's input for a run that stops after preprocessing. */
export function stopAfterPreprocessInput(config: Config, paths: TaskPaths, flags: PlanAndPreprocessFlags): TaskWorkflowInput {
  const base = taskInput(config, paths, { processes: flags.processes, lowresProcesses: flags.lowresProcesses, pl3d: flags.pl3d, pl2d: flags.pl2d });
  return { ...base, options: { ...base.options, stopAfter: 'preprocess', skipVerify: !flags.verify } };
}

const STAGE_KINDS = new Set(['verify', 'fingerprint', 'plan', 'preprocess']);
const settledNode = (n: DagNode): boolean => n.status !== 'pending' && n.status !== 'running';

/** Every task through the workflow, one after another, in one Temporal session (embedded unless TEMPORAL_ADDRESS). */
async function viaTemporal(config: Config, tasks: Array<{ ref: string; paths: TaskPaths }>, flags: PlanAndPreprocessFlags) {
  if (isNonePlanner(flags.pl3d) || isNonePlanner(flags.pl2d)) throw new UsageError('--pl3d/--pl2d None is not supported with --via-temporal (the workflow plans both)');
  if (!flags.pp) throw new UsageError('--no-pp is not supported with --via-temporal (the workflow always preprocesses)');
  const say = (m: string): void => { (flags.json ? process.stderr : process.stdout).write(`${m}\n`); };
  const { openSession } = await import('../temporal/session');
  const { startOrAttachTask, describeTaskState, taskWorkflowIdFor } = await import('../temporal/task-client');
  const session = await openSession(config, { worker: !config.temporal.address, say });
  const results = [];
  try {
    for (const { paths } of tasks) {
      const workflowId = taskWorkflowIdFor(paths.taskName);
      const started = await startOrAttachTask(session.client, stopAfterPreprocessInput(config, paths, flags));
      say(started.attached ? `attached to ${workflowId} (${started.status.toLowerCase()})` : `started ${workflowId} (stops after preprocessing)`);
      // Attached to a full run: wait only for its preprocessing stages, not for its training.
      let nodes: DagNode[] = [];
      for (;;) {
        const status = (await started.handle.describe()).status.name;
        nodes = await describeTaskState(session.client, workflowId).then((s) => s.nodes, () => nodes);
        const stage = nodes.filter((n) => STAGE_KINDS.has(n.kind));
        if (status !== 'RUNNING' || (stage.length > 0 && stage.every(settledNode))) {
          if (status !== 'RUNNING' && status !== 'COMPLETED' && !stage.every(settledNode)) throw new WorkFailedError(`${workflowId} ended ${status.toLowerCase()}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 300));
      }
      if (!started.attached) await started.handle.result().catch(() => undefined); // ends within a moment: the rest is skipped
      const failed = nodes.filter((n) => STAGE_KINDS.has(n.kind) && n.status !== 'done' && !(n.status === 'skipped' && (n.kind === 'verify' || n.kind === 'preprocess')));
      if (!flags.json) for (const n of nodes) say(`  ${n.id}: ${n.status}${n.error ? ` (${n.error})` : ''}`);
      results.push({ task: paths.taskName, workflowId, attached: started.attached, nodes });
      if (failed.length > 0) throw new WorkFailedError(`${workflowId}: ${failed.map((n) => `${n.id} ${n.status}${n.error ? `: ${n.error}` : ''}`).join('; ')}`);
    }
  } finally {
    await session.close();
  }
  return results;
}

export function register(program: Command): void {
  program
    .command('plan-and-preprocess')
    .description('nnUNet_plan_and_preprocess: verify (optional), fingerprint, plan and preprocess each task')
    .requiredOption('-t, --task <tasks...>', 'task ids (4 5), folder names or paths')
    .option('--verify', 'check the dataset first (nnU-Net --verify_dataset_integrity)')
    .option('-p, --processes <n>', 'worker threads for fingerprint and preprocessing (nnU-Net -tf); default: config numProcesses', positiveInt('--processes'))
    .option('--lowres-processes <n>', 'worker threads for 3d_lowres preprocessing (nnU-Net -tl); default: --processes', positiveInt('--lowres-processes'))
    .option('--pl3d <name>', '3D planner by name, or None (default ExperimentPlanner3D_v21)')
    .option('--pl2d <name>', '2D planner by name, or None (default ExperimentPlanner2D_v21)')
    .option('--no-pp', 'plan only, do not preprocess (nnU-Net -no_pp)')
    .option('--overwrite-plans <file>', `preprocess with this plans file (another dataset's *_plans_3D.pkl or .json) instead of planning, so pretrained weights fit (nnU-Net -overwrite_plans, with --pl3d ${PRETRAINED_PLANNER})`)
    .option('--overwrite-plans-identifier <id>', 'names the plans nnUNetPlans_pretrained_ID (train with -p nnUNetPlans_pretrained_ID; nnU-Net -overwrite_plans_identifier)')
    .option('--via-temporal', 'run as the task workflow (stops after preprocessing) instead of in this process')
    .option('--json', 'print the per-task results as JSON')
    .action(async (given: PlanAndPreprocessFlags, cmd: Command) => {
      const config = configFor(cmd);
      const flags = checkOverwritePlans(given, (line) => process.stderr.write(`${line}\n`));
      checkPlannerNames(flags);
      const tasks = flags.task.map((ref) => ({ ref, paths: resolveTask(config, ref).paths }));
      // Where this machine writes (directly, or through the embedded workers): checked before any stage runs.
      if (!flags.viaTemporal || !config.temporal.address) assertOutputFoldersWritable(config, ['cropped data', 'preprocessed']);
      let results: unknown[];
      if (flags.viaTemporal) results = await viaTemporal(config, tasks, flags);
      else {
        results = [];
        for (const { ref, paths } of tasks) results.push(await direct(config, ref, paths, flags));
      }
      if (flags.json) printJson(results);
    });
}
