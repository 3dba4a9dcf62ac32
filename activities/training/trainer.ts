/**
 * nnUNetTrainerV2's training loop: epochs of training iterations (poly LR, Nesterov SGD,
 * clipping at 12, deep-supervised Dice+CE), validation iterations for the validation loss and the online
 * pseudo-Dice, nnU-Net's moving averages and best-model tracking, the momentum rescue at epoch 100, and
 * checkpoints that resume the exact stream (weights, momentum, histories, loader and augmentation RNG states).
 *
 * Knobs a subclass changes are protected fields (`maxEpochs`, `iterationsPerEpoch`, ...); a subclass registered
 * by name in trainer-registry.ts is a custom trainer.
 * See docs/training.md, 'The loop'.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../common/errors';
import type { Configuration } from '../contract';
import type { UNetArchitecture } from '../network/architecture';
import { deepSupervisionWeights } from '../network/deep-supervision';
import { trainStep, type TrainBatch } from './train-step';
import { buildUNet, type UNet } from '../network/unet';
import { labelManagerOf, segmentationHeadsOf, type Plans, type StagePlan } from '../planning/plans';
import type { LabelManager } from '../io/label-manager';
import { BatchProducer, type NetworkBatch, type ProducerState } from './batch-worker';
import {
  CHECKPOINT_FILES, writeCheckpoint, type BestTracking, type Checkpoint, type CheckpointKind, type TrainingHistory,
} from './checkpoint';
import { batchDiceFor, deepSupervisionLoss, type DiceCeOptions, type LossKind } from './loss';
import { AmsgradAdam, NesterovSgd, SGD_DEFAULTS, polyLearningRate, type SgdState, type TrainingOptimizer } from './optimizer';
import { setupAugmentationParams, type AugmentationParams } from './patch-size';
import type { LrFinderResult } from './lr-finder-plot';

/** What one fold's training needs; the stage may be a plan stage overridden for tests (tiny patch/network). */
export interface TrainerSetup {
  trainerName: string;
  plans: Plans;
  configuration: Configuration;
  stage: StagePlan;
  /** Preprocessed stage folder (<case>.npy / <case>.json). */
  dataDir: string;
  foldDir: string;
  trainCases: string[];
  valCases: string[];
  /** Overrides of the trainer's defaults (TrainInput.epochs / iterationsPerEpoch, tests). */
  epochs?: number;
  iterationsPerEpoch?: number;
  validationIterations?: number;
  /** Network width override (tests); nnU-Net: 32. */
  baseFeatures?: number;
  /** Seed of the network init and the batch streams (nnU-Net is unseeded by default; we are reproducible). */
  seed?: number;
  /** Periodic checkpoint every N epochs (nnU-Net 50) and every M minutes (default 30; 0: off). */
  checkpointEveryEpochs?: number;
  checkpointEveryMinutes?: number;
  /** Write model_best when the moving-average criterion improves (default true; nnUNet_train --disable_saving: false). */
  saveBest?: boolean;
  /**
   * Batch-producing worker threads of the training stream (default: cores − 1, 1 to 4; 0: made in this thread;
   * a resume keeps the saved count, where 0 and 1 are the same stream).
   */
  numWorkers?: number;
  /** 3d_cascade_fullres: folder of <case>_segFromPrevStage.npy (the 3d_lowres pred_next_stage, cascade.ts). */
  previousStageDir?: string;
  /** Facts stored in checkpoints / debug.json (backend, plans file...). */
  info?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface EpochReport {
  epoch: number;
  totalEpochs: number;
  trainLoss: number;
  valLoss: number;
  /** Online pseudo-Dice per foreground class (NaN where a class was absent from prediction and target). */
  pseudoDice: number[];
  meanPseudoDice: number;
  learningRate: number;
  seconds: number;
  /** The checkpoint written at the end of this epoch, if any. */
  checkpoint?: string;
  isBest: boolean;
}

export interface RunHooks {
  /** After every epoch (heartbeat, plot). */
  onEpoch?: (report: EpochReport, trainer: NnUNetTrainerV2) => void | Promise<void>;
  /** Polled between iterations; true stops after writing a checkpoint (cancellation). */
  shouldStop?: () => boolean;
}

/** The cascade's extra input: previous-stage segmentations and the foreground labels one-hot encoded from them. */
export interface CascadeInput { previousStageDir: string; labels: number[] }

export type RunOutcome = { status: 'finished'; finalCheckpoint: string } | { status: 'stopped'; checkpoint: string };

/** Training batch workers: one core is the training step's; nnU-Net's augmentation gains little past 4 here. */
export function defaultBatchWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

/** The saved stream's worker count, or `wanted` where it makes the same stream (0 and 1: one stream). */
export function resumedWorkerCount(saved: ProducerState | undefined, wanted: number): number {
  if (!saved) return wanted;
  return saved.workers.length === 1 && wanted <= 1 ? wanted : saved.workers.length;
}

/** A crash costs at most this much training even between the 50-epoch checkpoints. */
export const DEFAULT_CHECKPOINT_MINUTES = 30;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const EMPTY_HISTORY = (): TrainingHistory => ({ trainLosses: [], valLosses: [], evalMetrics: [], pseudoDicePerClass: [], learningRates: [], epochSeconds: [] });

/** nnU-Net's finish_online_evaluation: global Dice per foreground class over the epoch's accumulated counts. */
export function globalDice(tp: Float64Array, fp: Float64Array, fn: Float64Array): number[] {
  return Array.from(tp, (t, c) => (2 * t) / (2 * t + fp[c]! + fn[c]!));
}

/**
 * The online tp/fp/fn per region (v2's region pseudo-Dice): a region is predicted where its logit is above 0
 * (sigmoid > 0.5); ignore-label voxels count nowhere. Logits are channels last, one channel per region.
 */
export function countRegionOverlap(
  logits: Float32Array, target: Int32Array, labels: LabelManager, counts: { tp: Float64Array; fp: Float64Array; fn: Float64Array },
): void {
  const members = labels.regionMembership();
  const R = members.length;
  for (let v = 0; v < target.length; v++) {
    const t = target[v]!;
    if (t === labels.ignoreLabel) continue;
    for (let r = 0; r < R; r++) {
      const p = logits[v * R + r]! > 0;
      const y = members[r]![t] === 1;
      if (p && y) counts.tp[r]!++; else if (p) counts.fp[r]!++; else if (y) counts.fn[r]!++;
    }
  }
}

/** Mean of the non-NaN values (NaN classes dropped as nnU-Net does); NaN when none remain. */
export function meanIgnoringNaN(values: readonly number[]): number {
  const ok = values.filter((v) => !Number.isNaN(v));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}

/**
 * Validation iterations when the iteration count is overridden: nnU-Net's 50 per 250 (1:5), at least 1, so small
 * budgets do not spend most of their time validating.
 */
export function scaledValidationIterations(iterations: number, defaultIterations = 250, defaultValidation = 50): number {
  if (iterations === defaultIterations) return defaultValidation;
  return Math.max(1, Math.ceil((iterations * defaultValidation) / defaultIterations));
}

/** nnUNetTrainerV2's schedule; the config's defaults equal it. */
export const BASE_SCHEDULE = { epochs: 1000, iterationsPerEpoch: 250 } as const;

/** What a trainer variant may change, in one object (tests compare variants with nnUNetTrainerV2 through it). */
export interface VariantSettings {
  maxEpochs: number;
  iterationsPerEpoch: number;
  initialLearningRate: number;
  loss: LossKind;
  diceSmooth: number;
  diceWithBackground: boolean;
  /** Known after initialize (it depends on the configuration). */
  batchDice?: boolean;
  deepSupervision: boolean;
  optimizer: 'sgd' | 'adam';
  /** SGD's momentum (undefined for Adam). */
  momentum?: number;
  dataAugmentation: boolean;
  mirrorsInTraining: boolean;
}

export class NnUNetTrainerV2 {
  // nnUNetTrainerV2's constants (docs/training.md, 'The loop'); subclasses override these.
  protected maxEpochs: number = BASE_SCHEDULE.epochs;
  protected iterationsPerEpoch: number = BASE_SCHEDULE.iterationsPerEpoch;
  protected validationIterations = 50;
  protected initialLearningRate: number = SGD_DEFAULTS.learningRate;
  protected saveEvery = 50;
  protected trainLossMAAlpha = 0.93;
  protected valEvalCriterionAlpha = 0.9;
  /** Epoch at whose end a zero online Dice triggers the momentum rescue. */
  protected momentumRescueEpoch = 100;
  // Knobs of nnU-Net's trainer variants (trainer-variants.ts).
  /** The loss per output level; Dice+CE as nnUNetTrainerV2. */
  protected lossKind: LossKind = 'dice+ce';
  /** Soft Dice smoothing (nnU-Net 1e-5; the _noSmooth variant 0). */
  protected diceSmooth = 1e-5;
  /** false: only the highest-resolution output enters the loss (nnUNetTrainerV2_noDeepSupervision). */
  protected deepSupervision = true;
  protected optimizerKind: 'sgd' | 'adam' = 'sgd';
  /** Soft Dice over all classes, background included (nnUNetTrainerV2_Loss_DicewithBG). */
  protected diceWithBackground = false;
  /** Forces batch Dice on or off (nnUNetTrainerV2_ForceBD / _ForceSD); undefined: nnU-Net's choice per configuration. */
  protected forceBatchDice?: boolean;
  /** Requires a region dataset (nnUNetTrainerV2BraTSRegions); plain trainers train regions when the plans have them. */
  protected requiresRegions = false;
  /** The SGD momentum for this network (nnUNetTrainerV2: 0.99). */
  protected sgdMomentum(): number {
    return SGD_DEFAULTS.momentum;
  }
  /** false: the training batches are cropped to the patch without any augmentation (nnUNetTrainerV2_noDataAugmentation). */
  protected dataAugmentation = true;
  /** Adjusts the augmentation after nnUNetTrainerV2's set-up (a variant's setup_DA_params). */
  protected adjustAugmentation(params: AugmentationParams): AugmentationParams {
    return params;
  }
  /**
   * Whether training mirrors: nnU-Net's variants without it force mirroring TTA off in their validation (and
   * prediction). Static so the fold's validation settings are known before a trainer exists.
   */
  static readonly mirrorsInTraining: boolean = true;

