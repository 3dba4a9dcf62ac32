/**
 * Floating-point work of an nnU-Net training step, counted from the architecture (multiply-adds of every
 * convolution, transposed convolution and 1x1 head, x2), so a measured step time becomes achieved GFLOP/s.
 * Normalisation, activations and the loss are left out: they are a few percent and bandwidth-bound.
 */
import { describeUNet, type UNetArchitecture } from '../activities/network/architecture';
import type { StagePlan } from '../activities/planning/plans';

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Forward FLOPs of one sample: 2 x Cin x Cout x kernel volume x output voxels per layer. */
export function forwardFlopsPerSample(arch: UNetArchitecture): number {
  let flops = 0;
  for (const stage of arch.encoder) {
    for (const b of stage.blocks) flops += 2 * b.inChannels * b.outChannels * prod(b.kernel) * prod(stage.shape!);
  }
  for (const stage of arch.decoder) {
    // kernel = stride: each input voxel writes its own block, so the work is Cin x Cout per output voxel.
    flops += 2 * stage.up.inChannels * stage.up.outChannels * prod(stage.shape!);
    for (const b of stage.blocks) flops += 2 * b.inChannels * b.outChannels * prod(b.kernel) * prod(stage.shape!);
    flops += 2 * stage.head.inChannels * stage.head.outChannels * prod(stage.shape!);
  }
  return flops;
}

/**
 * A training step's FLOPs for a plan stage: forward, plus the backward pass's gradients with respect to the
 * inputs and to the weights (each as much work as the forward), so 3 x forward x batch.
 */
export function trainingStepFlops(stage: Pick<StagePlan, 'pool_op_kernel_sizes' | 'conv_kernel_sizes' | 'patch_size' | 'batch_size'>,
  inChannels: number, numClasses: number): number {
  const arch = describeUNet(stage, { inChannels, numClasses });
  return 3 * forwardFlopsPerSample(arch) * stage.batch_size;
}
