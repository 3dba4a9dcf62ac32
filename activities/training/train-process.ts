/**
 * One fold's training as nnUNet_train runs it (spec §5.1-§5.2, §5.11): plans and stage, splits_final.json
 * (created if missing, validated if edited), the results tree (fold dir, plans.json, debug.json, training log,
 * progress.png), resume from the newest valid checkpoint, the trainer's epochs, then validation of the held-out
 * cases through the inference code into validation_raw/ with summary.json and validation_args.json (the TTA and
 * step size it used). A fold whose final checkpoint and validation exist returns at once; when that validation
 * used other settings than asked for now, only the validation runs again (from the final checkpoint).
 *
 * `runTrainingFold` runs in the calling process (the CLI); this file is also the entry of the child process the
 * `train` activity forks (see `serveChild` below), so the training loop never blocks the worker's event loop.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_VALIDATION, describeValidation, validationSettingsProblem, type Configuration, type TrainInput, type TrainOutput, type TrainProgress, type ValidationSettings } from '../contract';
import { writeDirAtomic, writeFileAtomic, writeJsonAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { evaluateStagedFolder } from '../evaluation/evaluate-folder';
import { meanForegroundDice, readSummary } from '../evaluation/summary';
import { loadUNet, networkInChannels, networkPatchPredictor } from '../inference/network-predictor';
import { writeSegmentation, writeSoftmax, segmentationFile } from '../inference/write-prediction';
import { readDataset } from '../io/dataset';
import { initBackend } from '../network/backend';
import { describeUNet } from '../network/architecture';
import type { UNet } from '../network/unet';
import { readPlansFile, serializePlans } from '../planning/plans-file';
import { stages, type Plans } from '../planning/plans';
import { foldFolder, modelFolder, trainerFor } from '../postprocessing/results-layout';
import { stageFor } from '../preprocessing/preprocess';
import {
  CASCADE_TRAINER, NnUNetTrainerV2CascadeFullRes, cascadeExtra, fullresShape, nextStageDir, predictOnGrid, requirePreviousStage,
  requireTwoStages, segmentationForNextStage, writeSegFromPrevStage,
} from './cascade';
import { previousStageFile } from './dataloader-cases';
import { CHECKPOINT_FILES, newestValidCheckpoint, readCheckpoint } from './checkpoint';
import { writeProgressPng } from './progress-plot';
import { SPLITS_FILE_NAME, loadOrCreateSplits, selectFold, type FoldSplit } from './splits';
import { childExitError, watchPeakRss } from './child-memory';
import { trainerClass } from './trainer-registry';
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
}

export type TrainFoldInput = TrainInput & { runtime?: TrainRuntimeOptions };

export interface TrainFoldHooks {
  onProgress?: (p: TrainProgress) => void;
  shouldStop?: () => boolean;
  /** Also receives every training-log line (the file gets them regardless). */
  log?: (line: string) => void;
}

export type TrainFoldResult = ({ status: 'done' } & TrainOutput) | { status: 'stopped'; foldDir: string; checkpoint: string; epoch: number };

export const VALIDATION_DIR = 'validation_raw';

/** nnUNetPlansv2.1 from .../nnUNetPlansv2.1_plans_3D.json. */
export function plansIdentifierOf(plansFile: string): string {
  return path.basename(plansFile).replace(/_plans_(2|3)D\.json$/i, '');
}

/** nnU-Net's log name: training_log_2026_11_27_11_04_23.txt. */
function logFileName(d = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `training_log_${d.getFullYear()}_${d.getMonth() + 1}_${d.getDate()}_${two(d.getHours())}_${two(d.getMinutes())}_${two(d.getSeconds())}.txt`;
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
  const logFile = path.join(foldDir, logFileName());
  return (line) => {
    fs.appendFileSync(logFile, `${new Date().toISOString()}: ${line}\n`);
    hooks.log?.(line);
  };
}

/** Where a fold's outputs go (the nnU-Net results tree). */
export function foldDirFor(input: Pick<TrainInput, 'paths' | 'plansFile' | 'configuration' | 'trainer' | 'fold'>): string {
  return foldFolder(modelFolder(input.paths, input.configuration, input.trainer, plansIdentifierOf(input.plansFile)), input.fold);
}

/**
 * The fold is complete: a valid final checkpoint and a validation summary (3d_lowres: and the pred_next_stage map of
 * every validation case, so a fold trained before the cascade export validates again with -c).
 */
