/**
 * The U-Net's building blocks as TensorFlow.js ops, channels-last (NHWC / NDHWC), differentiable on every
 * backend. TensorFlow.js has no instance norm and no gradient for conv3dTranspose, so both are composed here
 * from ops that do have gradients. Padding follows PyTorch (symmetric), not TensorFlow's 'same' for strides.
 */
import * as tf from '@tensorflow/tfjs';
import { LEAKY_SLOPE, NORM_EPS } from './architecture';

const allOnes = (xs: readonly number[]): boolean => xs.every((v) => v === 1);

/** Convolution with PyTorch's symmetric zero padding. Weight layout [...kernel, in, out]. */
export function convNd(x: tf.Tensor, w: tf.Tensor, stride: readonly number[], padding: readonly number[]): tf.Tensor {
  const dims = stride.length;
  // With stride 1 and an odd kernel padded by (k-1)/2, TensorFlow's 'same' is exactly PyTorch's padding.
  const sameIsSymmetric = allOnes(stride) && padding.every((p, i) => 2 * p === w.shape[i]! - 1);
  let input = x;
  if (!sameIsSymmetric && padding.some((p) => p > 0)) {
    input = tf.pad(x, [[0, 0], ...padding.map((p): [number, number] => [p, p]), [0, 0]]);
  }
  const pad = sameIsSymmetric ? 'same' : 'valid';
  if (dims === 3) return tf.conv3d(input as tf.Tensor5D, w as tf.Tensor5D, stride as [number, number, number], pad);
  return tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, stride as [number, number], pad);
}

/** Instance norm: per sample and channel over the spatial axes (biased variance), then the affine map. */
export function instanceNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = NORM_EPS): tf.Tensor {
  const spatialAxes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
  const { mean, variance } = tf.moments(x, spatialAxes, true);
  const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalized, gamma), beta);
}

/** conv (+bias) -> instance norm -> leaky ReLU: one of Generic_UNet's ConvDropoutNormNonlin blocks. */
export function convNormLrelu(x: tf.Tensor, p: { weight: tf.Tensor; bias: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor }, stride: readonly number[], padding: readonly number[]): tf.Tensor {
  const y = tf.add(convNd(x, p.weight, stride, padding), p.bias);
  return tf.leakyRelu(instanceNorm(y, p.gamma, p.beta), LEAKY_SLOPE);
}

/**
 * Transposed convolution with kernel = stride and no padding (each input voxel writes its own disjoint
 * kernel-sized block), as one matmul plus a reshuffle. Weight layout [in, ...kernel, out]; equals PyTorch's
 * ConvTranspose weight [in, out, ...kernel] permuted.
 */
export function upsampleTransposed(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const [b, ...rest] = x.shape;
  const spatial = rest.slice(0, -1);
  const cin = rest[rest.length - 1]!;
  const kernel = w.shape.slice(1, -1);
  const cout = w.shape[w.shape.length - 1]!;
  const kvol = kernel.reduce((a, v) => a * v, 1);
  const blocks = tf.matMul(tf.reshape(x, [-1, cin]), tf.reshape(w, [cin, kvol * cout]));
  if (spatial.length === 3) {
    const [z, y, xx] = spatial as [number, number, number];
    const [kz, ky, kx] = kernel as [number, number, number];
    // [b*z, y, x, kz, ky, kx*out] -> [b*z, kz, y, ky, x, kx*out]; rank 6 keeps every backend happy.
    const t = tf.transpose(tf.reshape(blocks, [b! * z, y, xx, kz, ky, kx * cout]), [0, 3, 1, 4, 2, 5]);
    return tf.reshape(t, [b!, z * kz, y * ky, xx * kx, cout]);
  }
  const [y, xx] = spatial as [number, number];
  const [ky, kx] = kernel as [number, number];
  const t = tf.transpose(tf.reshape(blocks, [b! * y, xx, ky, kx * cout]), [0, 2, 1, 3]);
  return tf.reshape(t, [b!, y * ky, xx * kx, cout]);
}

/** 1x1(x1) convolution without bias (the segmentation heads). Weight layout [...ones, in, out]. */
export function pointwiseConv(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const cin = x.shape[x.rank - 1]!;
  const cout = w.shape[w.rank - 1]!;
  const y = tf.matMul(tf.reshape(x, [-1, cin]), tf.reshape(w, [cin, cout]));
  return tf.reshape(y, [...x.shape.slice(0, -1), cout]);
}
