/**
 * nnU-Net's training loss: cross-entropy + soft Dice on the softmax (smooth 1e-5, background
 * excluded, batch Dice per configuration), summed per deep-supervision level with weights 2^-i (last 0,
 * normalised). Logits are channels-last [batch, ...spatial, classes]; targets are int32 label maps
 * [batch, ...spatial]. The value is typically negative (Dice enters as -mean Dice).
 * See docs/network.md, 'Loss and optimiser'.
 */
import * as tf from '@tensorflow/tfjs';
import type { Configuration } from '../contract';

export const DICE_SMOOTH = 1e-5;

/**
 * The loss a trainer optimises per deep-supervision level: nnUNetTrainerV2's Dice+CE, or a loss variant's
 * (docs/training.md, 'Trainer variants').
 */
export type LossKind = 'dice+ce' | 'ce' | 'dice' | 'focal';

export interface DiceCeOptions {
  /** Sum tp/fp/fn over the batch as well (one Dice per class) instead of one Dice per sample and class. */
  batchDice: boolean;
  smooth?: number;
  /** Default 'dice+ce'. */
  kind?: LossKind;
  /** Include the background class in the soft Dice (nnU-Net's do_bg; default false). */
  doBg?: boolean;
  /** Voxels with this label count in no loss term (v2's ignore label). */
  ignoreLabel?: number;
  /** Region outputs (sigmoid, DC_and_BCE_loss): per channel, label value → 1 when in the region (LabelManager.regionMembership). */
  regions?: readonly Uint8Array[];
}

/**
 * batch_dice as nnU-Net's default_configuration chooses it: 2d true; 3d_fullres / 3d_cascade_fullres true
 * only when a lowres stage (cascade) exists; 3d_lowres false.
 */
export function batchDiceFor(configuration: Configuration, hasCascade: boolean): boolean {
  if (configuration === '2d') return true;
  if (configuration === '3d_lowres') return false;
  return hasCascade;
}

function checkShapes(logits: tf.Tensor, labels: tf.Tensor): void {
  const spatial = logits.shape.slice(0, -1);
  if (labels.rank !== logits.rank - 1 || labels.shape.some((n, i) => n !== spatial[i])) {
    throw new Error(`loss: labels [${labels.shape.join(', ')}] do not match logits [${logits.shape.join(', ')}] without the class axis`);
  }
}

const oneHot = (labels: tf.Tensor, numClasses: number): tf.Tensor => tf.oneHot(tf.cast(labels, 'int32'), numClasses);

