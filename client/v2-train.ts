/**
 * nnUNetv2_train DATASET CONFIGURATION FOLD [-tr TRAINER] [-p PLANS] [--c] [--val [--val_best]] [--npz] ...: one fold
 * of nnU-Net v2's trainer as its own durable fold workflow (client/run-fold.ts), as nnUNet_train does for v1: any
 * number of folds at once, each resumable from its newest checkpoint; a call for a fold that is training attaches
 * to it; without --c the fold starts over. `nnunet train --method v2 CONFIGURATION TRAINER DATASET FOLD` trains the
 * same fold in this process (as `nnunet train` without --via-temporal). The budget comes from the config
 * (NNUNET_EPOCHS, NNUNET_ITERATIONS_PER_EPOCH) when it differs from nnU-Net's 1000 × 250, so a trainer variant keeps
 * its own schedule otherwise. The fold is validated at the end (fold_X/validation with summary.json; --npz adds the
 * probabilities); --val only validates a trained fold; --val_best validates with checkpoint_best.pth.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import type { Configuration, Fold, TaskPaths, TrainInput } from '../activities/contract';
import { BadInputError } from '../activities/common/errors';
import { plansV2File } from '../activities/io/layout';
import { trainerSettingsV2 } from '../activities/training/v2/variants';
import type { TrainFoldResult } from '../activities/training/train-fold';
import { UsageError, WorkFailedError } from './context';
import { resolveDataset, V2NotAvailable, type V2Handler } from './v2-commands';

const DEFAULT_BUDGET = { epochs: 1000, iterationsPerEpoch: 250 } as const;

/** One v2 fold as asked for on a command line (nnUNetv2_train's flags, or `nnunet train --method v2`'s). */
export interface V2TrainRequest {
  configuration: string;
  fold: string;
  trainer: string;
  plansName: string;
  continue?: boolean;
  npz?: boolean;
  validationOnly?: boolean;
  validationCheckpoint?: 'final' | 'best';
  pretrainedWeights?: string;
  disableCheckpointing?: boolean;
  /** Budget overrides of the command line; absent: the config's, when it is not nnU-Net's default. */
  epochs?: number;
  iterationsPerEpoch?: number;
}

function foldOf(v: string): number | 'all' {
  if (v === 'all') return 'all';
  if (!/^\d+$/.test(v)) throw new UsageError(`fold must be an integer or 'all', got '${v}'`);
  return Number(v);
}

/** The config's budget where it is not nnU-Net's default, then the command line's. */
function budgetOf(config: Config, r: V2TrainRequest): Pick<TrainInput, 'epochs' | 'iterationsPerEpoch'> {
  const { epochs, iterationsPerEpoch } = config.training;
  const e = r.epochs ?? (epochs !== DEFAULT_BUDGET.epochs ? epochs : undefined);
  const i = r.iterationsPerEpoch ?? (iterationsPerEpoch !== DEFAULT_BUDGET.iterationsPerEpoch ? iterationsPerEpoch : undefined);
  return { ...(e !== undefined ? { epochs: e } : {}), ...(i !== undefined ? { iterationsPerEpoch: i } : {}) };
}

/**
 * The `train` activity's input for a v2 fold. An unknown trainer, missing plans or a configuration the plans lack
 * fail here, before any workflow starts. The configuration and fold are the plans' and splits_final.json's own
 * names (v2 allows more than v1's four configurations and five folds).
 */
export function v2TrainInput(config: Config, paths: TaskPaths, r: V2TrainRequest): TrainInput {
  trainerSettingsV2(r.trainer);
  if (r.validationCheckpoint === 'best' && r.disableCheckpointing) throw new UsageError('--val_best is not compatible with --disable_checkpointing');
  const plansFile = plansV2File(paths.preprocessedDir, r.plansName);
  if (!fs.existsSync(plansFile)) throw new BadInputError(`${plansFile}: missing; run nnUNetv2_plan_and_preprocess (or pass -p with the plans name)`, plansFile);
  const configurations = (JSON.parse(fs.readFileSync(plansFile, 'utf8')) as { configurations?: Record<string, unknown> }).configurations ?? {};
  if (!(r.configuration in configurations)) {
    throw new BadInputError(`${plansFile}: no configuration ${r.configuration} (has ${Object.keys(configurations).join(', ')})`, plansFile);
  }
  return {
    method: 'v2', plansName: r.plansName, plansFile, paths: { ...paths, resultsDir: config.paths.results },
    configuration: r.configuration as Configuration, fold: foldOf(r.fold) as Fold, trainer: r.trainer,
    continueTraining: r.continue === true, saveSoftmax: r.npz === true, validationCheckpoint: r.validationCheckpoint ?? 'final',
    ...(r.validationOnly ? { validationOnly: true } : {}),
    ...(r.pretrainedWeights ? { pretrainedWeights: path.resolve(r.pretrainedWeights) } : {}),
    ...(r.disableCheckpointing ? { disableSaving: true } : {}),
    ...budgetOf(config, r),
  };
}

/** Flags of nnUNetv2_train that need pieces nnunet-ts's v2 trainer does not have yet. */
function refuseUnavailable(prog: string, values: Record<string, unknown>): void {
  if (Number(values.num_gpus ?? 1) !== 1) throw new V2NotAvailable(`${prog}: -num_gpus needs multi-GPU (DDP) training, not available for the v2 trainer yet; train several folds at once instead`);
}

export const trainV2: V2Handler = async (prog, args, config: Config) => {
  const v = args.values as Record<string, unknown>;
  refuseUnavailable(prog, v);
  const { paths } = resolveDataset(config, String(v.dataset_name_or_id));
  let input: TrainInput;
  try {
    input = v2TrainInput(config, paths, {
      configuration: String(v.configuration), fold: String(v.fold), trainer: String(v.tr), plansName: String(v.p),
      continue: v.c === true, npz: v.npz === true, validationOnly: v.val === true, validationCheckpoint: v.val_best === true ? 'best' : 'final',
      ...(typeof v.pretrained_weights === 'string' ? { pretrainedWeights: v.pretrained_weights } : {}), disableCheckpointing: v.disable_checkpointing === true,
    });
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${prog}: ${err.message}`);
    throw err;
  }
  const { runFoldCommand } = await import('./run-fold');
  await runFoldCommand(config, paths, input, { continue: v.c === true });
};

/**
 * `nnunet train --method v2` without --via-temporal: the fold in this process, by the function the `train` activity
 * runs (activities/training/v2/run-fold.ts). Without -c it starts over; Ctrl-C stops after the current iteration
 * with checkpoint_latest.pth written, and -c continues.
 */
export async function trainV2InProcess(config: Config, input: TrainInput, log?: (line: string) => void): Promise<Extract<TrainFoldResult, { status: 'done' }>> {
  const { runTrainingFoldV2 } = await import('../activities/training/v2/run-fold');
  const { augmentationWorkers, precision } = config.training;
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after the current iteration (checkpoint_latest.pth is written); Ctrl-C again to quit at once\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const startOver = input.continueTraining || input.validationOnly ? {} : { startOver: randomUUID() };
    const runtime = {
      backend: config.worker.backend, ...(augmentationWorkers === 'auto' ? {} : { numWorkers: augmentationWorkers }),
      ...(precision === 'bfloat16' ? { precision } : {}),
    };
    const result = await runTrainingFoldV2({ ...input, ...startOver, runtime }, { log, shouldStop: () => stop });
    if (result.status === 'stopped') throw new WorkFailedError(`stopped after epoch ${result.epoch}; state saved in ${result.checkpoint}; continue with -c`);
    return result;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
