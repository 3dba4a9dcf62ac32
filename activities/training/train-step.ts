/**
 * One optimisation step of nnUNetTrainerV2: forward with deep supervision, weighted
 * Dice+CE, gradients, clipping + Nesterov SGD. Everything it allocates is released before it returns.
 * See docs/network.md, 'Loss and optimiser'.
 */
import type * as tf from '@tensorflow/tfjs';
import { deepSupervisionLoss } from './loss';
import type { DiceCeOptions } from './loss';
import { lossAndGradients } from './optimizer';
import type { TrainingOptimizer } from './optimizer';
import type { UNet } from '../network/unet';

export interface TrainBatch {
  /** [batch, ...spatial, channels] float32. */
  data: tf.Tensor;
  /** int32 label maps per deep-supervision level, highest resolution first (see deepSupervisionTargets). */
  targets: readonly tf.Tensor[];
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export function trainStep(net: UNet, optimizer: TrainingOptimizer, batch: TrainBatch, weights: readonly number[], opts: DiceCeOptions): StepResult {
  const { loss, grads } = lossAndGradients(() => deepSupervisionLoss(net.apply(batch.data), batch.targets, weights, opts), net.variables);
  try {
    return { loss, gradNorm: optimizer.step(grads) };
  } finally {
    for (const g of grads) g?.dispose();
  }
}
