/**
 * The task workflow's input from Config and the flags of `nnunet run` (also used by `nnunet sweep` and
 * `nnunet plan-and-preprocess --via-temporal`). Apart from the command modules so that the run command's
 * implementation (run-task.ts) and its registration (commands/run.ts) do not import each other.
 */
import * as fs from 'node:fs';
import type { Config } from '../config';
import { testImagesFolder } from '../activities/io/layout';
import { UsageError } from './context';
import type { Configuration, Fold, TaskPaths } from '../activities/contract';
import type { TaskWorkflowInput } from '../workflows/options';
import { validationFromFlags, type ValidationFlags } from './options';
import { assertKnownTrainer, methodFor, stageSettings, v2Settings, type SettingsFlags, type V2Settings } from './settings';

export interface RunFlags extends ValidationFlags {
  task?: string;
  demo?: boolean;
  large?: boolean;
  configurations?: Configuration[];
  folds?: Fold[];
  trainer?: string;
  epochs?: number;
  iters?: number;
  findBest?: boolean;
  /** Predict imagesTs at the end (nnunet run sets it with predictTestSet; other callers leave it off). */
  predict?: boolean;
  verify?: boolean;
  npz?: boolean;
  rerun?: boolean;
  detach?: boolean;
  json?: boolean;
  /** Start the embedded server's web UI (off by default: anyone on this machine could use it). */
  ui?: boolean;
  /** v1 (nnU-Net v1) or v2 (nnU-Net v2); absent: `planning.method`, else v1. */
  method?: string;
  /** With --method v2: the v2 planner class (default `planning.v2Planner`, else ExperimentPlanner). */
  planner?: string;
}

/** The task workflow's input: the run's flags, plus the planner and process flags of plan-and-preprocess --via-temporal. */
export type TaskInputFlags = RunFlags & Pick<SettingsFlags, 'processes' | 'lowresProcesses' | 'pl3d' | 'pl2d'>;

/** Whether the task's imagesTs holds any image (an empty folder, as MSD conversions leave, has nothing to predict). */
function hasTestImages(paths: TaskPaths): boolean {
  const dir = testImagesFolder(paths);
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => !f.startsWith('.'));
}

/** nnunet run's --predict / --no-predict: on by default when the task has test images and find-best runs. */
export function predictTestSet(paths: TaskPaths, flags: Pick<RunFlags, 'predict' | 'findBest'>): boolean {
  const testImages = hasTestImages(paths);
  if (flags.predict === true && !testImages) throw new UsageError(`--predict: ${testImagesFolder(paths)} has no images; leave out --predict`);
  if (flags.predict === true && flags.findBest === false) throw new UsageError('--predict needs find-best (it predicts with its winner); leave out --no-find-best');
  return flags.findBest !== false && (flags.predict ?? testImages);
}

/** The method's own options: v2's planner, GPU memory target and trainer replace v1's planner list and trainer. */
function methodOptions(config: Config, flags: TaskInputFlags): TaskWorkflowInput['options'] | undefined {
  if (methodFor(config, flags.method) !== 'v2') {
    if (flags.planner !== undefined) throw new UsageError('--planner names an nnU-Net v2 planner: add --method v2 (v1\'s planners: nnunet plan-and-preprocess -pl3d/-pl2d)');
    return undefined;
  }
  if (validationFromFlags(flags)) throw new UsageError('--disable-tta / --step-size set v1\'s fold validation; nnU-Net v2\'s fold validation has no such options: leave them out with --method v2');
  const v2: V2Settings = v2Settings(config, { planner: flags.planner, trainer: flags.trainer });
  return { method: 'v2', planner: v2.planner, gpuMemoryTargetGb: v2.gpuMemoryTargetGb, trainer: v2.trainer };
}

export function taskInput(config: Config, paths: TaskPaths, flags: TaskInputFlags): TaskWorkflowInput {
  const validation = validationFromFlags(flags);
  const settings = stageSettings(config, flags);
  const v2 = methodOptions(config, flags);
  if (!v2) assertKnownTrainer(settings.trainer, config.training.trainerPaths);
  return {
    paths,
    options: {
      configurations: flags.configurations,
      folds: flags.folds,
      trainer: settings.trainer,
      epochs: settings.epochs,
      iterationsPerEpoch: settings.iterationsPerEpoch,
      ...(validation ? { validation } : {}),
      findBest: flags.findBest,
      postprocess: flags.findBest,
      ...(flags.predict ? { predict: true } : {}),
      skipVerify: flags.verify === false,
      ...(flags.npz ? { saveSoftmax: true } : {}),
      numProcesses: settings.numProcesses,
      ...(settings.numProcessesLowres !== undefined ? { numProcessesLowres: settings.numProcessesLowres } : {}),
      gpuMemoryTargetGb: settings.planner.gpuMemoryTargetGb,
      ...(settings.planner.list ? { planner: settings.planner.list } : {}),
      // v2's planner and trainer; its GPU memory target undefined (dropped) unless set: each v2 preset has its own.
      ...(v2 ?? {}),
    },
    timing: { trainHeartbeatTimeoutMs: config.training.heartbeatTimeoutSeconds * 1000 },
  };
}
