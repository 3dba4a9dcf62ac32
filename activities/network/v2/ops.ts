/**
 * The v2 networks' blocks from the U-Net ops (../ops.ts), channels-last: conv (+bias) -> instance norm ->
 * optional (leaky) ReLU, the residual skip's average pool, the transposed conv and the segmentation layer
 * with their biases. The default block (bias, LeakyReLU 0.01, eps 1e-5) goes through v1's fused op, whose
 * gradient keeps less memory; the others compose the same ops one by one.
 */
import * as tf from '@tensorflow/tfjs';
import { LEAKY_SLOPE, NORM_EPS } from '../architecture';
import { convNormLrelu, convOfConcat, instanceNorm, pointwiseConv, upsampleTransposed } from '../ops';
import type { ConvNormSpec } from './describe';

export interface ConvNormParams {
  weight: tf.Tensor;
  bias?: tf.Tensor;
  gamma: tf.Tensor;
  beta: tf.Tensor;
}

export interface Activation {
  eps: number;
  /** Negative slope of the nonlinearity (0: ReLU). */
  slope: number;
}

/** One ConvDropoutNormReLU block over the channel concat of `inputs`. */
export function convNormBlock(inputs: readonly tf.Tensor[], p: ConvNormParams, c: ConvNormSpec, act: Activation): tf.Tensor {
  if (c.nonlin && p.bias && act.slope === LEAKY_SLOPE && act.eps === NORM_EPS) {
    return convNormLrelu(inputs, { weight: p.weight, bias: p.bias, gamma: p.gamma, beta: p.beta }, c.stride, c.padding);
  }
  let h = convOfConcat(inputs, p.weight, c.stride, c.padding);
  if (p.bias) h = tf.add(h, p.bias);
  h = instanceNorm(h, p.gamma, p.beta, act.eps);
  return c.nonlin ? nonlinearity(h, act) : h;
}

export function nonlinearity(x: tf.Tensor, act: Activation): tf.Tensor {
  return act.slope === 0 ? tf.relu(x) : tf.leakyRelu(x, act.slope);
}

/** AvgPool with kernel = stride and no padding (BasicBlockD's skip when the block strides). */
export function averagePool(x: tf.Tensor, stride: readonly number[]): tf.Tensor {
  if (stride.length === 3) {
    const s = stride as [number, number, number];
    return tf.avgPool3d(x as tf.Tensor5D, s, s, 'valid');
  }
  const s = stride as [number, number];
  return tf.avgPool(x as tf.Tensor4D, s, s, 'valid');
}

/** ConvTranspose with kernel = stride, plus its bias when it has one. */
export function upsample(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const y = upsampleTransposed(x, weight);
  return bias ? tf.add(y, bias) : y;
}

/** The 1x1(x1) segmentation layer with its bias. */
export function segmentationLayer(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return tf.add(pointwiseConv(x, weight), bias);
}
