/**
 * `nnunet train CONFIGURATION TRAINER TASK FOLD [-c] [--npz] [--epochs N] [--iters N]`: nnUNet_train's arguments,
 * one fold trained in this process (no Temporal) by the same function the `train` activity runs. -c continues
 * from the newest valid checkpoint; a finished fold returns at once. Ctrl-C writes a checkpoint and stops.
 * `--method v2`: an nnU-Net v2 fold (DATASET, a v2 trainer, --plans-identifier the v2 plans name; client/v2-train.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CONFIGURATIONS, type Configuration, type Fold, type TrainInput } from '../../activities/contract';
import { runTrainingFold, type TrainRuntimeOptions } from '../../activities/training/train-fold';
import type { Config } from '../../config/schema';
import { configFor, positiveInt, printJson, UsageError, WorkFailedError } from '../context';
import { disableTtaOption, stepSizeOption, validationFromFlags, type ValidationFlags } from '../options';
import { resolveTask } from '../task-ref';
import { methodOf } from './method-v2';
import { assertKnownTrainer, plansIdentifierFor, stageSettings } from '../settings';
import { DEFAULT_TRAINER, plansFile as taskPlansFile, RESULT_FOLDERS, trainerFor } from '../../activities/io/layout';

interface TrainOpts extends ValidationFlags {
  continue?: boolean; npz?: boolean; epochs?: number; iters?: number; plansIdentifier?: string; json?: boolean; quiet?: boolean;
  viaTemporal?: boolean; detach?: boolean; method?: string; pretrainedWeights?: string; validationOnly?: boolean; valbest?: boolean; validation?: boolean; nextStage?: boolean;
  valFolder?: string; valDisableOverwrite?: boolean; disableSaving?: boolean; findLr?: boolean; foldPostprocessing?: boolean;
}

/** nnU-Net's find_lr runs 1000 iterations. */
const FIND_LR_ITERATIONS = 1000;

function parseFold(s: string): Fold {
  if (s === 'all') return 'all';
  if (/^[0-4]$/.test(s)) return Number(s) as Fold;
  throw new UsageError(`FOLD must be 0-4 or 'all', got '${s}'`);
}

function parseConfiguration(s: string): Configuration {
  if ((CONFIGURATIONS as readonly string[]).includes(s)) return s as Configuration;
  throw new UsageError(`unknown configuration '${s}'; use ${CONFIGURATIONS.join(', ')}`);
}

/** A training in this process: the user's trainers and the batch workers from the config. */
function localRuntime(config: Config): TrainRuntimeOptions {
  const { trainerPaths, augmentationWorkers, precision } = config.training;
  return { trainerPaths, ...(augmentationWorkers === 'auto' ? {} : { numWorkers: augmentationWorkers }), ...(precision === 'bfloat16' ? { precision } : {}) };
}

