/**
 * One fold's training as nnUNet_train runs it: the resolved configuration, splits_final.json (created if missing,
 * validated if edited), the results tree (fold dir, plans.json, debug.json, training log, progress.png), resume
 * from the newest valid checkpoint, the trainer's epochs, then the validation (fold-validation.ts). A fold whose
 * final checkpoint and validation exist returns at once (fold-completion.ts); when that validation used other
 * settings than asked for now, only the validation runs again (from the final checkpoint).
 *
 * `runTrainingFold` runs in the calling process (the CLI) or in the child the `train` activity forks
 * (train-process.ts), so the training loop never blocks the worker's event loop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainInput, TrainOutput, TrainProgress, ValidationSettings } from '../contract';
import { writeFileAtomic, writeJsonAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { requirePreviousStage, requireTwoStages } from '../inference/cascade';
import { softmaxFile } from '../inference/write-prediction';
import {
  CASCADE_TRAINER, CHECKPOINT_FILES, debugFile, foldFolder, modelFolder, modelPlansFile, nextStageFolder, plansIdentifierOfLegacyFile,
  progressPlotFile, RESULT_FOLDERS, splitsFile, SPLITS_FILE_NAME, startOverFile, trainerFor, trainingLogFile, validationFolder,
} from '../io/layout';
import { initBackend } from '../network/backend';
import { useConvPrecisionLogged } from '../network/bf16-conv';
import { describeUNet } from '../network/architecture';
import { applyPretrainedWeights } from '../network/pretrained-weights';
import type { UNet } from '../network/unet';
import { dataFolderOf, loadConfiguration, type ResolvedConfiguration } from '../planning/configuration';
import { serializePlans } from '../planning/plans-file';
import { NnUNetTrainerV2CascadeFullRes } from './cascade';
import { newestValidCheckpoint, readCheckpoint } from './checkpoint';
import { completedOutput, recordedValidation, sameValidation } from './fold-completion';
import { lrFinderPlotFile, writeLrFinderPng, type LrFinderResult } from './lr-finder-plot';
import { revalidateFold, validateFold, validationSettingsOf, type FoldValidation } from './fold-validation';
import { writeProgressPng } from './progress-plot';
import { loadOrCreateSplits, selectFold, type FoldSplit } from './splits';
import { trainerClass, type TrainerClass } from './trainer-registry';
import type { EpochReport, NnUNetTrainerV2 } from './trainer';

/** Runtime knobs that do not change what is trained (tests and small machines). */
export interface TrainRuntimeOptions {
  /** 3d_cascade_fullres: the 3d_lowres trainer whose pred_next_stage it reads (nnU-Net's previous_trainer; default nnUNetTrainerV2). */
  lowresTrainer?: string;
  seed?: number;
  validationIterations?: number;
  /** The tensor backend ('auto' or a backend id; the worker's `worker.backend`). */
  backend?: string;
  checkpointEveryEpochs?: number;
  checkpointEveryMinutes?: number;
  numWorkers?: number;
  /** Mirroring TTA in the final validation when the input has no `validation` (tests' older knob). */
  validationTta?: boolean;
  /** Skip the final validation (nnUNet_train without validation is not a thing; tests of the loop only). */
  skipValidation?: boolean;
  /** Folders of the user's own trainer modules (the worker's `training.trainerPaths`; custom-trainers.ts). */
  trainerPaths?: string[];
  /** 'bfloat16': the convolutions in bfloat16 (`training.precision`; network/bf16-conv.ts); absent: float32. */
  precision?: 'bfloat16';
  /** The worker's training slot this fold runs in (slots.ts describeSlot), for the training log. */
  slot?: string;
  /** nnUNet_train --find_lr: only nnU-Net's learning-rate range test (this many iterations), plotted; nothing trained is kept. */
  findLr?: { iterations: number };
}

export type TrainFoldInput = TrainInput & { runtime?: TrainRuntimeOptions };

