/**
 * The task workflow's input from Config and the flags of `nnunet run` (also used by `nnunet sweep` and
 * `nnunet plan-and-preprocess --via-temporal`). Apart from the command modules so that the run command's
 * implementation (run-task.ts) and its registration (commands/run.ts) do not import each other.
 */
import type { Config } from '../config';
import type { Configuration, Fold, TaskPaths } from '../activities/contract';
import type { TaskWorkflowInput } from '../workflows/options';
import { validationFromFlags, type ValidationFlags } from './options';

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
  verify?: boolean;
  npz?: boolean;
  rerun?: boolean;
  detach?: boolean;
  json?: boolean;
}

export function taskInput(config: Config, paths: TaskPaths, flags: RunFlags): TaskWorkflowInput {
  const validation = validationFromFlags(flags);
  return {
    paths,
    options: {
      configurations: flags.configurations,
      folds: flags.folds,
      trainer: flags.trainer ?? config.training.trainer,
      epochs: flags.epochs ?? config.training.epochs,
      iterationsPerEpoch: flags.iters ?? config.training.iterationsPerEpoch,
      ...(validation ? { validation } : {}),
      findBest: flags.findBest,
      postprocess: flags.findBest,
      skipVerify: flags.verify === false,
      ...(flags.npz ? { saveSoftmax: true } : {}),
      numProcesses: config.numProcesses,
      gpuMemoryTargetGb: config.planning.gpuMemoryTargetGb,
    },
    timing: { trainHeartbeatTimeoutMs: config.training.heartbeatTimeoutSeconds * 1000 },
  };
}