  epoch = 0;
  history: TrainingHistory = EMPTY_HISTORY();
  best: BestTracking = { trainLossMA: null, valEvalCriterionMA: null, bestValEvalCriterionMA: null, bestEpoch: null };
  network!: UNet;
  optimizer!: TrainingOptimizer;
  augmentation!: AugmentationParams;
  private trainBatches!: BatchProducer;
  private valBatches!: BatchProducer;
  private dsWeights: number[] = [];
  private lossOptions!: DiceCeOptions;
  private lastCheckpointAt = Date.now();
  /** The newest checkpoint file written by this trainer (heartbeats report it). */
  lastCheckpoint?: string;
  private readonly log: (line: string) => void;

  constructor(readonly setup: TrainerSetup) {
    this.log = setup.log ?? (() => undefined);
  }

  /**
   * Applies input overrides after a subclass's field initialisers ran. nnUNetTrainerV2's own 1000 epochs / 250
   * iterations (the config's defaults) leave a variant's schedule as it is; any other number overrides it.
   */
  private applyOverrides(): void {
    const s = this.setup;
    if (s.epochs !== undefined && s.epochs !== BASE_SCHEDULE.epochs) this.maxEpochs = s.epochs;
    if (s.iterationsPerEpoch !== undefined && s.iterationsPerEpoch !== BASE_SCHEDULE.iterationsPerEpoch) {
      this.validationIterations = scaledValidationIterations(s.iterationsPerEpoch, this.iterationsPerEpoch, this.validationIterations);
      this.iterationsPerEpoch = s.iterationsPerEpoch;
    }
    if (s.validationIterations !== undefined) this.validationIterations = s.validationIterations;
    if (s.checkpointEveryEpochs !== undefined) this.saveEvery = s.checkpointEveryEpochs;
  }

