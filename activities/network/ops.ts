/**
 * The U-Net's building blocks as TensorFlow.js ops, channels-last (NHWC / NDHWC), differentiable on every
 * backend. TensorFlow.js has no instance norm and no gradient for conv3dTranspose, so both are composed here
 * from ops that do have gradients. Padding follows PyTorch (symmetric), not TensorFlow's 'same' for strides.
 */
import * as tf from '@tensorflow/tfjs';
import { LEAKY_SLOPE, NORM_EPS } from './architecture';
import { convBf16, convPrecision } from './bf16-conv';

const allOnes = (xs: readonly number[]): boolean => xs.every((v) => v === 1);

const onPureJsBackend = (): boolean => tf.getBackend() === 'cpu';

/** Convolution with PyTorch's symmetric zero padding. Weight layout [...kernel, in, out]; kernels of 1 or 3. */
export function convNd(x: tf.Tensor, w: tf.Tensor, stride: readonly number[], padding: readonly number[]): tf.Tensor {
  return onPureJsBackend() ? convOnPureJs(x, w, stride) : convPortable(x, w, stride, padding);
}

/** The straightforward form for native backends: explicit tf.pad before strided convs; in bfloat16 when opted in. */
export function convPortable(x: tf.Tensor, w: tf.Tensor, stride: readonly number[], padding: readonly number[]): tf.Tensor {
  // With stride 1 and an odd kernel padded by (k-1)/2, TensorFlow's 'same' is exactly PyTorch's padding.
  const input = allOnes(stride) ? x : tf.pad(x, [[0, 0], ...padding.map((p): [number, number] => [p, p]), [0, 0]]);
  const pad = allOnes(stride) ? 'same' : 'valid';
  if (convPrecision() === 'bfloat16') return convBf16(input, w, stride, pad);
  if (stride.length === 3) return tf.conv3d(input as tf.Tensor5D, w as tf.Tensor5D, stride as [number, number, number], pad);
  return tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, stride as [number, number], pad);
}

/**
 * The same convolution shaped for the pure-JS backend, whose slow spots are generic per-element loops:
 * conv2d's filter gradient (so 2D runs as 3D over a unit depth axis: 25x faster measured on a 16x16x32
 * block) and slices of non-leading axes (the gradient of tf.pad). Strided convs therefore use conv3d's own
 * numeric padding of 1 on every axis, with kernel-1 axes embedded in a zero kernel of 3 so that the same
 * windows are computed as PyTorch's padding-0 kernel of 1.
 */
export function convOnPureJs(x: tf.Tensor, w: tf.Tensor, stride: readonly number[]): tf.Tensor {
  const is2d = stride.length === 2;
  const x5 = (is2d ? tf.expandDims(x, 1) : x) as tf.Tensor5D;
  let w5 = (is2d ? tf.expandDims(w, 0) : w) as tf.Tensor5D;
  const s5 = (is2d ? [1, ...stride] : stride) as [number, number, number];
  let y: tf.Tensor;
  if (allOnes(stride)) {
    y = tf.conv3d(x5, w5, s5, 'same');
  } else {
    const embed = w5.shape.slice(0, 3).map((k): [number, number] => (k === 1 ? [1, 1] : [0, 0]));
    if (embed.some(([a]) => a > 0)) w5 = tf.pad(w5, [...embed, [0, 0], [0, 0]]);
    // tfjs-core's conv3d accepts a numeric symmetric pad (conv_util) although its type says 'valid' | 'same'.
    y = tf.conv3d(x5, w5, s5, 1 as unknown as 'valid');
  }
  return is2d ? tf.squeeze(y, [1]) : y;
}

/** conv(concat(inputs along channels), w): the decoder's first conv after the skip connection. */
export function convOfConcat(inputs: readonly tf.Tensor[], w: tf.Tensor, stride: readonly number[], padding: readonly number[]): tf.Tensor {
  if (inputs.length === 1) return convNd(inputs[0]!, w, stride, padding);
  const joined = inputs.length === 2 && onPureJsBackend() ? concatChannelsPureJs(inputs[0]!, inputs[1]!) : tf.concat([...inputs], -1);
  return convNd(joined, w, stride, padding);
}

/**
 * Channel concat whose gradient splits rows of a typed array: the pure-JS backend's own gradient (SplitV)
 * slices the last axis element by element, which cost more than the convolutions of a tiny U-Net.
 */
export function concatChannelsPureJs(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const ca = a.shape[a.rank - 1]!;
  const cb = b.shape[b.rank - 1]!;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.concat([args[0] as tf.Tensor, args[1] as tf.Tensor], -1),
    gradFunc: (dy: tf.Tensor) => {
      const d = dy.dataSync() as Float32Array;
      const rows = d.length / (ca + cb);
      const da = new Float32Array(rows * ca);
      const db = new Float32Array(rows * cb);
      for (let r = 0; r < rows; r++) {
        da.set(d.subarray(r * (ca + cb), r * (ca + cb) + ca), r * ca);
        db.set(d.subarray(r * (ca + cb) + ca, (r + 1) * (ca + cb)), r * cb);
      }
      return [tf.tensor(da, a.shape), tf.tensor(db, b.shape)];
    },
  }));
  return f(a, b);
}