export interface TrainFoldHooks {
  onProgress?: (p: TrainProgress) => void;
  shouldStop?: () => boolean;
  /** Also receives every training-log line (the file gets them regardless). */
  log?: (line: string) => void;
}

export type TrainFoldResult = ({ status: 'done'; lrFinder?: LrFinderResult & { plot: string } } & TrainOutput) | { status: 'stopped'; foldDir: string; checkpoint: string; epoch: number };

/** The identifier of the plans a fold trains with: the input's, else (inputs recorded before it) the plans file's name. */
export function plansIdentifierOf(input: Pick<TrainInput, 'plansFile' | 'plansIdentifier'>): string {
  const id = input.plansIdentifier ?? plansIdentifierOfLegacyFile(input.plansFile);
  if (!id) throw new BadInputError(`${input.plansFile}: cannot tell the plans identifier from this file name; pass it (--plans-identifier)`, input.plansFile);
  return id;
}

/** Where a fold's outputs go (the nnU-Net results tree). */
export function foldDirFor(input: Pick<TrainInput, 'paths' | 'plansFile' | 'plansIdentifier' | 'configuration' | 'trainer' | 'fold'>): string {
  return foldFolder(modelFolder(input.paths, input.configuration, input.trainer, plansIdentifierOf(input)), input.fold);
}

/** Case ids of the preprocessed stage folder (<case>.npy). */
function preprocessedCases(dataDir: string): string[] {
  if (!fs.existsSync(dataDir)) throw new BadInputError(`${dataDir}: no preprocessed data; run \`nnunet preprocess\` for this configuration first`, dataDir);
  const ids = fs.readdirSync(dataDir).filter((f) => f.endsWith('.npy')).map((f) => f.slice(0, -4)).sort();
  if (ids.length === 0) throw new BadInputError(`${dataDir}: no preprocessed cases (.npy); run \`nnunet preprocess\` again`, dataDir);
  return ids;
}

/** Appends to a new nnU-Net-named training log in the fold folder, and hands each line to `hooks.log`. */
function foldLogger(foldDir: string, hooks: TrainFoldHooks): (line: string) => void {
  fs.mkdirSync(foldDir, { recursive: true });
  const logFile = trainingLogFile(foldDir);
  return (line) => {
    fs.appendFileSync(logFile, `${new Date().toISOString()}: ${line}\n`);
    hooks.log?.(line);
  };
}

function debugInfo(trainer: NnUNetTrainerV2, rc: ResolvedConfiguration, backend: string, cases: { train: string[]; val: string[] }): unknown {
  const stage = trainer.setup.stage;
  const withShapes = describeUNet(stage, {
    inChannels: trainer.inputChannels, numClasses: rc.network.numClasses, baseFeatures: rc.network.baseFeatures, maxFeatures: rc.network.maxFeatures,
  });
  return {
    trainer: trainer.setup.trainerName,
    configuration: rc.configuration,
    input_channels: trainer.inputChannels,
    ...(trainer.setup.previousStageDir ? { previous_stage_dir: trainer.setup.previousStageDir } : {}),
    stage: rc.stageIndex,
    plans_stage: stage,
    backend,
    num_parameters: withShapes.numParameters,
    encoder_shapes: withShapes.encoder.map((s) => ({ shape: s.shape, features: s.features })),
    decoder_shapes: withShapes.decoder.map((s) => ({ shape: s.shape })),
    augmentation_patch_size: trainer.augmentation.generatorPatchSize,
    deep_supervision_scales: trainer.augmentation.deepSupervisionScales,
    max_num_epochs: trainer.totalEpochs,
    trainer_settings: trainer.variantSettings,
    train_cases: cases.train,
    val_cases: cases.val,
    architecture: trainer.network.summary(),
  };
}