  get totalEpochs(): number {
    return this.maxEpochs;
  }

  /** 3d_cascade_fullres trainers return their previous-stage input; plain trainers have none. */
  protected cascadeInput(): CascadeInput | undefined {
    return undefined;
  }

  /** Network input channels: modalities (+ K−1 one-hot previous-stage channels for the cascade). */
  get inputChannels(): number {
    return this.setup.plans.num_modalities + (this.cascade?.labels.length ?? 0);
  }

  private cascade?: CascadeInput;

  get architecture(): UNetArchitecture {
    return this.network.architecture;
  }

  /** Builds network, optimiser and batch streams; from a checkpoint when given (resume). */
  initialize(resume?: Checkpoint): void {
    this.applyOverrides();
    const { plans, stage, configuration } = this.setup;
    const seed = this.setup.seed ?? 12345;
    this.cascade = this.cascadeInput();
    this.labels = this.checkLabels();
    const cascadeLabels = this.cascade?.labels;
    this.network = buildUNet(stage, {
      inChannels: this.inputChannels,
      numClasses: segmentationHeadsOf(plans),
      baseFeatures: this.setup.baseFeatures ?? plans.base_num_features,
      maxFeatures: plans.unet_max_num_features,
      seed,
    });
    this.optimizer = this.createOptimizer();
    this.augmentation = this.adjustAugmentation(setupAugmentationParams(stage, plans.use_mask_for_norm, { cascadeLabels }));
    this.dsWeights = this.lossWeights(this.augmentation.deepSupervisionScales.length || 1);
    this.lossOptions = {
      batchDice: this.forceBatchDice ?? batchDiceFor(configuration, Object.keys(plans.plans_per_stage).length > 1 && plans.plans_kind === '3d'),
      kind: this.lossKind, smooth: this.diceSmooth, doBg: this.diceWithBackground,
      ...(this.labels?.hasRegions ? { regions: this.labels.regionMembership() } : {}),
      ...(this.labels?.ignoreLabel !== undefined ? { ignoreLabel: this.labels.ignoreLabel } : {}),
    };
    let rng: { train?: ProducerState; val?: ProducerState } = {};
    if (resume) {
      this.restore(resume);
      rng = resume.meta.rng;
    }
    const loader = {
      dir: this.setup.dataDir, batchSize: stage.batch_size, finalPatchSize: stage.patch_size,
      ...(this.cascade ? { previousStageDir: this.cascade.previousStageDir } : {}),
    };
    // The saved stream states belong to a worker count: a resume keeps it, whatever this machine has.
    const numWorkers = resumedWorkerCount(rng.train, this.setup.numWorkers ?? defaultBatchWorkers());
    // Validation: one worker (0 when the training stream is made in-thread: no threads at all).
    const valWorkers = resumedWorkerCount(rng.val, Math.min(1, numWorkers));
    // Without augmentation nnU-Net's training loader samples the network patch itself, like its validation loader.
    this.trainBatches = new BatchProducer({
      loader: { ...loader, caseIds: this.setup.trainCases, patchSize: this.dataAugmentation ? this.augmentation.generatorPatchSize : stage.patch_size },
      augmentation: this.dataAugmentation ? this.augmentation : null, deepSupervisionScales: this.augmentation.deepSupervisionScales,
      ...(this.dataAugmentation ? {} : { cascadeLabels }),
      seed, state: rng.train, numWorkers, queueSize: 2 * numWorkers,
    });
    this.valBatches = new BatchProducer({
      loader: { ...loader, caseIds: this.setup.valCases, patchSize: stage.patch_size },
      augmentation: null, deepSupervisionScales: this.augmentation.deepSupervisionScales, cascadeLabels,
      seed: seed + 1, state: rng.val, numWorkers: valWorkers, queueSize: 2,
    });
    this.lastCheckpointAt = Date.now();
  }