/** Instance norm: per sample and channel over the spatial axes (biased variance), then the affine map. */
export function instanceNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = NORM_EPS): tf.Tensor {
  return onPureJsBackend() ? instanceNormByMatmul(x, gamma, beta, eps) : instanceNormWithGradient(x, gamma, beta, eps);
}

/**
 * The form for native backends: the forward pass of instanceNormByMoments (the same ops, the same values)
 * with the closed-form gradient dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
 * Autodiff through moments costs ~25 full-size passes per norm (and Mean's gradient builds a ones tensor of
 * the input's shape in JavaScript); this takes 7.
 */
export function instanceNormWithGradient(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = NORM_EPS): tf.Tensor {
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const { normalized, rstd, value } = normForward(xs, g, b, eps);
    save([normalized, rstd, g]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const [xhat, r, gain] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const { dx, dGamma, dBeta } = normBackward(dy, xhat, r, gain);
        return [dx, dGamma, dBeta];
      }),
    };
  });
  return norm(x, gamma, beta);
}

const spatialAxesOf = (x: tf.Tensor): number[] => Array.from({ length: x.rank - 2 }, (_, i) => i + 1);

/** Sum over every axis but the channels (the last), as a [channels] vector. */
const perChannel = (t: tf.Tensor): tf.Tensor => tf.reshape(tf.sum(t, Array.from({ length: t.rank - 1 }, (_, i) => i)), [t.shape[t.rank - 1]!]);

/** instanceNormByMoments' ops, keeping the pieces the gradient needs (and freeing the rest at once). */
function normForward(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): { normalized: tf.Tensor; rstd: tf.Tensor; value: tf.Tensor } {
  const [normalized, rstd, value] = tf.tidy(() => {
    const { mean, variance } = tf.moments(x, spatialAxesOf(x), true);
    const r = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(x, mean), r);
    return [xhat, r, tf.add(tf.mul(xhat, gamma), beta)];
  });
  return { normalized: normalized!, rstd: rstd!, value: value! };
}

/** Closed-form instance-norm gradient from the normalised input x̂ and 1/σ (see instanceNormWithGradient). */
function normBackward(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, gamma: tf.Tensor): { dx: tf.Tensor; dGamma: tf.Tensor; dBeta: tf.Tensor } {
  const spatialAxes = spatialAxesOf(dy);
  const n = spatialAxes.reduce((a, i) => a * dy.shape[i]!, 1);
  const sumDy = tf.sum(dy, spatialAxes, true);
  const sumDyXhat = tf.sum(tf.mul(dy, xhat), spatialAxes, true);
  const centredDy = tf.sub(tf.sub(dy, tf.div(sumDy, n)), tf.mul(xhat, tf.div(sumDyXhat, n)));
  return { dx: tf.mul(centredDy, tf.mul(rstd, gamma)), dGamma: perChannel(sumDyXhat), dBeta: perChannel(sumDy) };
}

/**
 * leakyRelu(instanceNorm(y + bias)) as one differentiable op for native backends: the forward ops and values
 * of the separate ops, but it keeps only x̂ and its output (which the next conv keeps anyway) for the
 * gradient, where the separate ops keep four full-size tensors per block (peak memory), and its gradient
 * takes about half the passes. The leaky-ReLU mask comes from the output (same sign as the input).
 */
export function biasNormLrelu(y: tf.Tensor, bias: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = NORM_EPS): tf.Tensor {
  const block = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [ys, bs, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [normalized, rstd, out] = tf.tidy(() => {
      const n = normForward(tf.add(ys, bs), g, b, eps);
      return [n.normalized, n.rstd, tf.leakyRelu(n.value, LEAKY_SLOPE)];
    }) as [tf.Tensor, tf.Tensor, tf.Tensor];
    save([normalized, rstd, g, out]);
    return {
      value: out,
      // tfjs-core runs a custom gradient outside any per-node tidy: without this one, every intermediate here
      // would live until the whole backward pass ends.
      gradFunc: (dOut: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const [xhat, r, gain, o] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        // tfjs-core's LeakyRelu gradient, with the mask taken from the output.
        const dValue = tf.where(tf.greater(o, 0), dOut, tf.mul(dOut, LEAKY_SLOPE));
        const { dx, dGamma, dBeta } = normBackward(dValue, xhat, r, gain);
        return [dx, perChannel(dx), dGamma, dBeta];
      }),
    };
  });
  return block(y, bias, gamma, beta);
}

/** The direct form: statistics with keepDims and broadcasting ops. */
export function instanceNormByMoments(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = NORM_EPS): tf.Tensor {
  const spatialAxes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
  const { mean, variance } = tf.moments(x, spatialAxes, true);
  const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalized, gamma), beta);
}

/**
 * The same numbers with the reductions and broadcasts written as batched matmuls against ones. The pure-JS
 * backend broadcasts [b,1,..,1,c] operands and reduces non-innermost axes through slow generic index loops;
 * its matmul is blocked, so this form trains 2-3x faster there.
 */
