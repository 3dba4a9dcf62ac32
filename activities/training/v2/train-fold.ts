/**
 * One fold of nnUNetv2_train: the plans' configuration, splits_final.json (created as v2 does when missing), the
 * results tree <results>/<Dataset>/<Trainer>__<Plans>__<configuration>/ (plans.json, dataset.json,
 * dataset_fingerprint.json) with fold_X/ (checkpoints, training log, progress.png, debug.json), resume with
 * --c from checkpoint_final > checkpoint_latest > checkpoint_best as nnUNetTrainer does, then the epochs.
 * At the end the fold's validation (validate-fold.ts, nnUNetTrainer.perform_actual_validation) unless turned off;
 * validateTrainedFoldV2 runs it alone on a trained fold (nnUNetv2_train --val). A cascade stage (previous_stage)
 * trains on the previous stage's predicted_next_stage segmentations (cascade.ts); its network takes one more
 * input channel per foreground label.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainProgress } from '../../contract';
import { writeJsonAtomic } from '../../common/atomic';
import { BadInputError } from '../../common/errors';
import {
  dataFolderV2, datasetFingerprintFile, datasetJsonFile, debugFile, modelPlansFile, plansV2File, progressPlotFile, splitsFile,
  trainingLogFile, V2_CHECKPOINT_FILES, v2FoldFolder, v2ModelFolder,
} from '../../io/layout';
import { LabelManager } from '../../io/label-manager';
import { initBackend } from '../../network/backend';
import { useConvPrecisionLogged } from '../../network/bf16-conv';
import { readV2Architecture, type V2ArchitectureJson } from '../../network/v2/arch-kwargs';
import type { DatasetJsonV2 } from '../../planning/v2/dataset-json';
import { foregroundLabelsOf, segmentationHeads } from '../../planning/v2/dataset-json';
import type { PlansV2 } from '../../planning/v2/experiment';
import { resolveConfiguration } from '../../planning/v2/parameters';
import { writeProgressPng } from '../progress-plot';
import { loadOrCreateSplits, selectFold, type FoldSplit } from '../splits';
import { scaledValidationIterations } from '../trainer';
import { previousStageName, previousStageV2, unpackPreviousStageV2, type PreviousStageV2 } from './cascade';
import type { TrainingLogV2 } from './checkpoint';
import { applyPretrainedWeightsV2 } from './pretrained';
import { NnUNetTrainerV2Loop, type EpochReportV2, type TrainerV2Setup } from './trainer';
import { preprocessedCasesV2, unpackDatasetV2 } from './unpack';
import { validateFoldV2, type ValidateFoldV2Result } from './validate-fold';
import { trainerSettingsV2, type TrainerV2Settings } from './variants';

export interface TrainFoldV2Input {
  /** nnUNet_preprocessed/<Dataset>. */
  preprocessedDir: string;
  /** nnUNet_results. */
  resultsRoot: string;
  /** nnUNet_raw/<Dataset>: its dataset.json is read when the preprocessed folder has no copy. */
  rawDir?: string;
  datasetName: string;
  configuration: string;
  fold: number | 'all';
  trainer: string;
  plansName: string;
  /** --c: continue from the newest checkpoint. */
  continueTraining?: boolean;
  /** -pretrained_weights: a v2 checkpoint whose weights (all but the heads) a fold starting at epoch 0 takes. */
  pretrainedWeights?: string;
  /** --disable_checkpointing. */
  disableCheckpointing?: boolean;
  /** Budget overrides (NNUNET_EPOCHS, NNUNET_ITERATIONS_PER_EPOCH, tests). */
  epochs?: number;
  iterationsPerEpoch?: number;
  valIterationsPerEpoch?: number;
  saveEvery?: number;
  seed?: number;
  numWorkers?: number;
  backend?: string;
  /** false: no fold validation at the end (default true, as nnUNetv2_train). */
  validate?: boolean;
  /** --val_best: validate with checkpoint_best.pth instead of the final weights. */
  validationCheckpoint?: 'final' | 'best';
  /** --npz: the validation also writes <case>.npz + <case>.pkl. */
  saveProbabilities?: boolean;
  /** The worker's training slot this fold runs in (slots.ts describeSlot), for the training log. */
  slot?: string;
  /** 'bfloat16': the convolutions in bfloat16 (`training.precision`; network/bf16-conv.ts); absent: float32. */
  precision?: 'bfloat16';
  /** The training transforms (trainer.ts, TrainerV2Setup.augmentationPipeline); default batchgeneratorsv2. */
  augmentationPipeline?: TrainerV2Setup['augmentationPipeline'];
}