  /** The plans' regions / ignore label (undefined for plain labels), refused where this trainer cannot use them. */
  private checkLabels(): LabelManager | undefined {
    const labels = labelManagerOf(this.setup.plans, `plans of ${this.setup.trainerName}`);
    const name = this.setup.trainerName;
    if (this.requiresRegions && !labels?.hasRegions) {
      throw new BadInputError(`${name} trains regions: the dataset.json labels must define regions (list values) and regions_class_order; use nnUNetTrainerV2 for plain labels`);
    }
    if (labels?.hasRegions && this.cascade) throw new BadInputError(`${name}: the cascade does not support region-based training yet; train 3d_fullres or 2d`);
    if (labels?.hasRegions && this.lossKind !== 'dice+ce') throw new BadInputError(`${name}: region outputs train with Dice+BCE only; use nnUNetTrainerV2 or nnUNetTrainerV2BraTSRegions`);
    return labels;
  }

  /** Regions and the ignore label of the plans; undefined for plain labels. */
  labels?: LabelManager;

  private createOptimizer(): TrainingOptimizer {
    const learningRate = this.initialLearningRate;
    if (this.optimizerKind === 'adam') return new AmsgradAdam(this.network.variables, { learningRate });
    return new NesterovSgd(this.network.variables, { learningRate, momentum: this.sgdMomentum() });
  }

