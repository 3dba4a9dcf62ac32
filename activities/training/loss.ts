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

/** nnU-Net's SoftDiceLoss(softmax, batch_dice, do_bg=False, smooth): −mean foreground Dice (all classes with doBg). */
export function softDiceLoss(logits: tf.Tensor, labels: tf.Tensor, opts: DiceCeOptions): tf.Scalar {
  checkShapes(logits, labels);
  const smooth = opts.smooth ?? DICE_SMOOTH;
  const numClasses = logits.shape[logits.rank - 1]!;
  return tf.tidy(() => {
    const p = tf.softmax(logits);
    const y = oneHot(labels, numClasses);
    const spatialAxes = Array.from({ length: logits.rank - 2 }, (_, i) => i + 1);
    const axes = opts.batchDice ? [0, ...spatialAxes] : spatialAxes;
    const tp = tf.sum(tf.mul(p, y), axes);
    const fp = tf.sum(tf.mul(p, tf.sub(1, y)), axes);
    const fn = tf.sum(tf.mul(tf.sub(1, p), y), axes);
    const twoTp = tf.mul(2, tp);
    const dc = tf.div(tf.add(twoTp, smooth), tf.add(tf.add(tf.add(tf.add(twoTp, fp), fn), smooth), 1e-8));
    if (opts.doBg) return tf.neg(tf.mean(dc)) as tf.Scalar;
    // Drop the background class (last axis index 0), then average over classes (and samples).
    const foreground = tf.slice(dc, dc.rank === 1 ? [1] : [0, 1], dc.rank === 1 ? [-1] : [-1, -1]);
    return tf.neg(tf.mean(foreground)) as tf.Scalar;
  });
}

/** DC_and_CE_loss with weights 1 and 1. */
export function diceCeLoss(logits: tf.Tensor, labels: tf.Tensor, opts: DiceCeOptions): tf.Scalar {
  return tf.tidy(() => tf.add(crossEntropyLoss(logits, labels), softDiceLoss(logits, labels, opts)) as tf.Scalar);
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
  switch (opts.kind ?? 'dice+ce') {
    case 'ce': return crossEntropyLoss(logits, labels);
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
