/**
 * `nnunet run -t 4`: one command, the whole pipeline. Embedded by default (dev server + in-process workers,
 * both stopped on exit or Ctrl-C; the workflow stays durable and the same command continues it). With
 * TEMPORAL_ADDRESS it only starts or attaches to the workflow and watches it (or returns at once with --detach).
 */
import type { Command } from 'commander';
import { configFor, positiveInt } from '../context';
import { collect, disableTtaOption, parseConfiguration, parseFold, stepSizeOption } from '../options';
import type { RunFlags } from '../task-input';

export function register(program: Command): void {
  program
    .command('run')
    .description('run the whole nnU-Net pipeline for a task as a durable workflow, with live progress; run it again to continue or attach')
    .option('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path to a task folder')
    .option('--demo', 'the built-in demo task (generated on first use)')
    .option('--large', 'with --demo: the large demo task 902 (~100x416x416 cases; plans 3d_lowres and the cascade), with settings that fit a CPU machine (printed)')
    .option('-c, --configurations <configs...>', 'configurations to train (default: all that planning creates)', collect(parseConfiguration))
    .option('-f, --folds <folds...>', 'folds 0..4 and/or all (default: 0 1 2 3 4)', collect(parseFold))
    .option('--method <v1|v2>', 'nnU-Net v1 (default) or v2\'s method for every step (default from config: planning.method); v2 runs on a Dataset folder, converting a v1 Task once')
    .option('--planner <class>', 'with --method v2: the v2 planner, ExperimentPlanner (default from config: planning.v2Planner) or nnUNetPlannerResEncM / L / XL')
    .option('--trainer <name>', 'trainer (default from config: training.trainer; with --method v2 nnUNetTrainer)')
    .option('--epochs <n>', 'epochs per fold (default from config: 1000)', positiveInt('--epochs'))
    .option('--iters <n>', 'iterations per epoch (default from config: 250)', positiveInt('--iters'))
    .option('--no-find-best', 'skip find-best-configuration and postprocessing')
    .option('--no-verify', 'skip the dataset integrity check')
    .option('--predict', 'end by predicting the task\'s imagesTs with the best configuration or ensemble and its postprocessing (default when imagesTs holds images)')
    .option('--no-predict', 'do not predict the test set at the end')
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
