/**
 * Training checkpoints (docs/training.md, "Checkpoint format"): what the trainer stores in the self-checking checkpoint file of
 * network/checkpoint-file.ts (epoch, trainer, optimiser scalars, RNG states, histories, best tracking) and which
 * file a retried attempt resumes from. Written atomically, so a crash leaves the previous file; a torn, truncated
 * or altered file is never loaded (`readCheckpoint` throws, `newestValidCheckpoint` skips it with a warning).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCheckpointFile, writeCheckpointFile, type CheckpointFile } from '../network/checkpoint-file';
import type { ProducerState } from './batch-worker';
import { CHECKPOINT_FILES } from '../io/layout';

/** nnU-Net's file names (the content is ours, not a PyTorch pickle). */
export { CHECKPOINT_FILES } from '../io/layout';
export type CheckpointKind = keyof typeof CHECKPOINT_FILES;

/** Per-epoch histories, index = epoch (nnU-Net's all_tr_losses, all_val_losses, all_val_eval_metrics). */
export interface TrainingHistory {
  trainLosses: number[];
  valLosses: number[];
  /** Mean online pseudo-Dice over the foreground classes. */
  evalMetrics: number[];
  /** Online pseudo-Dice per foreground class (NaN stored as null). */
  pseudoDicePerClass: (number | null)[][];
  learningRates: number[];
  epochSeconds: number[];
}

/** nnU-Net's best-model bookkeeping (moving averages of the train loss and of the online Dice). */
export interface BestTracking {
  trainLossMA: number | null;
  valEvalCriterionMA: number | null;
  bestValEvalCriterionMA: number | null;
  bestEpoch: number | null;
}

/** Generator states of the training and validation batch streams (loader + augmentation per worker). */
export interface RngStates {
  train: ProducerState;
  val: ProducerState;
}

/** Everything but the arrays. `epoch` = epochs completed (the next epoch to run). */
export interface CheckpointMeta {
  trainer: string;
  epoch: number;
  maxEpochs: number;
  iterationsPerEpoch: number;
  optimizer: { learningRate: number; momentum: number; steps: number };
  rng: RngStates;
  history: TrainingHistory;
  best: BestTracking;
  /** Free-form facts (configuration, fold, backend, plans file) for people reading the header. */
  info: Record<string, unknown>;
}

export type Checkpoint = CheckpointFile<CheckpointMeta>;

export function writeCheckpoint(file: string, ckpt: Checkpoint): void {
  writeCheckpointFile(file, ckpt);
}

export function readCheckpoint(file: string): Checkpoint {
  return readCheckpointFile<CheckpointMeta>(file);
}

/**
 * The checkpoint to resume from: the valid one with the most completed epochs, ties broken by nnU-Net's -c
 * priority final > latest > best. Any file that fails verification is skipped with a warning, never loaded.
 * Undefined when none is usable.
 */
export function newestValidCheckpoint(foldDir: string, warn: (msg: string) => void = () => undefined): { file: string; kind: CheckpointKind; checkpoint: Checkpoint } | undefined {
  let found: { file: string; kind: CheckpointKind; checkpoint: Checkpoint } | undefined;
  for (const kind of ['final', 'latest', 'best'] as const) {
    const file = path.join(foldDir, CHECKPOINT_FILES[kind]);
    if (!fs.existsSync(file)) continue;
    try {
      const checkpoint = readCheckpoint(file);
      if (!found || checkpoint.meta.epoch > found.checkpoint.meta.epoch) found = { file, kind, checkpoint };
    } catch (err) {
      warn(`skipping checkpoint ${file}: ${(err as Error).message}`);
    }
  }
  return found;
}