export interface TrainFoldV2Hooks {
  log?: (line: string) => void;
  onEpoch?: (r: EpochReportV2) => void;
  /** After each epoch, what the `train` activity heartbeats. */
  onProgress?: (p: TrainProgress) => void;
  shouldStop?: () => boolean;
}

export type TrainFoldV2Result = { status: 'done' | 'stopped'; foldDir: string; checkpoint: string; epochs: number; validation?: ValidateFoldV2Result };

function readJson<T>(file: string, fix: string): T {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing; ${fix}`, file);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new BadInputError(`${file}: not valid JSON (${(err as Error).message})`, file);
  }
}

/** The dataset's regions and ignore label (v2's LabelManager); regions train with Dice+BCE only (as v2's CE trainer asserts). */
function labelsOf(ds: DatasetJsonV2, file: string, trainer: string, settings: TrainerV2Settings): LabelManager {
  const labels = new LabelManager({ labels: ds.labels, ...(ds.regions_class_order ? { regions_class_order: ds.regions_class_order } : {}) }, file);
  if (labels.hasRegions && settings.loss !== 'dice+ce') {
    throw new BadInputError(`${file}: regions train with Dice+BCE, ${trainer} has a cross-entropy loss only; use nnUNetTrainer`, file);
  }
  return labels;
}

/** folder_with_segs_from_previous_stage of a cascade stage (the same trainer and plans), else undefined. */
function cascadePreviousStage(input: TrainFoldV2Input, cfg: Record<string, unknown>, splits: readonly FoldSplit[]): PreviousStageV2 | undefined {
  const previous = previousStageName(cfg);
  if (!previous) return undefined;
  return previousStageV2({ ...input, previous, splits });
}

/** The settings with the budget overrides; the validation iterations scale with the iterations (1:5, at least 1). */
function settingsOf(input: TrainFoldV2Input): TrainerV2Settings {
  const s = trainerSettingsV2(input.trainer);
  const iters = input.iterationsPerEpoch ?? s.numIterationsPerEpoch;
  return {
    ...s,
    numEpochs: input.epochs ?? s.numEpochs,
    numIterationsPerEpoch: iters,
    numValIterationsPerEpoch: input.valIterationsPerEpoch ?? scaledValidationIterations(iters, s.numIterationsPerEpoch, s.numValIterationsPerEpoch),
    saveEvery: input.saveEvery ?? s.saveEvery,
  };
}

/** nnUNetTrainer's --c: final, else latest, else best; none: start at epoch 0 (v2 warns and does the same). */
function resumeCheckpoint(foldDir: string, continueTraining: boolean | undefined, log: (l: string) => void): string | undefined {
  if (!continueTraining) {
    for (const f of Object.values(V2_CHECKPOINT_FILES)) fs.rmSync(path.join(foldDir, f), { force: true });
    return undefined;
  }
  for (const kind of ['final', 'latest', 'best'] as const) {
    const file = path.join(foldDir, V2_CHECKPOINT_FILES[kind]);
    if (fs.existsSync(file)) return file;
  }
  log('WARNING: Cannot continue training because there seems to be no checkpoint available to continue from. Starting a new training...');
  return undefined;
}

function historyForPlot(l: TrainingLogV2) {
  return {
    trainLosses: l.train_losses, valLosses: l.val_losses, evalMetrics: l.ema_fg_dice,
    pseudoDicePerClass: l.dice_per_class_or_region.map((d) => d.map((x) => (Number.isNaN(x) ? null : x))),
    learningRates: l.lrs, epochSeconds: l.epoch_end_timestamps.map((t, i) => t - l.epoch_start_timestamps[i]!),
  };
}

/** nnUNetv2_train -pretrained_weights on a fold starting at epoch 0 (v2 ignores the file with --c). */
function startFromPretrained(trainer: NnUNetTrainerV2Loop, file: string, log: (l: string) => void): void {
  const { weights, loaded } = applyPretrainedWeightsV2(trainer.description, trainer.network.getWeights(), file);
  trainer.network.setWeights(weights);
  log(`loaded pretrained weights from ${file}: ${loaded} of ${weights.length} parameters (the segmentation heads keep their initialisation)`);
}

/** The model folder's copies of plans.json, dataset.json and dataset_fingerprint.json (nnUNetTrainer.on_train_start). */
function writeModelFiles(modelDir: string, input: TrainFoldV2Input, plans: PlansV2, ds: DatasetJsonV2): void {
  fs.mkdirSync(modelDir, { recursive: true });
  writeJsonAtomic(modelPlansFile(modelDir), plans);
  writeJsonAtomic(datasetJsonFile(modelDir), ds);
  const fingerprint = datasetFingerprintFile(input.preprocessedDir);
  if (fs.existsSync(fingerprint)) fs.copyFileSync(fingerprint, datasetFingerprintFile(modelDir));
}

/** Heartbeat details after an epoch (as v1's progressOf); `checkpoint` is the newest checkpoint on disk, if any. */
function progressOfV2(r: EpochReportV2, totalEpochs: number, checkpoint?: string): TrainProgress {
  return {
    epoch: r.epoch + 1, totalEpochs, trainLoss: r.trainLoss, valLoss: r.valLoss,
    pseudoDice: r.pseudoDice.map((d) => (Number.isNaN(d) ? 0 : d)), ...(checkpoint ? { checkpoint } : {}),
  };
}

export async function trainFoldV2(input: TrainFoldV2Input, hooks: TrainFoldV2Hooks = {}): Promise<TrainFoldV2Result> {
  const plansFile = plansV2File(input.preprocessedDir, input.plansName);
  const plans = readJson<PlansV2>(plansFile, 'run nnUNetv2_plan_and_preprocess (or pass -p with the plans name)');
  const copied = datasetJsonFile(input.preprocessedDir);
  const dsFile = fs.existsSync(copied) || !input.rawDir ? copied : datasetJsonFile(input.rawDir);
  const ds = readJson<DatasetJsonV2>(dsFile, 'nnUNetv2_plan_and_preprocess copies dataset.json to nnUNet_preprocessed/<Dataset>; run it again');
  const settings = settingsOf(input);
  const labels = labelsOf(ds, dsFile, input.trainer, settings);
  if (!plans.configurations?.[input.configuration]) throw new BadInputError(`${plansFile}: no configuration ${input.configuration} (has ${Object.keys(plans.configurations ?? {}).join(', ')})`, plansFile);
  const cfg = resolveConfiguration(plans, input.configuration);
  const spec = readV2Architecture(cfg.architecture as V2ArchitectureJson, `${plansFile} (configuration ${input.configuration})`);

  const dataFolder = dataFolderV2(input.preprocessedDir, String(cfg.data_identifier));
  const cases = preprocessedCasesV2(dataFolder);
  const splits = loadOrCreateSplits(splitsFile({ preprocessedDir: input.preprocessedDir }), cases);
  const split = selectFold(splits, input.fold, cases);
  if (split.val.length === 0) throw new BadInputError(`splits_final.json: fold ${input.fold} has no validation cases`);
  const previousStage = cascadePreviousStage(input, cfg, splits);
  const foreground = foregroundLabelsOf(ds);
  // before anything is written: a missing previous-stage case names the fold to train
  const cascade = previousStage && { previousStageDir: unpackPreviousStageV2(previousStage, [...split.train, ...split.val]), labels: foreground };

  const modelDir = v2ModelFolder(input.resultsRoot, input.datasetName, input.trainer, input.plansName, input.configuration);
  const foldDir = v2FoldFolder(modelDir, input.fold);
  writeModelFiles(modelDir, input, plans, ds);
  fs.mkdirSync(foldDir, { recursive: true });
  const logFile = trainingLogFile(foldDir);
  const log = (line: string) => { fs.appendFileSync(logFile, `${new Date().toISOString()}: ${line}\n`); hooks.log?.(line); };
  const backend = await initBackend({ preference: input.backend });
  log(`backend: ${backend.id} (${backend.detail})`);
  if (input.precision) useConvPrecisionLogged(input.precision, log);
  if (input.slot) log(`training ${input.slot}; CUDA_VISIBLE_DEVICES=${process.env.CUDA_VISIBLE_DEVICES ?? '(unset)'}`);

  const useMask = (cfg.use_mask_for_norm as boolean[] | undefined) ?? [];
  const trainer = new NnUNetTrainerV2Loop({
    trainerName: input.trainer, settings, spec,
    inChannels: Object.keys(ds.channel_names ?? ds.modality ?? {}).length + (previousStage ? foreground.length : 0), numClasses: segmentationHeads(ds), labels,
    patchSize: cfg.patch_size as number[], batchSize: Number(cfg.batch_size), batchDice: cfg.batch_dice === true,
    maskChannels: useMask.flatMap((m, i) => (m ? [i] : [])),
    dataDir: unpackDatasetV2(dataFolder, cases), foldDir, trainCases: split.train, valCases: split.val,
    cascade,
    initArgs: { plans, configuration: input.configuration, fold: input.fold, dataset_json: ds },
    seed: input.seed, numWorkers: input.numWorkers, disableCheckpointing: input.disableCheckpointing, log,
    augmentationPipeline: input.augmentationPipeline,
  });
  try {
    const resume = resumeCheckpoint(foldDir, input.continueTraining, log);
    trainer.initialize(resume);
    if (resume) log(`continuing from ${path.basename(resume)} (epoch ${trainer.epoch})`);
    else if (input.pretrainedWeights) startFromPretrained(trainer, input.pretrainedWeights, log);
    writeJsonAtomic(debugFile(foldDir), {
      trainer_name: input.trainer, configuration: input.configuration, fold: input.fold, backend: backend.id, settings,
      batch_dice: trainer.lossOptions.batchDice, deep_supervision_weights: trainer.dsWeights, patch_size: cfg.patch_size,
      initial_patch_size: trainer.augmentation.generatorPatchSize, do_dummy_2d_data_aug: trainer.augmentation.dummy2D,
      rotation_for_DA: trainer.augmentation.rotation.x, inference_allowed_mirroring_axes: trainer.mirrorAxes,
      num_parameters: trainer.description.numParameters, train_cases: split.train, val_cases: split.val, network: trainer.network.summary(),
      is_cascaded: previousStage !== undefined, folder_with_segs_from_previous_stage: previousStage?.folder ?? null,
    });
    log(`training ${split.train.length} cases, validating ${split.val.length}; ${settings.numEpochs} epochs from epoch ${trainer.epoch}`);
    const title = `${input.datasetName} ${input.configuration} ${input.trainer} fold ${input.fold}`;
    let newest = resume;
    const outcome = await trainer.run({
      shouldStop: hooks.shouldStop,
      onEpoch: async (r) => {
        await writeProgressPng(progressPlotFile(foldDir), historyForPlot(trainer.log), title);
        newest = r.checkpoint ?? newest;
        hooks.onEpoch?.(r);
        hooks.onProgress?.(progressOfV2(r, settings.numEpochs, newest));
      },
    });
    if (outcome.status === 'stopped') {
      log(`stopped; state saved in ${path.basename(outcome.checkpoint)}`);
      return { status: 'stopped', foldDir, checkpoint: outcome.checkpoint, epochs: trainer.epoch };
    }
    const done = { status: 'done' as const, foldDir, checkpoint: outcome.finalCheckpoint, epochs: trainer.epoch };
    if (input.validate === false) return done;
    if (input.disableCheckpointing) {
      log('fold validation skipped: --disable_checkpointing wrote no checkpoint_final.pth to predict with');
      return done;
    }
    const validation = await validateFoldV2({
      modelDir, fold: input.fold, preprocessedDir: input.preprocessedDir, valCases: split.val, checkpoint: input.validationCheckpoint, saveProbabilities: input.saveProbabilities,
      previousStage, log,
    });
    return { ...done, validation };
  } finally {
    await trainer.dispose();
  }
}

/**
 * nnUNetv2_train --val [--val_best]: the validation of a trained fold alone, from checkpoint_final.pth (or
 * checkpoint_best.pth), with the fold's validation cases from splits_final.json.
 */
export async function validateTrainedFoldV2(input: TrainFoldV2Input, checkpoint: 'final' | 'best', log?: (line: string) => void): Promise<ValidateFoldV2Result> {
  const plansFile = plansV2File(input.preprocessedDir, input.plansName);
  const plans = readJson<PlansV2>(plansFile, 'run nnUNetv2_plan_and_preprocess (or pass -p with the plans name)');
  if (!plans.configurations?.[input.configuration]) throw new BadInputError(`${plansFile}: no configuration ${input.configuration}`, plansFile);
  const cfg = resolveConfiguration(plans, input.configuration);
  const cases = preprocessedCasesV2(dataFolderV2(input.preprocessedDir, String(cfg.data_identifier)));
  const splits = splitsFile({ preprocessedDir: input.preprocessedDir });
  if (!fs.existsSync(splits)) throw new BadInputError(`${splits}: missing; train the fold first (nnUNetv2_train without --val)`, splits);
  const allSplits = loadOrCreateSplits(splits, cases);
  const split = selectFold(allSplits, input.fold, cases);
  const modelDir = v2ModelFolder(input.resultsRoot, input.datasetName, input.trainer, input.plansName, input.configuration);
  const file = path.join(v2FoldFolder(modelDir, input.fold), V2_CHECKPOINT_FILES[checkpoint]);
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing; train the fold to the end first${checkpoint === 'best' ? ' (or validate checkpoint_final.pth without --val_best)' : ''}`, file);
  await initBackend({ preference: input.backend });
  return validateFoldV2({
    modelDir, fold: input.fold, preprocessedDir: input.preprocessedDir, valCases: split.val, checkpoint, saveProbabilities: input.saveProbabilities,
    previousStage: cascadePreviousStage(input, cfg, allSplits), log,
  });
}
