/**
 * nnunetv2's nnUNetTrainer loop on our v2 networks: per epoch the poly learning rate (exponent 0.9), the training
 * iterations (deep-supervised Dice+CE, or Dice+BCE on sigmoid outputs for regions, ignore-label voxels masked out
 * of both; Nesterov SGD with clipping at 12), the validation iterations for the validation loss and the pseudo-Dice
 * (per label, or per region where sigmoid > 0.5), then on_epoch_end: the EMA pseudo-Dice (0.9·ema + 0.1·mean foreground
 * Dice) decides checkpoint_best.pth, checkpoint_latest.pth every save_every epochs, checkpoint_final.pth at the end.
 * Batches come from the batch workers with nnUNetTrainer's batchgeneratorsv2 transforms (v2/augmentation/).
 * See docs/nnunet-v2-training.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { LabelManager } from '../../io/label-manager';
import { V2_CHECKPOINT_FILES } from '../../io/layout';
import { deepSupervisionWeights } from '../../network/deep-supervision';
import type { V2NetworkSpec } from '../../network/v2/arch-kwargs';
import { describeV2Network, type V2NetworkDescription } from '../../network/v2/describe';
import { buildV2UNet, type V2UNet } from '../../network/v2/unet';
import { BatchProducer, type NetworkBatch, type ProducerState } from '../batch-worker';
import { deepSupervisionLoss, type DiceCeOptions } from '../loss';
import { lossAndGradients, NesterovSgd, polyLearningRate, type SgdState } from '../optimizer';
import { countRegionOverlap, globalDice, meanIgnoringNaN, defaultBatchWorkers } from '../trainer';
import type { AugmentationParams } from '../patch-size';
import { augmentationParamsV2 } from './augmentation-v2';
import { toAugmentationV2 } from './augmentation/pipeline';
import { emptyLogV2, readCheckpointV2, writeCheckpointV2, type CheckpointV2, type TrainingLogV2 } from './checkpoint';
import type { TrainerV2Settings } from './variants';

export type CheckpointKindV2 = keyof typeof V2_CHECKPOINT_FILES;

export interface TrainerV2Setup {
  trainerName: string;
  settings: TrainerV2Settings;
  spec: V2NetworkSpec;
  inChannels: number;
  /** Segmentation heads: one per label with background, or one per foreground region. */
  numClasses: number;
  /** The dataset's regions and ignore label (LabelManager); plain labels need none. */
  labels?: LabelManager;
  patchSize: number[];
  batchSize: number;
  batchDice: boolean;
  /** Channels normalised inside the nonzero mask (use_mask_for_norm). */
  maskChannels: number[];
  /** Unpacked training folder (unpack.ts). */
  dataDir: string;
  foldDir: string;
  trainCases: string[];
  valCases: string[];
  /** init_args of the checkpoints (plans, configuration, fold, dataset_json). */
  initArgs: CheckpointV2['initArgs'];
  seed?: number;
  numWorkers?: number;
  /** 3d_cascade_fullres: the loader's folder of <case>_segFromPrevStage.npy and the foreground labels (one-hot inputs). */
  cascade?: { previousStageDir: string; labels: number[] };
  /**
   * The training transforms: nnunetv2's (batchgeneratorsv2, the default) or v1's batchgenerators pipeline with
   * v2's parameters (this trainer's former path, kept to compare the two).
   */
  augmentationPipeline?: 'batchgeneratorsv2' | 'batchgenerators';
  /** --disable_checkpointing: no checkpoint file is written (nor can the fold be continued). */
  disableCheckpointing?: boolean;
  log?: (line: string) => void;
}

export interface EpochReportV2 {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  pseudoDice: number[];
  meanFgDice: number;
  emaFgDice: number;
  lr: number;
  isBest: boolean;
  checkpoint?: string;
}

export type RunOutcomeV2 = { status: 'finished'; finalCheckpoint: string } | { status: 'stopped'; checkpoint: string };

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Validation counts of the hard argmax per foreground class, ignore-label voxels left out (nnUNetTrainer.validation_step). */
export function countHard(seg: Int32Array, target: Int32Array, ignoreLabel: number | undefined, tp: Float64Array, fp: Float64Array, fn: Float64Array): void {
  for (let i = 0; i < seg.length; i++) {
    const p = seg[i]!, t = target[i]!;
    if (t === ignoreLabel) continue;
    if (p === t) { if (p > 0) tp[p - 1]!++; continue; }
    if (p > 0) fp[p - 1]!++;
    if (t > 0) fn[t - 1]!++;
  }
}