  /** Deep-supervision weights 2^-i (last 0, normalised), or the highest resolution alone without deep supervision. */
  private lossWeights(levels: number): number[] {
    if (this.deepSupervision) return deepSupervisionWeights(levels);
    return Array.from({ length: levels }, (_, i) => (i === 0 ? 1 : 0));
  }

  /** The settings a variant changes (loss, optimiser, schedule, augmentation), as tests and debug.json read them. */
  get variantSettings(): VariantSettings {
    return {
      maxEpochs: this.maxEpochs, iterationsPerEpoch: this.iterationsPerEpoch, initialLearningRate: this.initialLearningRate,
      loss: this.lossKind, diceSmooth: this.diceSmooth, diceWithBackground: this.diceWithBackground, batchDice: this.lossOptions?.batchDice,
      deepSupervision: this.deepSupervision, optimizer: this.optimizerKind, momentum: this.optimizerKind === 'sgd' ? this.sgdMomentum() : undefined,
      dataAugmentation: this.dataAugmentation, mirrorsInTraining: (this.constructor as typeof NnUNetTrainerV2).mirrorsInTraining,
    };
  }

  private restore(c: Checkpoint): void {
    const names = this.network.architecture.params.map((p) => p.name);
    if (c.weightNames.length !== names.length || c.weightNames.some((n, i) => n !== names[i])) {
      throw new Error('the checkpoint was written for a different network (parameter names differ); delete it or train with the same plans');
    }
    this.network.setWeights(c.weights);
    this.optimizer.setState({ ...c.meta.optimizer, buffers: c.momentum });
    this.epoch = c.meta.epoch;
    this.history = c.meta.history;
    this.best = c.meta.best;
  }

  private toTensors(b: NetworkBatch): TrainBatch {
    return { data: tf.tensor(b.data, b.dataShape, 'float32'), targets: b.targets.map((t) => tf.tensor(t.data, t.shape, 'int32')) };
  }

  private static dispose(b: TrainBatch): void {
    b.data.dispose();
    for (const t of b.targets) t.dispose();
  }

  /** One training iteration; returns the loss. */
  protected async trainIteration(): Promise<number> {
    const batch = this.toTensors(await this.trainBatches.next());
    try {
      return trainStep(this.network, this.optimizer, batch, this.dsWeights, this.lossOptions).loss;
    } finally {
      NnUNetTrainerV2.dispose(batch);
    }
  }

  /** One validation iteration: loss and the online tp/fp/fn of the hard argmax per foreground class. */
  protected async validationIteration(tp: Float64Array, fp: Float64Array, fn: Float64Array): Promise<number> {
    const batch = this.toTensors(await this.valBatches.next());
    try {
      const { loss, seg, logits } = tf.tidy(() => {
        const outputs = this.network.apply(batch.data);
        const l = deepSupervisionLoss(outputs, batch.targets, this.dsWeights, this.lossOptions).dataSync()[0]!;
        if (this.labels?.hasRegions) return { loss: l, seg: new Int32Array(0), logits: outputs[0]!.dataSync() as Float32Array };
        return { loss: l, seg: tf.argMax(outputs[0]!, -1).dataSync() as Int32Array, logits: undefined };
      });
      const target = batch.targets[0]!.dataSync() as Int32Array;
      if (logits) {
        countRegionOverlap(logits, target, this.labels!, { tp, fp, fn });
        return loss;
      }
      const ignore = this.labels?.ignoreLabel;
      for (let i = 0; i < seg.length; i++) {
        if (target[i] === ignore) continue;
        const p = seg[i]!;
        const t = target[i]!;
        if (p === t) { if (p > 0) tp[p - 1]!++; continue; }
        if (p > 0) fp[p - 1]!++;
        if (t > 0) fn[t - 1]!++;
      }
      return loss;
    } finally {
      NnUNetTrainerV2.dispose(batch);
    }
  }