/** The trainer class for the configuration; only a cascade trainer trains 3d_cascade_fullres, and only that. */
function trainerClassFor(input: TrainFoldInput): { trainerName: string; Trainer: ReturnType<typeof trainerClass> } {
  const trainerName = trainerFor(input.configuration, input.trainer);
  const Trainer = trainerClass(trainerName, input.runtime?.trainerPaths);
  const isCascadeTrainer = Trainer === NnUNetTrainerV2CascadeFullRes || Trainer.prototype instanceof NnUNetTrainerV2CascadeFullRes;
  if ((input.configuration === '3d_cascade_fullres') !== isCascadeTrainer) {
    throw new BadInputError(input.configuration === '3d_cascade_fullres'
      ? `trainer ${trainerName} cannot train 3d_cascade_fullres (no previous-stage input); use ${CASCADE_TRAINER} or a subclass of it`
      : `trainer ${trainerName} trains 3d_cascade_fullres only, not ${input.configuration}`);
  }
  return { trainerName, Trainer };
}

/**
 * nnU-Net's variants that train without mirroring validate without mirroring TTA whatever was asked (their
 * validate() forces do_mirroring off, with a warning).
 */
function validationForTrainer(settings: ValidationSettings, Trainer: TrainerClass, log: (line: string) => void): ValidationSettings {
  if (!settings.tta || (Trainer as unknown as typeof NnUNetTrainerV2).mirrorsInTraining) return settings;
  log('WARNING! do_mirroring was True but we cannot do that because we trained without mirroring. do_mirroring was set to False');
  return { ...settings, tta: false };
}

const log0 = (hooks: TrainFoldHooks) => hooks.log ?? (() => undefined);

/**
 * nnUNet_train without -c: the fold's checkpoints and validation go, once per token; a retry with the same token
 * (the marker file holds it) continues what the start-over began.
 */
export function startFoldOver(foldDir: string, token: string, log: (line: string) => void = () => {}, validationName?: string): boolean {
  const checkpoints = Object.values(CHECKPOINT_FILES).map((f) => path.join(foldDir, f));
  const validations = [validationFolder(foldDir), ...(validationName ? [validationFolder(foldDir, validationName)] : [])];
  if (!startOverOnce(foldDir, token, [...checkpoints, ...validations])) return false;
  log(`started over (no -c): removed the checkpoints and the validation of ${foldDir}`);
  return true;
}

/** Removes `outputs` the first time `token` is seen in foldDir (its start_over.json marker); false when already seen. */
export function startOverOnce(foldDir: string, token: string, outputs: readonly string[]): boolean {
  const marker = startOverFile(foldDir);
  try {
    if ((JSON.parse(fs.readFileSync(marker, 'utf8')) as { token?: string }).token === token) return false;
  } catch {
    /* no marker yet, or unreadable: start over */
  }
  for (const p of outputs) fs.rmSync(p, { recursive: true, force: true });
  fs.mkdirSync(foldDir, { recursive: true });
  writeJsonAtomic(marker, { token, at: new Date().toISOString() });
  return true;
}

/** -val: the trained fold's validation again from its final (or, --valbest, best) checkpoint; nothing is trained. */
async function validateOnly(input: TrainFoldInput, foldDir: string, job: (val: string[]) => FoldValidation, previousStageDir?: string): Promise<TrainFoldResult> {
  const checkpoint = path.join(foldDir, CHECKPOINT_FILES[input.validationCheckpoint ?? 'final']);
  if (!fs.existsSync(checkpoint)) {
    throw new BadInputError(`${checkpoint}: no such checkpoint, so -val has nothing to validate; train the fold first (nnUNet_train without -val)`, checkpoint);
  }
  const done = { foldDir, finalCheckpoint: checkpoint, epochs: readCheckpoint(checkpoint).meta.epoch };
  const validationMeanDice = await revalidateFold(done, recordedValidation(foldDir, input.validationFolderName), job([]), previousStageDir);
  return { status: 'done', ...done, validationMeanDice };
}

/** Whether --npz asks for softmax files the fold's finished validation did not write. */
function softmaxMissing(input: TrainFoldInput, foldDir: string, valCases: () => string[]): boolean {
  return input.saveSoftmax === true && !valCases().every((id) => fs.existsSync(softmaxFile(validationFolder(foldDir, input.validationFolderName), id)));
}

