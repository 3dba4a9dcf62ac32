/**
 * One nnUNetTrainerV2 iteration on a plan's network: U-Net forward with deep supervision, Dice+CE, gradients,
 * clipping + Nesterov SGD (activities/network/trainStep.ts, the trainer's own step). The batch is fixed
 * synthetic data (seeded), prepared once: the benchmark times the network step, not data loading.
 */
import * as tf from '@tensorflow/tfjs';
import { deepSupervisionTargets, deepSupervisionWeights } from '../activities/network/deep-supervision';
import { trainStep } from '../activities/training/train-step';
import { buildUNet } from '../activities/network/unet';
import { mulberry32 } from '../activities/io/demo';
import { NesterovSgd } from '../activities/training/optimizer';
import type { BenchStage } from './demo-plan';

export interface UNetStep {
  run(): Promise<number>;
  dispose(): void;
  parameters: number;
}

/** A seeded batch: normal-ish intensities and a few random labels (what matters is the shapes). */
function syntheticBatch(stage: BenchStage): { image: Float32Array; labels: Int32Array; segShape: number[] } {
  const segShape = [stage.batchSize, ...stage.patchSize];
  const n = segShape.reduce((a, b) => a * b, 1);
  const rand = mulberry32(7);
  const image = new Float32Array(n * stage.inChannels);
  for (let i = 0; i < image.length; i++) image[i] = rand() * 2 - 1;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = Math.floor(rand() * stage.numClasses);
  return { image, labels, segShape };
}

export function buildUNetStep(stage: BenchStage): UNetStep {
  const net = buildUNet({ pool_op_kernel_sizes: stage.poolOpKernelSizes, conv_kernel_sizes: stage.convKernelSizes, patch_size: stage.patchSize },
    { inChannels: stage.inChannels, numClasses: stage.numClasses });
  const optimizer = new NesterovSgd(net.variables);
  const { image, labels, segShape } = syntheticBatch(stage);
  const data = tf.tensor(image, [...segShape, stage.inChannels], 'float32');
  const targets = deepSupervisionTargets(labels, segShape, stage.poolOpKernelSizes).map((t) => tf.tensor(t.data, t.shape, 'int32'));
  const weights = deepSupervisionWeights(targets.length);
  return {
    parameters: net.variables.reduce((a, v) => a + v.size, 0),
    // trainStep reads the loss back (dataSync), so the step has really finished when this resolves.
    run: () => Promise.resolve(trainStep(net, optimizer, { data, targets }, weights, { batchDice: stage.batchDice }).loss),
    dispose() {
      data.dispose();
      targets.forEach((t) => t.dispose());
      optimizer.dispose();
      net.dispose();
    },
  };
}
