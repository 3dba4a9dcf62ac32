/**
 * `nnunet run -t 4`: one command, the whole pipeline. Embedded by default (dev server + in-process workers,
 * both stopped on exit or Ctrl-C; the workflow stays durable and the same command continues it). With
 * TEMPORAL_ADDRESS it only starts or attaches to the workflow and watches it (or returns at once with --detach).
 */
import type { Command } from 'commander';
import type { Config } from '../../config';
import type { Configuration, Fold, TaskPaths } from '../../activities/contract';
import type { TaskWorkflowInput } from '../../workflows/options';
import { configFor, positiveInt } from '../context';
import { collect, disableTtaOption, parseConfiguration, parseFold, stepSizeOption, validationFromFlags, type ValidationFlags } from '../options';

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
  /** Start the embedded server's web UI (off by default: anyone on this machine could use it). */
  ui?: boolean;
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

export function register(program: Command): void {
  program
    .command('run')
    .description('run the whole nnU-Net pipeline for a task as a durable workflow, with live progress; run it again to continue or attach')
    .option('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path to a task folder')
    .option('--demo', 'the built-in demo task (generated on first use)')
    .option('--large', 'with --demo: the large demo task 902 (~100x416x416 cases; plans 3d_lowres and the cascade), with settings that fit a CPU machine (printed)')
    .option('-c, --configurations <configs...>', 'configurations to train (default: all that planning creates)', collect(parseConfiguration))
    .option('-f, --folds <folds...>', 'folds 0..4 and/or all (default: 0 1 2 3 4)', collect(parseFold))
    .option('--trainer <name>', 'trainer (default from config: nnUNetTrainerV2)')
    .option('--epochs <n>', 'epochs per fold (default from config: 1000)', positiveInt('--epochs'))
    .option('--iters <n>', 'iterations per epoch (default from config: 250)', positiveInt('--iters'))
    .option('--no-find-best', 'skip find-best-configuration and postprocessing')
    .option('--no-verify', 'skip the dataset integrity check')
    .option('--npz', 'keep the validation softmax (needed for ensembling; on by default when find-best runs)')
    .addOption(disableTtaOption())
    .addOption(stepSizeOption())
    .option('--rerun', 'start again even if the task already completed (finished stages are skipped)')
    .option('--detach', 'start or attach, then return at once (needs a server that keeps running)')
    .option('--json', 'print the outcome (or, with --detach, the workflow id) as JSON on stdout')
    .option('--ui', 'with the embedded server: also start its web UI (anyone on this machine can use it; see docs/reliability.md)')
    .action(async (flags: RunFlags, cmd: Command) => {
      const config = configFor(cmd);
      const { runCommand } = await import('../run-task');
      await runCommand(config, flags);
    });
}