/** --find-lr: in this process (a plot, nothing durable to resume). */
async function findLr(input: TrainInput, opts: TrainOpts, runtime: TrainRuntimeOptions): Promise<void> {
  const iterations = opts.iters ?? FIND_LR_ITERATIONS;
  const result = await runTrainingFold({ ...input, runtime: { ...runtime, findLr: { iterations } } }, {
    log: opts.quiet || opts.json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  if (result.status !== 'done' || !result.lrFinder) throw new WorkFailedError('the learning-rate finder did not finish');
  if (opts.json) printJson(result.lrFinder);
  else console.log(`${result.lrFinder.plot}: loss against learning rate over ${result.lrFinder.losses.length} iterations`);
}

/** --method v2: nnU-Net v2's fold, in this process or (--via-temporal) as the fold workflow nnUNetv2_train starts. */
async function trainV2Fold(config: Config, args: { configuration: string; trainer: string; task: string; fold: string }, opts: TrainOpts): Promise<void> {
  const v1Only = {
    '--disable-tta': opts.disableTta, '--step-size': opts.stepSize !== undefined, '--no-next-stage': opts.nextStage === false, '--val-folder': opts.valFolder,
    '--val-disable-overwrite': opts.valDisableOverwrite, '--no-fold-postprocessing': opts.foldPostprocessing === false, '--find-lr': opts.findLr,
  };
  const given = Object.entries(v1Only).filter(([, on]) => on).map(([flag]) => flag);
  if (given.length) throw new UsageError(`${given.join(', ')}: nnU-Net v1 options, not available with --method v2`);
  const { v2TrainInput, trainV2InProcess } = await import('../v2-train');
  const { resolveDataset } = await import('../v2-commands');
  const { paths } = resolveDataset(config, args.task);
  const input: TrainInput = {
    ...v2TrainInput(config, paths, {
      configuration: args.configuration, fold: args.fold, trainer: args.trainer, plansName: opts.plansIdentifier ?? 'nnUNetPlans', continue: opts.continue, npz: opts.npz,
      validationOnly: opts.validationOnly, validationCheckpoint: opts.valbest ? 'best' : 'final', pretrainedWeights: opts.pretrainedWeights,
      disableCheckpointing: opts.disableSaving, epochs: opts.epochs, iterationsPerEpoch: opts.iters,
    }),
    ...(opts.validation === false ? { skipValidation: true } : {}),
  };
  if (opts.viaTemporal) {
    const { runFoldCommand } = await import('../run-fold');
    await runFoldCommand(config, paths, input, { continue: opts.continue, json: opts.json, detach: opts.detach });
    return;
  }
  const result = await trainV2InProcess(config, input, opts.quiet || opts.json ? undefined : (line) => process.stderr.write(`${line}\n`));
  if (opts.json) printJson(result);
  else console.log(`${result.foldDir}: ${result.epochs} epochs${result.validationMeanDice === undefined ? '' : `, validation mean Dice ${result.validationMeanDice.toFixed(4)}`}`);
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train one fold of a configuration (nnUNet_train), in this process')
    .argument('<configuration>', CONFIGURATIONS.join(' | '))
    .argument('<trainer>', `trainer name from the registry (${DEFAULT_TRAINER}, ...)`)
    .argument('<task>', 'task id (4), folder name (Task004_Hippocampus) or path of the task folder')
    .argument('<fold>', "0-4, or 'all' (train on every case)")
    .option('-c, --continue', 'continue from the newest valid checkpoint')
    .option('--npz', 'also save the softmax of the validation cases (needed for ensembling)')
    .option('--epochs <n>', 'epochs (default from config: training.epochs; nnU-Net: 1000)', positiveInt('--epochs'))
    .option('--iters <n>', 'training iterations per epoch (default from config: training.iterationsPerEpoch; nnU-Net: 250; validation iterations scale 1:5)', positiveInt('--iters'))
    .option('--plans-identifier <id>', 'plans identifier of the plans files (default: as planned with planning.gpuMemoryTargetGb)')
    .addOption(disableTtaOption())
    .addOption(stepSizeOption())
    .option('--validation-only', 'validate the trained fold again from its final checkpoint; no training (nnUNet_train -val)')
    .option('--valbest', 'with --validation-only: validate from model_best instead (nnUNet_train --valbest)')
    .option('--no-validation', 'train without the final validation (nnUNet_train --disable_validation_inference)')
    .option('--no-next-stage', '3d_lowres: write no pred_next_stage maps (nnUNet_train --disable_next_stage_pred)')
    .option('--pretrained-weights <file>', 'start from the weights of this checkpoint (nnU-Net .model or ours; nnUNet_train -pretrained_weights); ignored when continuing')
    .option('--val-folder <name>', `validation folder name in fold_X instead of ${RESULT_FOLDERS.validation} (nnUNet_train --val_folder); find-best and ensembling read ${RESULT_FOLDERS.validation} only`)
    .option('--val-disable-overwrite', 'a validation keeps the cases its folder holds already instead of predicting them again (nnUNet_train --val_disable_overwrite)')
    .option('--no-fold-postprocessing', 'the validation decides no postprocessing of the fold alone (nnUNet_train --disable_postprocessing_on_folds)')
    .option('--disable-saving', 'no model_best while training, and no checkpoint kept once the fold is validated (nnUNet_train --disable_saving)')
    .option('--find-lr', `only nnU-Net's learning-rate range test: ${FIND_LR_ITERATIONS} iterations (or --iters) at a growing learning rate, plotted to fold_X/lr_finder.png; nothing trained is kept (nnUNet_train --find_lr)`)
    .option('--via-temporal', 'run the fold as its own durable workflow (what nnUNet_train does): any number of folds at once, each resumable; without -c the fold starts over')
    .option('--detach', 'with --via-temporal: start or attach, then return at once (needs a server that keeps running)')
    .option('--method <v1|v2>', 'v2: an nnU-Net v2 fold (TASK a DatasetXXX, TRAINER a v2 trainer, --plans-identifier the v2 plans name, default nnUNetPlans), as nnUNetv2_train', 'v1')
    .option('-q, --quiet', 'no per-epoch lines on stderr')
    .option('--json', 'print the result as JSON')
    .action(async (configurationArg: string, trainer: string, taskArg: string, foldArg: string, opts: TrainOpts, cmd: Command) => {
      if (methodOf(opts.method) === 'v2') {
        await trainV2Fold(configFor(cmd), { configuration: configurationArg, trainer, task: taskArg, fold: foldArg }, opts);
        return;
      }
      const configuration = parseConfiguration(configurationArg);
      const fold = parseFold(foldArg);
      const config = configFor(cmd);
      const { paths } = resolveTask(config, taskArg);
      const settings = stageSettings(config, { plans: opts.plansIdentifier, trainer, epochs: opts.epochs, iters: opts.iters });
      assertKnownTrainer(trainerFor(configuration, settings.trainer), config.training.trainerPaths);
      const plansIdentifier = plansIdentifierFor(settings, configuration);
      const plansFile = taskPlansFile(paths, plansIdentifier, configuration);
      if (!fs.existsSync(plansFile)) throw new UsageError(`${plansFile}: no such plans file; run \`nnunet plan -t ${taskArg}\` and \`nnunet preprocess -t ${taskArg}\` first`);
      if (opts.valbest && !opts.validationOnly) process.stderr.write('--valbest applies to --validation-only (nnU-Net: -val --valbest); training validates from the final checkpoint\n');
      const input: TrainInput = {
        paths, plansFile, plansIdentifier, configuration, fold, trainer: settings.trainer, epochs: settings.epochs, iterationsPerEpoch: settings.iterationsPerEpoch,
        continueTraining: opts.continue, saveSoftmax: opts.npz, validation: validationFromFlags(opts),
        ...(opts.validationOnly ? { validationOnly: true, validationCheckpoint: opts.valbest ? 'best' as const : 'final' as const } : {}),
        ...(opts.validation === false ? { skipValidation: true } : {}),
        ...(opts.nextStage === false ? { skipNextStage: true } : {}),
        ...(opts.pretrainedWeights ? { pretrainedWeights: path.resolve(opts.pretrainedWeights) } : {}),
        ...(opts.valFolder ? { validationFolderName: opts.valFolder } : {}),
        ...(opts.valDisableOverwrite ? { keepExistingValidation: true } : {}),
        ...(opts.disableSaving ? { disableSaving: true } : {}),
        ...(opts.foldPostprocessing === false ? { skipFoldPostprocessing: true } : {}),
      };
      if (opts.findLr) {
        await findLr(input, opts, localRuntime(config));
        return;
      }
      if (opts.viaTemporal) {
        const { runFoldCommand } = await import('../run-fold');
        await runFoldCommand(config, paths, input, { continue: opts.continue, json: opts.json, detach: opts.detach });
        return;
      }

      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
        process.stderr.write('\nstopping after the current iteration (a checkpoint is written); Ctrl-C again to quit at once\n');
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await runTrainingFold(
          { ...input, runtime: localRuntime(config) },
          {
            shouldStop: () => stop,
            log: opts.quiet || opts.json ? undefined : (line) => process.stderr.write(`${line}\n`),
          },
        );
        if (opts.json) printJson(result);
        if (result.status === 'stopped') {
          throw new WorkFailedError(`stopped after epoch ${result.epoch}; state saved in ${result.checkpoint}. Continue with: nnunet train ${configuration} ${trainer} ${taskArg} ${foldArg} -c`);
        }
        if (!opts.json) {
          const dice = result.validationMeanDice === undefined ? '' : `, validation mean Dice ${result.validationMeanDice.toFixed(4)}`;
          console.log(`${result.foldDir}: ${result.epochs} epochs${dice}`);
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
