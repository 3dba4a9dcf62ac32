/**
 * The `train` activity's nnU-Net v2 fold (TrainInput with method 'v2', run in the training child like v1's
 * runTrainingFold): the fold workflow's requests with nnUNetv2_train's meaning. A start-over token clears the
 * fold's checkpoints and validation once (nnUNetv2_train without --c); --val only validates; a finished fold
 * (checkpoint_final.pth and validation/summary.json, with the probabilities when --npz asks) returns at once, one
 * with its final checkpoint but not its validation only validates; anything else trains on from the newest
 * checkpoint (trainFoldV2's --c: final, latest, best).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../../common/errors';
import { readSummaryV2 } from '../../evaluation/summary-v2';
import { plansV2File, summaryFile, V2_CHECKPOINT_FILES, v2FoldFolder, v2ModelFolder, v2ValidationFolder } from '../../io/layout';
import { startOverOnce, type TrainFoldHooks, type TrainFoldInput, type TrainFoldResult } from '../train-fold';
import { checkpointEpochV2 } from './checkpoint';
import { trainFoldV2, validateTrainedFoldV2, type TrainFoldV2Input } from './train-fold';

/** The plans identifier; the plans file must be the one trainFoldV2 reads (<preprocessed>/<Dataset>/<plans>.json). */
function plansNameOf(input: TrainFoldInput): string {
  const name = input.plansName ?? input.plansIdentifier ?? path.basename(input.plansFile, '.json');
  const expected = path.resolve(plansV2File(input.paths.preprocessedDir, name));
  if (path.resolve(input.plansFile) !== expected) {
    throw new BadInputError(`${input.plansFile}: nnU-Net v2 trains the plans ${name} from ${expected}; copy the plans there (nnUNetv2_plan_experiment writes them there)`, input.plansFile);
  }
  return name;
}

/** v1's knobs that nnUNetv2_train has no flag for: a clear error instead of silently ignoring them. */
function refuseV1Only(input: TrainFoldInput): void {
  const v1Only = [
    input.validation && 'validation TTA/step size', input.validationFolderName && '--val_folder', input.keepExistingValidation && '--val_disable_overwrite',
    input.skipFoldPostprocessing && '--disable_postprocessing_on_folds', input.skipNextStage && '--disable_next_stage_pred', input.runtime?.findLr && '--find_lr',
  ].filter(Boolean);
  if (v1Only.length) throw new BadInputError(`${v1Only.join(', ')}: nnU-Net v1 options, not available for an nnU-Net v2 fold (method v2); leave them out`);
}

export function v2InputOf(input: TrainFoldInput): TrainFoldV2Input {
  const { paths } = input;
  const rt = input.runtime ?? {};
  return {
    preprocessedDir: paths.preprocessedDir, resultsRoot: paths.resultsDir, rawDir: paths.rawDir, datasetName: paths.taskName,
    configuration: input.configuration, fold: input.fold, trainer: input.trainer, plansName: plansNameOf(input),
    continueTraining: input.continueTraining, pretrainedWeights: input.pretrainedWeights, disableCheckpointing: input.disableSaving,
    epochs: input.epochs, iterationsPerEpoch: input.iterationsPerEpoch, valIterationsPerEpoch: rt.validationIterations,
    saveEvery: rt.checkpointEveryEpochs, seed: rt.seed, numWorkers: rt.numWorkers, backend: rt.backend, slot: rt.slot, ...(rt.precision ? { precision: rt.precision } : {}),
    validate: !(input.skipValidation || rt.skipValidation), validationCheckpoint: input.validationCheckpoint, saveProbabilities: input.saveSoftmax,
  };
}

/** The fold's recorded validation Dice (v2's foreground_mean), when it is a number. */
function diceOf(summary: string): { validationMeanDice?: number } {
  const dice = readSummaryV2(summary).foreground_mean.Dice;
  return Number.isFinite(dice) ? { validationMeanDice: dice } : {};
}

/** Whether the fold's validation is there as asked: summary.json, and with --npz a .npz per validated case. */
function validated(foldDir: string, saveProbabilities: boolean | undefined): boolean {
  const dir = v2ValidationFolder(foldDir);
  const summary = summaryFile(dir);
  if (!fs.existsSync(summary)) return false;
  if (!saveProbabilities) return true;
  return fs.readdirSync(dir).filter((f) => f.endsWith('.npz')).length >= readSummaryV2(summary).metric_per_case.length;
}

async function validateOnly(v2: TrainFoldV2Input, foldDir: string, checkpoint: 'final' | 'best', log?: (line: string) => void): Promise<TrainFoldResult> {
  const result = await validateTrainedFoldV2(v2, checkpoint, log);
  const finalCheckpoint = path.join(foldDir, V2_CHECKPOINT_FILES[checkpoint]);
  return { status: 'done', foldDir, finalCheckpoint, epochs: checkpointEpochV2(finalCheckpoint), ...diceOf(result.summaryFile) };
}

export async function runTrainingFoldV2(input: TrainFoldInput, hooks: TrainFoldHooks = {}): Promise<TrainFoldResult> {
  refuseV1Only(input);
  const v2 = v2InputOf(input);
  const foldDir = v2FoldFolder(v2ModelFolder(v2.resultsRoot, v2.datasetName, v2.trainer, v2.plansName, v2.configuration), v2.fold);
  const checkpoints = Object.values(V2_CHECKPOINT_FILES).map((f) => path.join(foldDir, f));
  if (input.startOver && startOverOnce(foldDir, input.startOver, [...checkpoints, v2ValidationFolder(foldDir)])) {
    hooks.log?.(`started over (no --c): removed the checkpoints and the validation of ${foldDir}`);
  }
  const checkpoint = input.validationCheckpoint ?? 'final';
  if (input.validationOnly) return validateOnly(v2, foldDir, checkpoint, hooks.log);
  const finalCheckpoint = path.join(foldDir, V2_CHECKPOINT_FILES.final);
  if (fs.existsSync(finalCheckpoint)) {
    const done = { status: 'done' as const, foldDir, finalCheckpoint, epochs: checkpointEpochV2(finalCheckpoint) };
    if (v2.validate === false) return done;
    if (checkpoint === 'final' && validated(foldDir, v2.saveProbabilities)) return { ...done, ...diceOf(summaryFile(v2ValidationFolder(foldDir))) };
    return validateOnly(v2, foldDir, checkpoint, hooks.log);
  }
  const r = await trainFoldV2(v2, { log: hooks.log, shouldStop: hooks.shouldStop, onProgress: hooks.onProgress });
  if (r.status === 'stopped') return { status: 'stopped', foldDir: r.foldDir, checkpoint: r.checkpoint, epoch: r.epochs };
  return { status: 'done', foldDir: r.foldDir, finalCheckpoint: r.checkpoint, epochs: r.epochs, ...(r.validation ? diceOf(r.validation.summaryFile) : {}) };
}