function completedOutput(foldDir: string, nextStage?: { dir: string; valCases: () => string[] }): TrainOutput | undefined {
  const finalFile = path.join(foldDir, CHECKPOINT_FILES.final);
  const summaryFile = path.join(foldDir, VALIDATION_DIR, 'summary.json');
  if (!fs.existsSync(finalFile) || !fs.existsSync(summaryFile)) return undefined;
  if (nextStage && nextStage.valCases().some((id) => !fs.existsSync(previousStageFile(nextStage.dir, id)))) return undefined;
  try {
    const epochs = readCheckpoint(finalFile).meta.epoch;
    return { foldDir, finalCheckpoint: finalFile, epochs, validationMeanDice: meanForegroundDice(readSummary(summaryFile)) };
  } catch {
    return undefined;
  }
}

function debugInfo(trainer: NnUNetTrainerV2, plans: Plans, configuration: Configuration, stageIndex: number, backend: string, cases: { train: string[]; val: string[] }): unknown {
  const stage = trainer.setup.stage;
  const withShapes = describeUNet(stage, {
    inChannels: trainer.inputChannels, numClasses: plans.num_classes + 1, baseFeatures: plans.base_num_features, maxFeatures: plans.unet_max_num_features,
  });
  return {
    trainer: trainer.setup.trainerName,
    configuration,
    input_channels: trainer.inputChannels,
    ...(trainer.setup.previousStageDir ? { previous_stage_dir: trainer.setup.previousStageDir } : {}),
    stage: stageIndex,
    plans_stage: stage,
    backend,
    num_parameters: withShapes.numParameters,
    encoder_shapes: withShapes.encoder.map((s) => ({ shape: s.shape, features: s.features })),
    decoder_shapes: withShapes.decoder.map((s) => ({ shape: s.shape })),
    augmentation_patch_size: trainer.augmentation.generatorPatchSize,
    deep_supervision_scales: trainer.augmentation.deepSupervisionScales,
    max_num_epochs: trainer.totalEpochs,
    train_cases: cases.train,
    val_cases: cases.val,
    architecture: trainer.network.summary(),
  };
}