/** The cascade trains on the out-of-fold 3d_lowres maps of its cases: a clear error naming the lowres folds missing. */
function requireLowresFolds(previousStageDir: string, { splits, cases }: { splits: FoldSplit[]; cases: FoldSplit }): void {
  const foldOf = (id: string) => { const f = splits.findIndex((s) => s.val.includes(id)); return f >= 0 ? f : undefined; };
  requirePreviousStage(previousStageDir, [...cases.train, ...cases.val], foldOf);
}

/**
 * nnUNet_train -pretrained_weights: a fold that starts at epoch 0 takes the file's weights (nnU-Net's rules:
 * network/pretrained-weights.ts); a resumed one keeps its checkpoint's, as nnU-Net ignores the file with -c.
 */
function startFromPretrained(trainer: { network: UNet }, file: string, resumed: boolean, log: (line: string) => void): void {
  if (resumed) {
    log(`continuing from a checkpoint: the pretrained weights ${file} are not loaded again`);
    return;
  }
  const { weights, loaded } = applyPretrainedWeights(trainer.network.architecture, trainer.network.getWeights(), file);
  trainer.network.setWeights(weights);
  log(`loaded pretrained weights from ${file}: ${loaded.length} of ${weights.length} parameters`);
}

/** nnUNet_train --val_folder: one plain folder name inside the fold folder (default validation_raw). */
function validationNameOf(input: Pick<TrainInput, 'validationFolderName'>): string | undefined {
  const name = input.validationFolderName;
  if (name === undefined || name === RESULT_FOLDERS.validation) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name === RESULT_FOLDERS.validationPostprocessed) {
    throw new BadInputError(`--val_folder "${name}": use a plain folder name (letters, digits, '.', '_', '-'), not ${RESULT_FOLDERS.validationPostprocessed}`, name);
  }
  return name;
}

/**
 * --disable_saving: nnU-Net ends such a training with no model file (no best, no final, model_latest deleted). The
 * final checkpoint is written anyway until the validation is done, so a crash before then resumes; then it goes.
 * The fold then counts as unfinished: a later run trains it again, as nnU-Net's -c finds no checkpoint either.
 */
function dropCheckpoints(foldDir: string, log: (line: string) => void): string {
  for (const f of Object.values(CHECKPOINT_FILES)) fs.rmSync(path.join(foldDir, f), { force: true });
  log('--disable_saving: the checkpoints are removed (nnU-Net keeps no model file with it)');
  return '';
}

interface FinderSetup {
  Trainer: TrainerClass; trainerName: string; rc: ResolvedConfiguration; dataDir: string; foldDir: string; previousStageDir?: string; cases: FoldSplit;
}

/**
 * nnUNet_train --find_lr: a fresh network through nnU-Net's find_lr (trainer.ts), the smoothed loss against the
 * learning rate drawn to fold_X/lr_finder.png. As in nnU-Net nothing else is written: no checkpoint, no validation.
 */
async function findLearningRate(input: TrainFoldInput, s: FinderSetup, iterations: number, hooks: TrainFoldHooks): Promise<TrainFoldResult> {
  const rt = input.runtime ?? {};
  const log = foldLogger(s.foldDir, hooks);
  const backend = await initBackend({ preference: rt.backend });
  if (rt.precision) useConvPrecisionLogged(rt.precision, log);
  const trainer = new s.Trainer({
    trainerName: s.trainerName, plans: s.rc.plans, previousStageDir: s.previousStageDir, configuration: input.configuration, stage: s.rc.stage,
    dataDir: s.dataDir, foldDir: s.foldDir, trainCases: s.cases.train, valCases: s.cases.val, epochs: input.epochs, iterationsPerEpoch: input.iterationsPerEpoch,
    seed: rt.seed, numWorkers: rt.numWorkers, info: { fold: input.fold, plansFile: input.plansFile, backend: backend.id }, log,
  });
  try {
    trainer.initialize();
    const found = await trainer.findLearningRate({ numIters: iterations });
    const file = lrFinderPlotFile(s.foldDir);
    await writeLrFinderPng(file, found);
    log(`learning-rate finder: ${found.losses.length} of ${iterations} iterations (stopped when the loss exploded), plot in ${file}`);
    return { status: 'done', foldDir: s.foldDir, finalCheckpoint: '', epochs: 0, lrFinder: { plot: file, ...found } };
  } finally {
    await trainer.dispose();
  }
}

