/**
 * nnUNetv2_train DATASET CONFIGURATION FOLD [-tr TRAINER] [-p PLANS] [--c]: one fold of nnU-Net v2's trainer in
 * this process (activities/training/v2/train-fold.ts), like `nnunet train` without --via-temporal. The budget
 * comes from the config (NNUNET_EPOCHS, NNUNET_ITERATIONS_PER_EPOCH) when it differs from nnU-Net's 1000 × 250,
 * so a trainer variant keeps its own schedule otherwise. Ctrl-C stops after the current iteration with
 * checkpoint_latest.pth written; --c continues.
 */
import * as path from 'node:path';
import type { Config } from '../config';
import { trainFoldV2 } from '../activities/training/v2/train-fold';
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
  if (values.val === true || values.val_best === true) throw notYet('--val', 'v2 prediction export for the fold validation');
  if (Number(values.num_gpus ?? 1) !== 1) throw notYet('-num_gpus', 'multi-GPU (DDP) training');
}

export const trainV2: V2Handler = async (prog, args, config: Config) => {
  const v = args.values as Record<string, unknown>;
  refuseUnavailable(prog, v);
  const { paths } = resolveDataset(config, String(v.dataset_name_or_id));
  const trainer = String(v.tr);
  trainerSettingsV2(trainer); // an unknown trainer fails before any work
  const fold = foldOf(prog, v.fold);
  const budget = config.training;
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after the current iteration (checkpoint_latest.pth is written); Ctrl-C again to quit at once\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await trainFoldV2({
      preprocessedDir: paths.preprocessedDir, resultsRoot: config.paths.results, rawDir: paths.rawDir, datasetName: paths.taskName,
      configuration: String(v.configuration), fold, trainer, plansName: String(v.p), continueTraining: v.c === true,
      ...(typeof v.pretrained_weights === 'string' ? { pretrainedWeights: path.resolve(v.pretrained_weights) } : {}),
      disableCheckpointing: v.disable_checkpointing === true,
      ...(budget.epochs !== DEFAULT_BUDGET.epochs ? { epochs: budget.epochs } : {}),
      ...(budget.iterationsPerEpoch !== DEFAULT_BUDGET.iterationsPerEpoch ? { iterationsPerEpoch: budget.iterationsPerEpoch } : {}),
      backend: config.worker.backend,
    }, { log: (line) => process.stderr.write(`${line}\n`), shouldStop: () => stop });
    if (result.status === 'stopped') {
      throw new WorkFailedError(`stopped after epoch ${result.epochs}; state saved in ${result.checkpoint}. Continue with: ${prog} ${String(v.dataset_name_or_id)} ${String(v.configuration)} ${String(v.fold)} -tr ${trainer} -p ${String(v.p)} --c`);
    }
    if (v.npz === true) process.stderr.write(`${prog}: --npz: the fold validation is not run by the v2 trainer yet, so no .npz files are written\n`);
    console.log(`${result.foldDir}: ${result.epochs} epochs, ${result.checkpoint}`);
  } finally {
    process.off('SIGINT', onSigint);
  }
};