export class NnUNetTrainerV2Loop {
  readonly description: V2NetworkDescription;
  readonly augmentation: AugmentationParams;
  readonly dsWeights: number[];
  readonly lossOptions: DiceCeOptions;
  network!: V2UNet;
  log: TrainingLogV2 = emptyLogV2();
  bestEma: number | null = null;
  /** Epochs completed. */
  epoch = 0;
  private optimizer!: NesterovSgd;
  private trainBatches!: BatchProducer;
  private valBatches!: BatchProducer;
  private pendingRng?: { train: ProducerState; val: ProducerState };

  constructor(readonly setup: TrainerV2Setup) {
    const s = setup.settings;
    this.description = describeV2Network(setup.spec, { inChannels: setup.inChannels, numClasses: setup.numClasses, deepSupervision: s.deepSupervision });
    this.augmentation = augmentationParamsV2(setup.spec, setup.patchSize, setup.maskChannels, s, setup.cascade?.labels);
    this.dsWeights = s.deepSupervision ? deepSupervisionWeights(this.augmentation.deepSupervisionScales.length) : [1];
    const labels = setup.labels;
    this.lossOptions = {
      batchDice: setup.batchDice, smooth: s.diceSmooth, kind: s.loss, doBg: false,
      ...(labels?.hasRegions ? { regions: labels.regionMembership() } : {}),
      ...(labels?.ignoreLabel !== undefined ? { ignoreLabel: labels.ignoreLabel } : {}),
    };
  }

  get numEpochs(): number {
    return this.setup.settings.numEpochs;
  }

  /** nnUNetTrainer.inference_allowed_mirroring_axes: None without augmentation (NoDA) or mirroring (NoMirroring). */
  get mirrorAxes(): number[] | null {
    const axes = this.augmentation.mirrorAxes;
    return axes.length ? axes : null;
  }

  private log0(line: string): void {
    this.setup.log?.(line);
  }

  /** Network, optimiser and batch streams; from a checkpoint file when given (resume). */
  initialize(resumeFrom?: string): void {
    const { setup } = this;
    const seed = setup.seed ?? 12345;
    this.network = buildV2UNet(setup.spec, { inChannels: setup.inChannels, numClasses: setup.numClasses, deepSupervision: setup.settings.deepSupervision, seed });
    this.optimizer = new NesterovSgd(this.network.variables as tf.Variable[], {
      learningRate: setup.settings.initialLr, momentum: setup.settings.momentum, weightDecay: setup.settings.weightDecay,
    });
    let rng: { train?: ProducerState; val?: ProducerState } = {};
    if (resumeFrom) rng = this.restore(readCheckpointV2(resumeFrom, this.description));
    const da = setup.settings.dataAugmentation;
    const loader = {
      dir: setup.dataDir, batchSize: setup.batchSize, finalPatchSize: setup.patchSize,
      oversampleForegroundPercent: setup.settings.oversampleForegroundPercent, foregroundSampling2D: 'voxel' as const,
      // nnUNetDataLoader pads the previous stage's seg with −1 (v1's with 0).
      ...(setup.cascade ? { previousStageDir: setup.cascade.previousStageDir, previousStagePad: -1 as const } : {}),
    };
    const cascadeLabels = setup.cascade?.labels ?? [];
    const transforms = setup.augmentationPipeline === 'batchgenerators' ? this.augmentation : toAugmentationV2(this.augmentation);
    const scales = this.augmentation.deepSupervisionScales;
    const numWorkers = rng.train?.workers.length ?? setup.numWorkers ?? defaultBatchWorkers();
    this.trainBatches = new BatchProducer({
      loader: { ...loader, caseIds: setup.trainCases, patchSize: da ? this.augmentation.generatorPatchSize : setup.patchSize },
      augmentation: da ? transforms : null, cascadeLabels, deepSupervisionScales: scales, seed, state: rng.train, numWorkers, queueSize: 2 * numWorkers,
    });
    this.valBatches = new BatchProducer({
      loader: { ...loader, caseIds: setup.valCases, patchSize: setup.patchSize },
      augmentation: null, cascadeLabels, deepSupervisionScales: scales, seed: seed + 1, state: rng.val, numWorkers: rng.val?.workers.length ?? 1, queueSize: 2,
    });
  }