  /**
   * nnU-Net's find_lr (NetworkTrainer.find_lr): training iterations at a learning rate growing exponentially from
   * 1e-6 to 10, the loss (+1, as nnU-Net's is negative) smoothed with β = 0.98 and bias-corrected; stops once the
   * smoothed loss exceeds 4× the best. It changes the network: callers keep nothing of it.
   */
  async findLearningRate({ numIters = 1000, initValue = 1e-6, finalValue = 10, beta = 0.98 } = {}): Promise<LrFinderResult> {
    const mult = (finalValue / initValue) ** (1 / numIters);
    let lr = initValue;
    let avg = 0;
    let best = 0;
    const out: LrFinderResult = { learningRates: [], losses: [] };
    for (let batch = 1; batch <= numIters; batch++) {
      this.optimizer.learningRate = lr;
      await yieldToEventLoop();
      avg = beta * avg + (1 - beta) * ((await this.trainIteration()) + 1);
      const smoothed = avg / (1 - beta ** batch);
      if (batch > 1 && smoothed > 4 * best) break;
      if (smoothed < best || batch === 1) best = smoothed;
      out.losses.push(smoothed);
      out.learningRates.push(lr);
      lr *= mult;
    }
    return out;
  }

  /** Runs epochs until maxEpochs or a stop request; writes checkpoints as nnU-Net does. */
  async run(hooks: RunHooks = {}): Promise<RunOutcome> {
    const stop = hooks.shouldStop ?? (() => false);
    while (this.epoch < this.maxEpochs) {
      const report = await this.runEpoch(stop);
      if (!report) return { status: 'stopped', checkpoint: this.saveCheckpoint('latest') };
      await hooks.onEpoch?.(report, this);
      if (stop()) return { status: 'stopped', checkpoint: report.checkpoint ?? this.saveCheckpoint('latest') };
    }
    const finalCheckpoint = this.saveCheckpoint('final');
    fs.rmSync(path.join(this.setup.foldDir, CHECKPOINT_FILES.latest), { force: true });
    return { status: 'finished', finalCheckpoint };
  }

  /** One epoch (train, validate, on_epoch_end); undefined when a stop request interrupted it (state unchanged). */
  async runEpoch(stop: () => boolean = () => false): Promise<EpochReport | undefined> {
    const started = Date.now();
    const e = this.epoch;
    const lr = polyLearningRate(e, this.maxEpochs, this.initialLearningRate);
    this.optimizer.learningRate = lr;
    // A stop mid-epoch must not leave half-updated weights behind a checkpoint that claims epoch e: keep a copy.
    const before = { weights: this.network.getWeights(), optimizer: this.optimizer.getState(), rng: this.rngState() };
    let trainSum = 0;
    for (let i = 0; i < this.iterationsPerEpoch; i++) {
      await yieldToEventLoop(); // lets a stop request (IPC message, signal) arrive between iterations
      if (stop()) return this.rollback(before);
      trainSum += await this.trainIteration();
    }
    const K = this.labels?.hasRegions ? this.labels.foregroundRegions.length : this.setup.plans.num_classes;
    const tp = new Float64Array(K), fp = new Float64Array(K), fn = new Float64Array(K);
    let valSum = 0;
    for (let i = 0; i < this.validationIterations; i++) valSum += await this.validationIteration(tp, fp, fn);
    const pseudoDice = globalDice(tp, fp, fn);
    const report: EpochReport = {
      epoch: e, totalEpochs: this.maxEpochs, trainLoss: trainSum / this.iterationsPerEpoch, valLoss: valSum / this.validationIterations,
      pseudoDice, meanPseudoDice: meanIgnoringNaN(pseudoDice), learningRate: lr, seconds: 0, isBest: false,
    };
    this.onEpochEnd(report, started);
    return report;
  }

  private rollback(before: { weights: Float32Array[]; optimizer: SgdState; rng: { train: ProducerState; val: ProducerState } }): undefined {
    this.network.setWeights(before.weights);
    this.optimizer.setState(before.optimizer);
    this.pendingRng = before.rng;
    return undefined;
  }

  private pendingRng?: { train: ProducerState; val: ProducerState };

  private rngState(): { train: ProducerState; val: ProducerState } {
    return this.pendingRng ?? { train: this.trainBatches.state(), val: this.valBatches.state() };
  }