/** Trains (or resumes, or skips) one fold and validates it. */
export async function runTrainingFold(input: TrainFoldInput, hooks: TrainFoldHooks = {}): Promise<TrainFoldResult> {
  const { paths, configuration, fold } = input;
  const { trainerName, Trainer } = trainerClassFor(input);
  const foldDir = foldDirFor(input);
  const plansIdentifier = plansIdentifierOf(input);
  // 3d_lowres writes the next stage's input; 3d_cascade_fullres reads it (inference/cascade.ts).
  const nextStage = configuration === '3d_lowres' && !input.skipNextStage ? nextStageFolder(paths, plansIdentifier, trainerName) : undefined;
  const previousStageDir = configuration === '3d_cascade_fullres' ? nextStageFolder(paths, plansIdentifier, input.runtime?.lowresTrainer) : undefined;

  const rc = loadConfiguration(input.plansFile, configuration, { preprocessedDir: paths.preprocessedDir, plansIdentifier });
  const dataDir = dataFolderOf(rc);
  let foldCases: { splits: FoldSplit[]; cases: FoldSplit } | undefined;
  const loadFold = () => {
    if (foldCases) return foldCases;
    const caseIds = preprocessedCases(dataDir);
    const splits = loadOrCreateSplits(splitsFile(paths), caseIds);
    foldCases = { splits, cases: selectFold(splits, fold, caseIds) };
    return foldCases;
  };
  const validation = validationForTrainer(validationSettingsOf(input), Trainer, log0(hooks));
  const rt = input.runtime ?? {};
  const validationName = validationNameOf(input);
  if (rt.findLr) return findLearningRate(input, { Trainer, trainerName, rc, dataDir, foldDir, previousStageDir, cases: loadFold().cases }, rt.findLr.iterations, hooks);
  const job = (valCases: string[], log: (line: string) => void): FoldValidation => ({
    rc, paths, foldDir, valCases, settings: validation, saveSoftmax: input.saveSoftmax ?? false, nextStage, backend: rt.backend, log, folderName: validationName,
    ...(input.skipFoldPostprocessing ? { postprocessOnFold: false } : {}),
    ...(input.keepExistingValidation ? { keepExisting: true } : {}),
  });
  const skipValidation = rt.skipValidation === true || input.skipValidation === true;
  if (input.startOver) {
    // A cascade fold whose lowres folds are missing fails before anything of it is removed.
    if (previousStageDir) requireLowresFolds(previousStageDir, loadFold());
    startFoldOver(foldDir, input.startOver, foldLogger(foldDir, hooks), validationName);
  }
  if (input.validationOnly) {
    return validateOnly(input, foldDir, () => job(loadFold().cases.val, foldLogger(foldDir, hooks)), previousStageDir);
  }
  const done = completedOutput(foldDir, nextStage ? { dir: nextStage, valCases: () => loadFold().cases.val } : undefined, validationName);
  if (done) {
    const used = recordedValidation(foldDir, validationName);
    const sameAsAsked = used && sameValidation(used, validation) && !softmaxMissing(input, foldDir, () => loadFold().cases.val);
    if (skipValidation || sameAsAsked) return { status: 'done', ...done };
    const validationMeanDice = await revalidateFold(done, used, job(loadFold().cases.val, foldLogger(foldDir, hooks)), previousStageDir);
    return { status: 'done', ...done, validationMeanDice };
  }

  const { splits, cases } = loadFold();
  if (cases.val.length === 0) throw new BadInputError(`${SPLITS_FILE_NAME}: fold ${fold} has no validation cases`);
  if (previousStageDir) {
    requireTwoStages(rc, configuration);
    requireLowresFolds(previousStageDir, { splits, cases });
  }

  fs.mkdirSync(foldDir, { recursive: true });
  writeFileAtomic(modelPlansFile(path.dirname(foldDir)), serializePlans(rc.plans));
  const log = foldLogger(foldDir, hooks);
  const backend = await initBackend({ preference: rt.backend });
  log(`backend: ${backend.id} (${backend.detail})`);
  if (rt.precision) useConvPrecisionLogged(rt.precision, log);
  if (rt.slot) log(`training ${rt.slot}; CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES ?? '(unset)'}`);

  const trainer = new Trainer({
    trainerName, plans: rc.plans, previousStageDir, configuration, stage: rc.stage, dataDir, foldDir,
    trainCases: cases.train, valCases: cases.val, epochs: input.epochs, iterationsPerEpoch: input.iterationsPerEpoch,
    validationIterations: rt.validationIterations, seed: rt.seed, checkpointEveryEpochs: rt.checkpointEveryEpochs,
    checkpointEveryMinutes: rt.checkpointEveryMinutes, numWorkers: rt.numWorkers, saveBest: !input.disableSaving,
    info: { fold, plansFile: input.plansFile, backend: backend.id }, log,
  });
  try {
    let resume;
    if (input.continueTraining) {
      resume = newestValidCheckpoint(foldDir, log);
      log(resume ? `continuing from ${path.basename(resume.file)} (epoch ${resume.checkpoint.meta.epoch})` : 'no valid checkpoint to continue from; starting at epoch 0');
    } else {
      for (const f of Object.values(CHECKPOINT_FILES)) fs.rmSync(path.join(foldDir, f), { force: true });
    }
    trainer.initialize(resume?.checkpoint);
    trainer.lastCheckpoint = resume?.file;
    if (input.pretrainedWeights) startFromPretrained(trainer, input.pretrainedWeights, resume !== undefined, log);
    writeJsonAtomic(debugFile(foldDir), debugInfo(trainer, rc, backend.id, cases));
    log(`training ${cases.train.length} cases, validating ${cases.val.length}; ${trainer.totalEpochs} epochs from epoch ${trainer.epoch}`);

    const title = `${paths.taskName} ${configuration} ${input.trainer} fold ${fold}`;
    const outcome = await trainer.run({
      shouldStop: hooks.shouldStop,
      onEpoch: async (r: EpochReport) => {
        await writeProgressPng(progressPlotFile(foldDir), trainer.history, title);
        hooks.onProgress?.(progressOf(r, trainer.lastCheckpoint));
      },
    });
    if (outcome.status === 'stopped') {
      log(`stopped; state saved in ${path.basename(outcome.checkpoint)}`);
      return { status: 'stopped', foldDir, checkpoint: outcome.checkpoint, epoch: trainer.epoch };
    }
    const meanDice = skipValidation ? undefined : await validateFold({ network: trainer.network, previousStageDir: trainer.setup.previousStageDir }, job(cases.val, log));
    const finalCheckpoint = input.disableSaving ? dropCheckpoints(foldDir, log) : outcome.finalCheckpoint;
    return { status: 'done', foldDir, finalCheckpoint, epochs: trainer.epoch, ...(meanDice === undefined ? {} : { validationMeanDice: meanDice }) };
  } finally {
    await trainer.dispose();
  }
}

/** Heartbeat details after an epoch; `checkpoint` is the newest checkpoint on disk (if any yet). */
export function progressOf(r: EpochReport, newestCheckpoint?: string): TrainProgress {
  const checkpoint = r.checkpoint ?? newestCheckpoint;
  return {
    epoch: r.epoch + 1, totalEpochs: r.totalEpochs, trainLoss: r.trainLoss, valLoss: r.valLoss,
    pseudoDice: r.pseudoDice.map((d) => (Number.isNaN(d) ? 0 : d)), ...(checkpoint ? { checkpoint } : {}),
  };
}