/** Mean cross-entropy over all voxels of the batch (PyTorch CrossEntropyLoss on logits). */
export function crossEntropyLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  checkShapes(logits, labels);
  return tf.tidy(() => {
    const y = oneHot(labels, logits.shape[logits.rank - 1]!);
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}

/**
 * Soft Dice of probabilities against one-hot (or region) targets, channels last, voxels outside `mask` (1 where
 * the voxel counts, broadcast over channels) left out; −mean Dice over the channels kept (background channel 0
 * dropped unless doBg) and, without batch Dice, over the samples. v2's MemoryEfficientSoftDiceLoss with loss_mask.
 */
function softDice(p: tf.Tensor, y: tf.Tensor, mask: tf.Tensor | null, opts: DiceCeOptions, doBg: boolean): tf.Scalar {
  const smooth = opts.smooth ?? DICE_SMOOTH;
  const spatialAxes = Array.from({ length: p.rank - 2 }, (_, i) => i + 1);
  const axes = opts.batchDice ? [0, ...spatialAxes] : spatialAxes;
  const pm = mask ? tf.mul(p, mask) : p;
  const tp = tf.sum(tf.mul(pm, y), axes);
  const fp = tf.sum(tf.mul(pm, tf.sub(1, y)), axes);
  const fn = tf.sum(tf.mul(mask ? tf.mul(tf.sub(1, p), mask) : tf.sub(1, p), y), axes);
  const twoTp = tf.mul(2, tp);
  const dc = tf.div(tf.add(twoTp, smooth), tf.add(tf.add(tf.add(tf.add(twoTp, fp), fn), smooth), 1e-8));
  if (doBg) return tf.neg(tf.mean(dc)) as tf.Scalar;
  // Drop the background class (last axis index 0), then average over classes (and samples).
  const foreground = tf.slice(dc, dc.rank === 1 ? [1] : [0, 1], dc.rank === 1 ? [-1] : [-1, -1]);
  return tf.neg(tf.mean(foreground)) as tf.Scalar;
}

/** 1 where a voxel is annotated (label ≠ ignore label), with a trailing channel axis; null without an ignore label. */
function annotatedMask(labels: tf.Tensor, ignoreLabel: number | undefined): tf.Tensor | null {
  if (ignoreLabel === undefined) return null;
  return tf.expandDims(tf.cast(tf.notEqual(tf.cast(labels, 'int32'), ignoreLabel), 'float32'), -1);
}

/** Ignore-label voxels set to background, so that one-hot encoding stays in range (v2's target_dice). */
function withoutIgnore(labels: tf.Tensor, ignoreLabel: number | undefined): tf.Tensor {
  const l = tf.cast(labels, 'int32');
  return ignoreLabel === undefined ? l : tf.mul(l, tf.cast(tf.notEqual(l, ignoreLabel), 'int32'));
}

/**
 * nnU-Net's SoftDiceLoss(softmax, batch_dice, do_bg=False, smooth): −mean foreground Dice (all classes with doBg);
 * ignore-label voxels (opts.ignoreLabel) count nowhere.
 */
export function softDiceLoss(logits: tf.Tensor, labels: tf.Tensor, opts: DiceCeOptions): tf.Scalar {
  checkShapes(logits, labels);
  return tf.tidy(() => {
    const y = oneHot(withoutIgnore(labels, opts.ignoreLabel), logits.shape[logits.rank - 1]!);
    return softDice(tf.softmax(logits), y, annotatedMask(labels, opts.ignoreLabel), opts, opts.doBg ?? false);
  });
}

/** Cross-entropy averaged over annotated voxels only (ignore_index; 0 when none are annotated). */
function maskedCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, ignoreLabel: number): tf.Scalar {
  return tf.tidy(() => {
    const mask = annotatedMask(labels, ignoreLabel)!;
    const y = oneHot(withoutIgnore(labels, ignoreLabel), logits.shape[logits.rank - 1]!);
    const nll = tf.neg(tf.sum(tf.mul(tf.mul(y, tf.logSoftmax(logits)), mask)));
    return tf.div(nll, tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/** Cross-entropy, ignore-label voxels left out when opts names one. */
function crossEntropyFor(logits: tf.Tensor, labels: tf.Tensor, opts: DiceCeOptions): tf.Scalar {
  checkShapes(logits, labels);
  return opts.ignoreLabel === undefined ? crossEntropyLoss(logits, labels) : maskedCrossEntropy(logits, labels, opts.ignoreLabel);
}

/** DC_and_CE_loss with weights 1 and 1 (with an ignore label, v2's masking in both terms). */
export function diceCeLoss(logits: tf.Tensor, labels: tf.Tensor, opts: DiceCeOptions): tf.Scalar {
  return tf.tidy(() => tf.add(crossEntropyFor(logits, labels, opts), softDiceLoss(logits, labels, opts)) as tf.Scalar);
}

/** Per voxel and channel, the channel's region target: 1 where the label lies in the region (np.isin(seg, region)). */
export function regionTargets(labels: tf.Tensor, regions: readonly Uint8Array[]): tf.Tensor {
  return tf.tidy(() => {
    const l = tf.cast(labels, 'int32');
    return tf.stack(regions.map((table) => tf.cast(tf.gather(tf.tensor1d(table, 'int32'), l), 'float32')), -1);
  });
}

/**
 * v2's DC_and_BCE_loss for region outputs (weights 1 and 1): BCE with logits (mean over voxels and regions; with an
 * ignore label, summed over regions and averaged over annotated voxels, as v2 divides by the mask's sum) plus the
 * soft Dice of the sigmoid over every region (do_bg true), ignore-label voxels masked out of both.
 */
export function diceBceLoss(logits: tf.Tensor, labels: tf.Tensor, opts: DiceCeOptions & { regions: readonly Uint8Array[] }): tf.Scalar {
  checkShapes(logits, labels);
  if (logits.shape[logits.rank - 1] !== opts.regions.length) {
    throw new Error(`loss: ${logits.shape[logits.rank - 1]} output channels for ${opts.regions.length} regions`);
  }
  return tf.tidy(() => {
    const y = regionTargets(labels, opts.regions);
    const mask = annotatedMask(labels, opts.ignoreLabel);
    // BCE with logits, stable: max(x, 0) − x·y + log1p(e^−|x|).
    const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    const bceLoss = mask ? tf.div(tf.sum(tf.mul(bce, mask)), tf.maximum(tf.sum(mask), 1e-8)) : tf.mean(bce);
    return tf.add(bceLoss, softDice(tf.sigmoid(logits), y, mask, opts, true)) as tf.Scalar;
  });
}

/**
 * nnU-Net's FocalLossMultiClass (gamma 2, alpha 0.25): per class, including background, the sigmoid focal loss of
 * that class's logit against (label == class), averaged over voxels, summed over classes. nnU-Net flattens its
 * channels-first logits with view(-1, C), which mixes voxels and classes; this is the loss it meant (docs/training.md).
 */
export function focalLoss(logits: tf.Tensor, labels: tf.Tensor, gamma = 2, alpha = 0.25): tf.Scalar {
  checkShapes(logits, labels);
  return tf.tidy(() => {
    const y = oneHot(labels, logits.shape[logits.rank - 1]!);
    // log p_t = −BCE-with-logits = y·logσ(x) + (1 − y)·logσ(−x) = logσ(x) − (1 − y)·x, with the stable
    // logσ(x) = min(x, 0) − log1p(e^−|x|) from plain kernels (tf.logSigmoid's custom gradient does not survive the
    // freeing backward pass of network/backprop.ts).
    const logSigmoid = tf.sub(tf.minimum(logits, 0), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    const logPt = tf.sub(logSigmoid, tf.mul(tf.sub(1, y), logits));
    const modulation = gamma === 2 ? tf.square(tf.sub(1, tf.exp(logPt))) : tf.pow(tf.sub(1, tf.exp(logPt)), gamma);
    const weight = tf.add(tf.mul(y, alpha), tf.mul(tf.sub(1, y), 1 - alpha));
    const perVoxel = tf.mul(tf.neg(tf.mul(modulation, logPt)), weight);
    const spatialAxes = Array.from({ length: logits.rank - 1 }, (_, i) => i);
    return tf.sum(tf.mean(perVoxel, spatialAxes)) as tf.Scalar;
  });
}

/** The loss of one output level for the options' kind. */
export function segmentationLoss(logits: tf.Tensor, labels: tf.Tensor, opts: DiceCeOptions): tf.Scalar {
  if (opts.regions) {
    if ((opts.kind ?? 'dice+ce') !== 'dice+ce') throw new Error(`loss: region outputs train with Dice+BCE only, not '${opts.kind}'`);
    return diceBceLoss(logits, labels, { ...opts, regions: opts.regions });
  }
  if (opts.ignoreLabel !== undefined && opts.kind === 'focal') throw new Error('loss: the focal loss has no ignore-label masking');
  switch (opts.kind ?? 'dice+ce') {
    case 'ce': return crossEntropyFor(logits, labels, opts);
    case 'dice': return softDiceLoss(logits, labels, opts);
    case 'focal': return focalLoss(logits, labels);
    default: return diceCeLoss(logits, labels, opts);
  }
}

/** Σ w_i · loss(output_i, target_i); outputs and targets highest resolution first, zero weights skipped. */
export function deepSupervisionLoss(outputs: readonly tf.Tensor[], targets: readonly tf.Tensor[], weights: readonly number[], opts: DiceCeOptions): tf.Scalar {
  if (outputs.length !== targets.length || outputs.length !== weights.length) {
    throw new Error(`deep supervision: ${outputs.length} outputs, ${targets.length} targets, ${weights.length} weights`);
  }
  return tf.tidy(() => {
    const terms = outputs.flatMap((out, i) => (weights[i] === 0 ? [] : [tf.mul(weights[i]!, segmentationLoss(out, targets[i]!, opts))]));
    return tf.addN(terms) as tf.Scalar;
  });
}