  private restore(c: CheckpointV2): { train: ProducerState; val: ProducerState } {
    this.network.setWeights(c.weights);
    this.optimizer.setState({ learningRate: c.sgd.lr, momentum: c.sgd.momentum, steps: c.sgd.steps, buffers: c.momentum });
    this.epoch = c.currentEpoch;
    this.log = c.log;
    this.bestEma = c.bestEma;
    return c.rng;
  }

  private toTensors(b: NetworkBatch): { data: tf.Tensor; targets: tf.Tensor[] } {
    return { data: tf.tensor(b.data, b.dataShape, 'float32'), targets: b.targets.map((t) => tf.tensor(t.data, t.shape, 'int32')) };
  }

  private async trainIteration(): Promise<number> {
    const batch = this.toTensors(await this.trainBatches.next());
    try {
      const vars = this.network.variables as tf.Variable[];
      const { loss, grads } = lossAndGradients(() => deepSupervisionLoss(this.network.apply(batch.data), batch.targets, this.dsWeights, this.lossOptions), vars);
      try {
        this.optimizer.step(grads);
      } finally {
        for (const g of grads) g?.dispose();
      }
      return loss;
    } finally {
      tf.dispose([batch.data, ...batch.targets]);
    }
  }

  private async validationIteration(tp: Float64Array, fp: Float64Array, fn: Float64Array): Promise<number> {
    const batch = this.toTensors(await this.valBatches.next());
    try {
      const regions = this.setup.labels?.hasRegions === true;
      const { loss, out } = tf.tidy(() => {
        const outputs = this.network.apply(batch.data);
        const l = deepSupervisionLoss(outputs, batch.targets, this.dsWeights, this.lossOptions).dataSync()[0]!;
        return { loss: l, out: regions ? outputs[0]!.dataSync() as Float32Array : tf.argMax(outputs[0]!, -1).dataSync() as Int32Array };
      });
      const target = batch.targets[0]!.dataSync() as Int32Array;
      if (regions) countRegionOverlap(out as Float32Array, target, this.setup.labels!, { tp, fp, fn });
      else countHard(out as Int32Array, target, this.setup.labels?.ignoreLabel, tp, fp, fn);
      return loss;
    } finally {
      tf.dispose([batch.data, ...batch.targets]);
    }
  }

  /** Epochs until num_epochs or a stop request; checkpoints as nnUNetTrainer writes them. */
  async run(hooks: { onEpoch?: (r: EpochReportV2) => void | Promise<void>; shouldStop?: () => boolean } = {}): Promise<RunOutcomeV2> {
    const stop = hooks.shouldStop ?? (() => false);
    while (this.epoch < this.numEpochs) {
      const report = await this.runEpoch(stop);
      if (!report) return { status: 'stopped', checkpoint: this.saveCheckpoint('latest') };
      await hooks.onEpoch?.(report);
      if (stop()) return { status: 'stopped', checkpoint: report.checkpoint ?? this.saveCheckpoint('latest') };
    }
    const finalCheckpoint = this.saveCheckpoint('final');
    fs.rmSync(path.join(this.setup.foldDir, V2_CHECKPOINT_FILES.latest), { force: true });
    return { status: 'finished', finalCheckpoint };
  }