export function instanceNormByMatmul(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = NORM_EPS): tf.Tensor {
  const b = x.shape[0]!;
  const c = x.shape[x.rank - 1]!;
  const s = x.size / (b * c);
  const x3 = tf.reshape(x, [b, s, c]);
  const averageRow = tf.fill([b, 1, s], 1 / s);
  const onesColumn = tf.ones([b, s, 1]);
  const centred = tf.sub(x3, tf.matMul(onesColumn, tf.matMul(averageRow, x3)));
  const variance = tf.matMul(averageRow, tf.square(centred));
  const scale = tf.mul(tf.rsqrt(tf.add(variance, eps)), gamma);
  return tf.reshape(tf.add(tf.mul(centred, tf.matMul(onesColumn, scale)), beta), x.shape);
}

/**
 * conv (+bias) -> instance norm -> leaky ReLU: one of Generic_UNet's ConvDropoutNormNonlin blocks. Several
 * inputs are concatenated along the channels first (the decoder's [upsampled, skip]).
 */
export function convNormLrelu(inputs: readonly tf.Tensor[], p: { weight: tf.Tensor; bias: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor }, stride: readonly number[], padding: readonly number[]): tf.Tensor {
  const conv = convOfConcat(inputs, p.weight, stride, padding);
  if (!onPureJsBackend()) return biasNormLrelu(conv, p.bias, p.gamma, p.beta);
  return tf.leakyRelu(instanceNorm(tf.add(conv, p.bias), p.gamma, p.beta), LEAKY_SLOPE);
}

/**
 * Inference form of convNormLrelu: the same ops in the same order (so the same values, bit for bit), but each
 * full-size intermediate is disposed as soon as the next op has read it, and the `inputs` are consumed
 * (disposed) once the conv has read them. Inside one tidy the block would hold ~7 full-size tensors until its
 * end; this holds at most an op's input and output. No gradient can flow through it (it frees what backprop
 * would need), so it refuses to run while a gradient tape records.
 */
export function convNormLreluConsuming(inputs: readonly tf.Tensor[], p: { weight: tf.Tensor; bias: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor }, stride: readonly number[], padding: readonly number[]): tf.Tensor {
  if (tf.engine().isTapeOn()) throw new Error('convNormLreluConsuming is inference-only: it cannot run under tf.grad');
  let h = inputs.length === 1 ? inputs[0]! : tf.concat([...inputs], -1);
  if (inputs.length > 1) inputs.forEach((t) => t.dispose());
  h = consume(h, (x) => tf.tidy(() => convNd(x, p.weight, stride, padding)));
  h = consume(h, (x) => tf.add(x, p.bias));
  if (onPureJsBackend()) return consume(h, (x) => tf.tidy(() => tf.leakyRelu(instanceNorm(x, p.gamma, p.beta), LEAKY_SLOPE)));
  // normForward's ops: (x - mean) * rsqrt(var + eps) * gamma + beta, then leakyRelu.
  const { mean, rstd } = tf.tidy(() => {
    const m = tf.moments(h, spatialAxesOf(h), true);
    return { mean: m.mean, rstd: tf.rsqrt(tf.add(m.variance, NORM_EPS)) };
  });
  h = consume(h, (x) => tf.sub(x, mean));
  h = consume(h, (x) => tf.mul(x, rstd));
  mean.dispose();
  rstd.dispose();
  h = consume(h, (x) => tf.mul(x, p.gamma));
  h = consume(h, (x) => tf.add(x, p.beta));
  return consume(h, (x) => tf.leakyRelu(x, LEAKY_SLOPE));
}

/** f(x), then x disposed: one step of a chain that owns its intermediates. */
function consume(x: tf.Tensor, f: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const y = f(x);
  if (y !== x) x.dispose();
  return y;
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

/**
 * tfjs-core's Sum and Mean gradients multiply dy by `ones(x.shape)`, which native backends fill in JavaScript
 * and copy over: a full-size allocation and transfer per reduction (1.2 s of a 3D U-Net step, in the loss and
 * instance norms). Broadcasting dy (Mean: dy / n, then broadcast) gives the same values bit for bit. The
 * pure-JS backend keeps tfjs-core's form, whose multiply is faster there than its generic broadcast.
 */
function registerBroadcastReductionGradients(): void {
  const reduceGrad = (kernelName: 'Sum' | 'Mean', fallback: tf.GradConfig | undefined): void => {
    if (!fallback) return;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
        if (onPureJsBackend()) return fallback.gradFunc(dy, saved, attrs);
        const [x] = saved as [tf.Tensor];
        const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
        const expandedShape = x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
        const reduceSize = axes.reduce((a, i) => a * x.shape[i]!, 1);
        return {
          x: () => {
            const expandedDy = tf.reshape(dy as tf.Tensor, expandedShape);
            return tf.broadcastTo(kernelName === 'Mean' ? tf.div(expandedDy, reduceSize) : expandedDy, x.shape);
          },
        };
      },
    });
  };
  reduceGrad('Sum', tf.getGradient('Sum'));
  reduceGrad('Mean', tf.getGradient('Mean'));
}
registerBroadcastReductionGradients();
