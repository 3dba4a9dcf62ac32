/**
 * Benchmark workloads: one training step each (forward, backward, SGD update), built on whatever tfjs backend
 * is active: plain conv stacks (the raw kernels) and nnU-Net iterations of the demo task's 3d_fullres and 2d
 * plans (bench/demo-plan.ts). Every name is mirrored in bench/torch_reference.py (WORKLOADS) for the PyTorch ratio.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { BenchPlans } from './demo-plan';
import { buildUNetStep } from './unet-step';

type Tf = typeof tfType;

export interface TrainingStep {
  /** One full step; resolves when the backend has really finished it (the loss was read back). */
  run(): Promise<number>;
  dispose(): void;
}

export interface Workload {
  name: string;
  dims: 2 | 3;
  description: string;
  /** U-Net workloads read the demo task's plans (made once by the parent process, see demoBenchPlans). */
  needsPlans?: boolean;
  /** Too slow on the pure-JS backend for more than one timed iteration. */
  heavy?: boolean;
  build(tf: Tf, plans?: BenchPlans): TrainingStep;
}

/** Shapes shared with bench/torch_reference.py: keep the two in step. */
export const CONV_SHAPES = {
  conv3d: { batch: 2, channels: 16, spatial: [32, 32, 32] },
  conv2d: { batch: 2, channels: 16, spatial: [128, 256] }, // same voxel count as 32^3
} as const;

const LEARNING_RATE = 0.01;

/** A 3x3(x3) same-padded conv, channels->channels; loss = mean(y^2); gradients for input and kernel, like a middle layer. */
function convStep(tf: Tf, dims: 2 | 3): TrainingStep {
  const s = dims === 3 ? CONV_SHAPES.conv3d : CONV_SHAPES.conv2d;
  const kernelShape = [...Array<number>(dims).fill(3), s.channels, s.channels];
  const x = tf.variable(tf.randomNormal([s.batch, ...s.spatial, s.channels], 0, 1, 'float32', 1), true, `x${dims}d`);
  const w = tf.variable(tf.randomNormal(kernelShape, 0, 0.1, 'float32', 2), true, `w${dims}d`);
  const forward = (): tfType.Scalar => {
    const y = dims === 3
      ? tf.conv3d(x as tfType.Tensor5D, w as tfType.Tensor5D, 1, 'same')
      : tf.conv2d(x as tfType.Tensor4D, w as tfType.Tensor4D, 1, 'same');
    return tf.mean(tf.square(y));
  };
  return {
    async run() {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(forward, [x, w]);
        w.assign(tf.sub(w, tf.mul(grads[w.name], LEARNING_RATE)));
        return value;
      });
      const v = (await loss.data())[0];
      loss.dispose();
      return v;
    },
    dispose() {
      x.dispose();
      w.dispose();
    },
  };
}

function unetStep(plans: BenchPlans | undefined, which: 'unet3d' | 'unet2d'): TrainingStep {
  if (!plans) throw new Error(`${which} needs the demo plans (demoBenchPlans)`);
  return buildUNetStep(plans[which]);
}

export const WORKLOADS: readonly Workload[] = [
  { name: 'conv3d', dims: 3, description: 'conv3d 3x3x3 16->16, batch 2, 32^3, fwd+bwd', build: (tf) => convStep(tf, 3) },
  { name: 'conv2d', dims: 2, description: 'conv2d 3x3 16->16, batch 2, 128x256, fwd+bwd', build: (tf) => convStep(tf, 2) },
  {
    name: 'unet3d', dims: 3, needsPlans: true, heavy: true, build: (_tf, plans) => unetStep(plans, 'unet3d'),
    description: 'nnU-Net iteration, demo task 3d_fullres plan (Generic_UNet, DS Dice+CE, Nesterov SGD)',
  },
  {
    name: 'unet2d', dims: 2, needsPlans: true, heavy: true, build: (_tf, plans) => unetStep(plans, 'unet2d'),
    description: 'nnU-Net iteration, demo task 2d plan (Generic_UNet, DS Dice+CE, Nesterov SGD)',
  },
];

export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}