  /** One epoch; undefined when a stop request interrupted it (weights, optimiser and streams rolled back). */
  async runEpoch(stop: () => boolean = () => false): Promise<EpochReportV2 | undefined> {
    const s = this.setup.settings;
    const e = this.epoch;
    const lr = polyLearningRate(e, s.numEpochs, s.initialLr);
    this.optimizer.learningRate = lr;
    const started = Date.now() / 1000;
    const before = { weights: this.network.getWeights(), optimizer: this.optimizer.getState(), rng: this.rngState() };
    let trainSum = 0;
    for (let i = 0; i < s.numIterationsPerEpoch; i++) {
      await yieldToEventLoop();
      if (stop()) return this.rollback(before);
      trainSum += await this.trainIteration();
    }
    const K = this.setup.labels?.hasRegions ? this.setup.numClasses : this.setup.numClasses - 1;
    const tp = new Float64Array(K), fp = new Float64Array(K), fn = new Float64Array(K);
    let valSum = 0;
    for (let i = 0; i < s.numValIterationsPerEpoch; i++) valSum += await this.validationIteration(tp, fp, fn);
    const pseudoDice = globalDice(tp, fp, fn);
    const meanFgDice = meanIgnoringNaN(pseudoDice);
    const l = this.log;
    const emaFgDice = l.ema_fg_dice.length ? 0.9 * l.ema_fg_dice[l.ema_fg_dice.length - 1]! + 0.1 * meanFgDice : meanFgDice;
    l.epoch_start_timestamps.push(started);
    l.lrs.push(lr);
    l.train_losses.push(trainSum / s.numIterationsPerEpoch);
    l.val_losses.push(valSum / s.numValIterationsPerEpoch);
    l.dice_per_class_or_region.push(pseudoDice);
    l.mean_fg_dice.push(meanFgDice);
    l.ema_fg_dice.push(emaFgDice);
    l.epoch_end_timestamps.push(Date.now() / 1000);
    const report: EpochReportV2 = { epoch: e, trainLoss: l.train_losses[e]!, valLoss: l.val_losses[e]!, pseudoDice, meanFgDice, emaFgDice, lr, isBest: false };
    this.onEpochEnd(report);
    return report;
  }

  /** nnUNetTrainer.on_epoch_end: the best EMA (checkpoint_best), then the periodic checkpoint_latest. */
  private onEpochEnd(r: EpochReportV2): void {
    const s = this.setup.settings;
    const f = (v: number) => v.toFixed(4);
    this.log0(`Epoch ${r.epoch}`);
    this.log0(`Current learning rate: ${r.lr.toFixed(5)}`);
    this.log0(`train_loss ${f(r.trainLoss)}`);
    this.log0(`val_loss ${f(r.valLoss)}`);
    this.log0(`Pseudo dice [${r.pseudoDice.map(f).join(', ')}]`);
    this.epoch = r.epoch + 1;
    if (this.bestEma === null || r.emaFgDice > this.bestEma) {
      this.bestEma = r.emaFgDice;
      r.isBest = true;
      this.log0(`Yayy! New best EMA pseudo Dice: ${f(r.emaFgDice)}`);
      this.saveCheckpoint('best');
    }
    // v2 writes latest before the best update, so its _best_ema lags; after it, a resume continues exactly
    if ((r.epoch + 1) % s.saveEvery === 0 && r.epoch !== s.numEpochs - 1) r.checkpoint = this.saveCheckpoint('latest');
  }

  private rollback(before: { weights: Float32Array[]; optimizer: SgdState; rng: { train: ProducerState; val: ProducerState } }): undefined {
    this.network.setWeights(before.weights);
    this.optimizer.setState(before.optimizer);
    this.pendingRng = before.rng;
    return undefined;
  }

  private rngState(): { train: ProducerState; val: ProducerState } {
    return this.pendingRng ?? { train: this.trainBatches.state(), val: this.valBatches.state() };
  }

  checkpoint(): CheckpointV2 {
    const opt = this.optimizer.getState();
    const s = this.setup.settings;
    return {
      weights: this.network.getWeights(), momentum: opt.buffers,
      sgd: { lr: opt.learningRate, momentum: opt.momentum, weightDecay: s.weightDecay, steps: opt.steps },
      log: this.log, bestEma: this.bestEma, currentEpoch: this.epoch, initArgs: this.setup.initArgs,
      trainerName: this.setup.trainerName, mirrorAxes: this.mirrorAxes, rng: this.rngState(),
    };
  }

  /** Writes checkpoint_<kind>.pth; '' when checkpointing is disabled. */
  saveCheckpoint(kind: CheckpointKindV2): string {
    if (this.setup.disableCheckpointing) {
      this.log0('No checkpoint written, checkpointing is disabled');
      return '';
    }
    const file = path.join(this.setup.foldDir, V2_CHECKPOINT_FILES[kind]);
    writeCheckpointV2(file, this.description, this.checkpoint());
    return file;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.trainBatches?.close(), this.valBatches?.close()]);
    this.optimizer?.dispose();
    this.network?.dispose();
  }
}
