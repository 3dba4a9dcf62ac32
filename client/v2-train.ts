/**
 * nnUNetv2_train DATASET CONFIGURATION FOLD [-tr TRAINER] [-p PLANS] [--c]: one fold of nnU-Net v2's trainer in
 * this process (activities/training/v2/train-fold.ts), like `nnunet train` without --via-temporal. The budget
 * comes from the config (NNUNET_EPOCHS, NNUNET_ITERATIONS_PER_EPOCH) when it differs from nnU-Net's 1000 × 250,
 * so a trainer variant keeps its own schedule otherwise. Ctrl-C stops after the current iteration with
 * checkpoint_latest.pth written; --c continues. The fold is validated at the end (fold_X/validation with
 * summary.json; --npz adds the probabilities); --val only validates a trained fold; --val_best validates with checkpoint_best.pth.
 */
import * as path from 'node:path';
import type { Config } from '../config';
import { trainFoldV2, validateTrainedFoldV2, type TrainFoldV2Input } from '../activities/training/v2/train-fold';
import type { ValidateFoldV2Result } from '../activities/training/v2/validate-fold';
import { trainerSettingsV2 } from '../activities/training/v2/variants';
import { UsageError, WorkFailedError } from './context';
import { resolveDataset, V2NotAvailable, type V2Handler } from './v2-commands';

const DEFAULT_BUDGET = { epochs: 1000, iterationsPerEpoch: 250 } as const;

function foldOf(prog: string, v: unknown): number | 'all' {
  const s = String(v);
  if (s === 'all') return 'all';
  if (!/^\d+$/.test(s)) throw new UsageError(`${prog}: fold must be an integer or 'all', got '${s}'`);
  return Number(s);
}

/** Flags of nnUNetv2_train that need pieces nnunet-ts's v2 trainer does not have yet. */
function refuseUnavailable(prog: string, values: Record<string, unknown>): void {
  const notYet = (flag: string, what: string) => new V2NotAvailable(`${prog}: ${flag} needs ${what}, not available for the v2 trainer yet`);
  if (Number(values.num_gpus ?? 1) !== 1) throw notYet('-num_gpus', 'multi-GPU (DDP) training');
}

const report = (r: ValidateFoldV2Result): void => console.log(`${r.summaryFile}: mean validation Dice ${r.summary.foreground_mean.Dice}`);

export const trainV2: V2Handler = async (prog, args, config: Config) => {
  const v = args.values as Record<string, unknown>;
  refuseUnavailable(prog, v);
  const { paths } = resolveDataset(config, String(v.dataset_name_or_id));
  const trainer = String(v.tr);
  trainerSettingsV2(trainer); // an unknown trainer fails before any work
  const fold = foldOf(prog, v.fold);
  const budget = config.training;
  const common: TrainFoldV2Input = {
    preprocessedDir: paths.preprocessedDir, resultsRoot: config.paths.results, rawDir: paths.rawDir, datasetName: paths.taskName,
    configuration: String(v.configuration), fold, trainer, plansName: String(v.p), saveProbabilities: v.npz === true, backend: config.worker.backend,
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (v.val_best === true && v.disable_checkpointing === true) throw new UsageError(`${prog}: --val_best is not compatible with --disable_checkpointing`);
  if (v.val === true) {
    report(await validateTrainedFoldV2(common, v.val_best === true ? 'best' : 'final', log));
    return;
  }
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after the current iteration (checkpoint_latest.pth is written); Ctrl-C again to quit at once\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await trainFoldV2({
      ...common, continueTraining: v.c === true,
      ...(typeof v.pretrained_weights === 'string' ? { pretrainedWeights: path.resolve(v.pretrained_weights) } : {}),
      disableCheckpointing: v.disable_checkpointing === true, validationCheckpoint: v.val_best === true ? 'best' : 'final',
      ...(budget.epochs !== DEFAULT_BUDGET.epochs ? { epochs: budget.epochs } : {}),
      ...(budget.iterationsPerEpoch !== DEFAULT_BUDGET.iterationsPerEpoch ? { iterationsPerEpoch: budget.iterationsPerEpoch } : {}),
    }, { log, shouldStop: () => stop });
    if (result.status === 'stopped') {
      throw new WorkFailedError(`stopped after epoch ${result.epochs}; state saved in ${result.checkpoint}. Continue with: ${prog} ${String(v.dataset_name_or_id)} ${String(v.configuration)} ${String(v.fold)} -tr ${trainer} -p ${String(v.p)} --c`);
    }
    if (result.validation) report(result.validation);
    console.log(`${result.foldDir}: ${result.epochs} epochs, ${result.checkpoint}`);
  } finally {
    process.off('SIGINT', onSigint);
  }
};