/** Trains (or resumes, or skips) one fold and validates it. */
export async function runTrainingFold(input: TrainFoldInput, hooks: TrainFoldHooks = {}): Promise<TrainFoldResult> {
  const { paths, configuration, fold } = input;
  const trainerName = trainerFor(configuration, input.trainer);
  const Trainer = trainerClass(trainerName);
  const isCascadeTrainer = Trainer === NnUNetTrainerV2CascadeFullRes || Trainer.prototype instanceof NnUNetTrainerV2CascadeFullRes;
  if ((configuration === '3d_cascade_fullres') !== isCascadeTrainer) {
    throw new BadInputError(configuration === '3d_cascade_fullres'
      ? `trainer ${trainerName} cannot train 3d_cascade_fullres (no previous-stage input); use ${CASCADE_TRAINER} or a subclass of it`
      : `trainer ${trainerName} trains 3d_cascade_fullres only, not ${configuration}`);
  }
  const foldDir = foldDirFor(input);
  const plansId = plansIdentifierOf(input.plansFile);
  // 3d_lowres writes the next stage's input; 3d_cascade_fullres reads it (cascade.ts).
  const nextStage = configuration === '3d_lowres' ? nextStageDir(paths, plansId, trainerName) : undefined;
  const previousStageDir = configuration === '3d_cascade_fullres' ? nextStageDir(paths, plansId, input.runtime?.lowresTrainer) : undefined;

  let foldCases: { splits: FoldSplit[]; cases: FoldSplit; caseIds: string[] } | undefined;
  const plans = readPlansFile(input.plansFile);
  const sel = stageFor(plans, configuration, paths.preprocessedDir, input.plansFile);
  const loadFold = () => {
    if (foldCases) return foldCases;
    const caseIds = preprocessedCases(sel.dataDir);
    const splits = loadOrCreateSplits(path.join(paths.preprocessedDir, SPLITS_FILE_NAME), caseIds);
    foldCases = { splits, cases: selectFold(splits, fold, caseIds), caseIds };
    return foldCases;
  };
  const validation = validationSettingsOf(input);
  const rt = input.runtime ?? {};
  const stage = stages(plans)[sel.stageIndex]!;
  const done = completedOutput(foldDir, nextStage ? { dir: nextStage, valCases: () => loadFold().cases.val } : undefined);
  if (done) {
    const used = recordedValidation(foldDir);
    if (rt.skipValidation || (used && sameValidation(used, validation))) return { status: 'done', ...done };
    const job = { input, plans, foldDir, valCases: loadFold().cases.val, settings: validation, nextStage, log: foldLogger(foldDir, hooks) };
    const validationMeanDice = await revalidateFold(done, used, job, stage.patch_size, previousStageDir);
    return { status: 'done', ...done, validationMeanDice };
  }

  const { splits, cases } = loadFold();
  if (cases.val.length === 0) throw new BadInputError(`${SPLITS_FILE_NAME}: fold ${fold} has no validation cases`);
  if (previousStageDir) {
    requireTwoStages(plans, input.plansFile, configuration);
    const foldOf = (id: string) => { const f = splits.findIndex((s) => s.val.includes(id)); return f >= 0 ? f : undefined; };
    requirePreviousStage(previousStageDir, [...cases.train, ...cases.val], foldOf);
  }

  fs.mkdirSync(foldDir, { recursive: true });
  const modelDir = path.dirname(foldDir);
  writeFileAtomic(path.join(modelDir, 'plans.json'), serializePlans(plans));
  const log = foldLogger(foldDir, hooks);
  const backend = await initBackend({ preference: rt.backend });
  log(`backend: ${backend.id} (${backend.detail})`);

  const trainer = new Trainer({
    trainerName, plans, previousStageDir, configuration, stage, dataDir: sel.dataDir, foldDir,
    trainCases: cases.train, valCases: cases.val, epochs: input.epochs, iterationsPerEpoch: input.iterationsPerEpoch,
    validationIterations: rt.validationIterations, seed: rt.seed, checkpointEveryEpochs: rt.checkpointEveryEpochs,
    checkpointEveryMinutes: rt.checkpointEveryMinutes, numWorkers: rt.numWorkers,
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
    writeJsonAtomic(path.join(foldDir, 'debug.json'), debugInfo(trainer, plans, configuration, sel.stageIndex, backend.id, cases));
    log(`training ${cases.train.length} cases, validating ${cases.val.length}; ${trainer.totalEpochs} epochs from epoch ${trainer.epoch}`);

    const title = `${paths.taskName} ${configuration} ${input.trainer} fold ${fold}`;
    const outcome = await trainer.run({
      shouldStop: hooks.shouldStop,
      onEpoch: async (r: EpochReport) => {
        await writeProgressPng(path.join(foldDir, 'progress.png'), trainer.history, title);
        hooks.onProgress?.(progressOf(r, trainer.lastCheckpoint));
      },
    });
    if (outcome.status === 'stopped') {
      log(`stopped; state saved in ${path.basename(outcome.checkpoint)}`);
      return { status: 'stopped', foldDir, checkpoint: outcome.checkpoint, epoch: trainer.epoch };
    }
    if (rt.skipValidation) return { status: 'done', foldDir, finalCheckpoint: outcome.finalCheckpoint, epochs: trainer.epoch };
    const net = { network: trainer.network, patchSize: stage.patch_size, inChannels: trainer.inputChannels, previousStageDir: trainer.setup.previousStageDir };
    const meanDice = await validateFold(net, { input, plans, foldDir, valCases: cases.val, settings: validation, nextStage, log });
    return { status: 'done', foldDir, finalCheckpoint: outcome.finalCheckpoint, epochs: trainer.epoch, validationMeanDice: meanDice };
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

/** A finished fold validated with other settings than `job.settings`: validation only, from the final checkpoint. */
async function revalidateFold(
  done: TrainOutput, used: ValidationSettings | undefined, job: FoldValidation, patchSize: number[], previousStageDir?: string,
): Promise<number> {
  const { input, plans, log } = job;
  log(`the validation in ${VALIDATION_DIR}/ used ${used ? describeValidation(used) : 'unrecorded settings'}; `
    + `validating again with ${describeValidation(job.settings)} from ${path.basename(done.finalCheckpoint)}`);
  const backend = await initBackend({ preference: input.runtime?.backend });
  log(`backend: ${backend.id} (${backend.detail})`);
  const network = loadUNet(plans, input.configuration, input.plansFile, done.finalCheckpoint);
  try {
    return await validateFold({ network, patchSize, inChannels: networkInChannels(plans, input.configuration), previousStageDir }, job);
  } finally {
    network.dispose();
  }
}

/** The file nnU-Net's validate() writes beside the predictions: the arguments it ran with. */
export const VALIDATION_ARGS_FILE = 'validation_args.json';

/** The keys of nnU-Net's validation_args.json that apply here. */
interface ValidationArgs {
  do_mirroring: boolean;
  use_sliding_window: true;
  step_size: number;
  use_gaussian: true;
  save_softmax: boolean;
  validation_folder_name: string;
}

/** The settings a fold validates with: the input's, else nnU-Net's (runtime.validationTta: tests' older knob). */
export function validationSettingsOf(input: TrainFoldInput): ValidationSettings {
  const settings = input.validation ?? { ...DEFAULT_VALIDATION, tta: input.runtime?.validationTta ?? DEFAULT_VALIDATION.tta };
  const problem = validationSettingsProblem(settings);
  if (problem) throw new BadInputError(`${problem} (nnU-Net: TTA on, step size 0.5)`);
  return settings;
}

const sameValidation = (a: ValidationSettings, b: ValidationSettings): boolean => a.tta === b.tta && a.stepSize === b.stepSize;

/**
 * The settings a fold's existing validation used. Folds validated before validation_args.json was written used
 * nnU-Net's defaults (the only settings the product path had); an unreadable file gives undefined (validate again).
 */
export function recordedValidation(foldDir: string): ValidationSettings | undefined {
  const file = path.join(foldDir, VALIDATION_DIR, VALIDATION_ARGS_FILE);
  if (!fs.existsSync(file)) return { ...DEFAULT_VALIDATION };
  try {
    const args = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ValidationArgs>;
    const used = { tta: args.do_mirroring, stepSize: args.step_size } as ValidationSettings;
    return validationSettingsProblem(used) ? undefined : used;
  } catch {
    return undefined;
  }
}

/** A trained network as the validation uses it (the trainer's, or one loaded from the final checkpoint). */
interface ValidationNetwork {
  network: Pick<UNet, 'predict'>;
  patchSize: number[];
  inChannels: number;
  /** 3d_cascade_fullres: where the held-out cases' out-of-fold lowres maps are. */
  previousStageDir?: string;
}

interface FoldValidation {
  input: TrainFoldInput;
  plans: Plans;
  foldDir: string;
  valCases: string[];
  settings: ValidationSettings;
  /** 3d_lowres: the pred_next_stage folder every validated case is exported to. */
  nextStage?: string;
  log: (line: string) => void;
}

/**
 * nnU-Net's validate(): the held-out raw cases through the inference pipeline with the requested TTA and step
 * size, then summary.json and validation_args.json. The cascade appends each case's out-of-fold lowres map;
 * 3d_lowres also exports every case for the next stage (§5.12). Logs windows and network passes per case.
 */
async function validateFold(net: ValidationNetwork, job: FoldValidation): Promise<number> {
  const { input, plans, foldDir, valCases, settings, nextStage, log } = job;
  log(`validating ${valCases.length} held-out cases into ${VALIDATION_DIR}/ (${describeValidation(settings)})`);
  const dataset = readDataset(input.paths.rawDir);
  const byId = new Map(dataset.training.map((c) => [c.id, c]));
  let passes = 0;
  const counted = { predict: (x: Parameters<UNet['predict']>[0]) => { passes++; return net.network.predict(x); } };
  const predictor = networkPatchPredictor(counted, { patchSize: net.patchSize, inChannels: net.inChannels, tta: settings.tta });
  const model = { plans, plansFile: input.plansFile, configuration: input.configuration, folds: [predictor] };
  const finalDir = path.join(foldDir, VALIDATION_DIR);
  const gtDir = path.join(input.paths.preprocessedDir, 'gt_segmentations');
  const args: ValidationArgs = {
    do_mirroring: settings.tta, use_sliding_window: true, step_size: settings.stepSize, use_gaussian: true,
    save_softmax: input.saveSoftmax ?? false, validation_folder_name: VALIDATION_DIR,
  };
  let summary;
  await writeDirAtomic(finalDir, async (tmp) => {
    for (const id of valCases) {
      const c = byId.get(id);
      if (!c) throw new BadInputError(`${dataset.jsonFile}: validation case ${id} is not among the training cases`, dataset.jsonFile);
      let windows = 0;
      passes = 0;
      const extra = net.previousStageDir ? cascadeExtra(net.previousStageDir, id, plans) : undefined;
      const { prediction: pred, grid, properties } = await predictOnGrid(c.images, model, extra, { stepSize: settings.stepSize, onTile: () => { windows++; } });
      log(`validated ${id}: ${windows} sliding windows, ${passes} network passes`);
      if (nextStage) {
        const target = fullresShape(plans, input.plansFile, input.paths.preprocessedDir, id, properties);
        writeSegFromPrevStage(nextStage, id, segmentationForNextStage(grid, target), target);
      }
      await writeSegmentation(segmentationFile(tmp, id), pred.segmentation, pred.properties);
      if (input.saveSoftmax) writeSoftmax(tmp, id, pred.probabilities, pred.properties);
    }
    const classes = Array.from({ length: plans.num_classes + 1 }, (_, i) => i);
    summary = await evaluateStagedFolder(tmp, finalDir, gtDir, classes);
    writeJsonAtomic(path.join(tmp, VALIDATION_ARGS_FILE), args);
  });
  const meanDice = meanForegroundDice(summary!);
  log(`validation mean foreground Dice: ${meanDice.toFixed(4)}`);
  return meanDice;
}

// ---- child-process entry -------------------------------------------------------------------------------------

/** Parent → child. */
export type ToChild = { type: 'start'; input: TrainFoldInput } | { type: 'stop' };
/** Child → parent. */
export type FromChild =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'log'; line: string }
  | { type: 'result'; result: TrainFoldResult }
  | { type: 'error'; error: { name: string; message: string; file?: string; stack?: string } };

/** The child's side: waits for `start`, trains, reports; `stop` (or a vanished parent) checkpoints and stops. */
export function serveChild(): void {
  let stopRequested = false;
  const send = (m: FromChild) => { if (process.connected) process.send!(m); };
  // The last message goes out before the process ends (send's callback fires once it is written).
  const sendLast = (m: FromChild) => { if (process.connected) process.send!(m, () => process.exit(0)); else process.exit(0); };
  process.on('disconnect', () => { stopRequested = true; });
  process.on('message', (m: ToChild) => {
    if (m.type === 'stop') { stopRequested = true; return; }
    runTrainingFold(m.input, {
      shouldStop: () => stopRequested,
      onProgress: (progress) => send({ type: 'progress', progress }),
      log: (line) => send({ type: 'log', line }),
    }).then(
      (result) => sendLast({ type: 'result', result }),
      (err: Error & { file?: string }) => sendLast({ type: 'error', error: { name: err.name, message: err.message, file: err.file, stack: err.stack } }),
    );
  });
}

/** A failure the child reported, with its kind kept (BadInput and OutOfMemory stay non-retryable). */
export class ChildTrainingError extends Error {
  constructor(readonly kind: string, message: string, readonly file?: string, stack?: string) {
    super(message);
    this.name = kind;
    if (stack) this.stack = stack;
  }
}

export interface ChildRunOptions {
  onProgress?: (p: TrainProgress) => void;
  onLog?: (line: string) => void;
  /** Aborting asks the child to checkpoint and stop; the promise then resolves with status 'stopped'. */
  signal?: AbortSignal;
}

/** Runs `runTrainingFold` in a child process (this file's own entry), so the caller's event loop stays free. */
export function runTrainingFoldInChild(input: TrainFoldInput, opts: ChildRunOptions = {}): Promise<TrainFoldResult> {
  const isTs = __filename.endsWith('.ts');
  // Under tsx (tests) the child needs tsx's CommonJS hook; never inherit the parent's flags (e.g. --test).
  const child = fork(__filename, [], { execArgv: isTs ? ['--require', require.resolve('tsx/cjs')] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<TrainFoldResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => { if (!settled) { settled = true; opts.signal?.removeEventListener('abort', stop); fn(); } };
    const stop = () => { if (child.connected) child.send({ type: 'stop' } satisfies ToChild); };
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener('abort', stop);
    child.on('message', (m: FromChild) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'log') opts.onLog?.(m.line);
      else if (m.type === 'result') finish(() => resolve(m.result));
      else finish(() => reject(new ChildTrainingError(m.error.name, m.error.message, m.error.file, m.error.stack)));
    });
    child.on('error', (err) => finish(() => reject(err)));
    const memory = child.pid !== undefined ? watchPeakRss(child.pid) : undefined;
    child.on('close', (code, signal) => {
      memory?.stop();
      finish(() => reject(childExitError(code, signal, memory?.peak)));
    });
    child.send({ type: 'start', input } satisfies ToChild);
  });
}

if (require.main === module && process.send) serveChild();