  /** nnUNetTrainer.on_epoch_end + NetworkTrainer's moving averages, then the checkpoints. */
  private onEpochEnd(r: EpochReport, started: number): void {
    const h = this.history;
    h.trainLosses.push(r.trainLoss);
    h.valLosses.push(r.valLoss);
    h.evalMetrics.push(r.meanPseudoDice);
    h.pseudoDicePerClass.push(r.pseudoDice.map((d) => (Number.isNaN(d) ? null : d)));
    h.learningRates.push(r.learningRate);
    const b = this.best;
    b.trainLossMA = b.trainLossMA === null ? r.trainLoss : this.trainLossMAAlpha * b.trainLossMA + (1 - this.trainLossMAAlpha) * r.trainLoss;
    // update_eval_criterion_MA: the online Dice (or −val loss when it is NaN) smoothed with alpha 0.9.
    const criterion = Number.isNaN(r.meanPseudoDice) ? -r.valLoss : r.meanPseudoDice;
    b.valEvalCriterionMA = b.valEvalCriterionMA === null ? criterion : this.valEvalCriterionAlpha * b.valEvalCriterionMA + (1 - this.valEvalCriterionAlpha) * criterion;
    // manage_patience: the first value only initialises the best; later, a strictly higher MA is a new best.
    if (b.bestValEvalCriterionMA === null) b.bestValEvalCriterionMA = b.valEvalCriterionMA;
    else if (b.valEvalCriterionMA > b.bestValEvalCriterionMA) {
      b.bestValEvalCriterionMA = b.valEvalCriterionMA;
      b.bestEpoch = r.epoch;
      r.isBest = true;
    }
    if (r.epoch === this.momentumRescueEpoch && r.meanPseudoDice === 0) {
      this.log('momentum rescue: online Dice is 0 at epoch 100; momentum 0.95 and conv weights re-initialised');
      this.optimizer.momentum = 0.95;
      this.network.reinitializeConvs((this.setup.seed ?? 12345) + 1);
    }
    this.epoch = r.epoch + 1;
    r.seconds = (Date.now() - started) / 1000;
    h.epochSeconds.push(r.seconds);
    if (r.isBest && this.setup.saveBest !== false) this.saveCheckpoint('best');
    const minutes = this.setup.checkpointEveryMinutes ?? DEFAULT_CHECKPOINT_MINUTES;
    const periodic = r.epoch % this.saveEvery === this.saveEvery - 1 || (minutes > 0 && Date.now() - this.lastCheckpointAt >= minutes * 60_000);
    if (periodic && this.epoch < this.maxEpochs) r.checkpoint = this.saveCheckpoint('latest');
    this.logEpoch(r);
  }

  private logEpoch(r: EpochReport): void {
    const f = (v: number) => v.toFixed(4);
    this.log(`epoch: ${r.epoch}`);
    this.log(`train loss : ${f(r.trainLoss)}`);
    this.log(`validation loss: ${f(r.valLoss)}`);
    this.log(`Average global foreground Dice: [${r.pseudoDice.map(f).join(', ')}]`);
    this.log('(interpret this as an estimate for the Dice of the different classes. This is not exact.)');
    this.log(`lr: ${r.learningRate.toPrecision(6)}`);
    if (r.isBest) this.log('New best epoch (MA of the online Dice)');
    if (r.checkpoint) this.log(`saved checkpoint ${path.basename(r.checkpoint)}`);
    this.log(`This epoch took ${r.seconds.toFixed(1)} s`);
  }

  /** The state after `this.epoch` completed epochs. */
  checkpoint(): Checkpoint {
    const opt = this.optimizer.getState();
    return {
      meta: {
        trainer: this.setup.trainerName,
        epoch: this.epoch,
        maxEpochs: this.maxEpochs,
        iterationsPerEpoch: this.iterationsPerEpoch,
        optimizer: { learningRate: opt.learningRate, momentum: opt.momentum, steps: opt.steps },
        rng: this.rngState(),
        history: this.history,
        best: this.best,
        info: { configuration: this.setup.configuration, ...this.setup.info },
      },
      weights: this.network.getWeights(),
      weightNames: this.network.architecture.params.map((p) => p.name),
      weightShapes: this.network.architecture.params.map((p) => p.shape),
      momentum: opt.buffers,
    };
  }

  saveCheckpoint(kind: CheckpointKind): string {
    const file = path.join(this.setup.foldDir, CHECKPOINT_FILES[kind]);
    writeCheckpoint(file, this.checkpoint());
    if (kind !== 'best') this.lastCheckpointAt = Date.now();
    this.lastCheckpoint = file;
    return file;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.trainBatches?.close(), this.valBatches?.close()]);
    this.optimizer?.dispose();
    this.network?.dispose();
  }
}
