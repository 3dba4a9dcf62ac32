/**
 * Convolutions computed in bfloat16 on the tfjs-node backends (opt-in: `training.precision: 'bfloat16'`, env
 * NNUNET_PRECISION; docs/training.md, 'Mixed precision'). tfjs has no 16-bit dtype, so each conv is one chain of
 * native calls through tfjs-node's binding: Cast → Conv{2,3}D(T = bfloat16) → Cast back, the 16-bit tensors never
 * reaching tfjs. Inputs, weights, outputs and gradients stay float32 (float32 master weights, as nnU-Net's autocast);
 * the backward convolutions run in bfloat16 the same way.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../common/errors';

interface NativeTensor { id: number; shape: number[]; dtype: number }
interface OpAttr { name: string; type: number; value: unknown }
interface Binding {
  TF_FLOAT: number; TF_INT32: number; TF_ATTR_TYPE: number; TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number;
  executeOp(name: string, attrs: OpAttr[], inputs: number[], numOutputs: number): NativeTensor[];
  deleteTensor(id: number): void;
}
interface NodeBackend { binding: Binding; getInputTensorIds(t: tf.Tensor[]): number[]; createOutputTensor(m: NativeTensor): tf.Tensor }

export const PRECISIONS = ['float32', 'bfloat16'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** TensorFlow's TF_DataType number for bfloat16 (tf_datatype.h); tfjs-node's binding does not export it. */
const TF_BFLOAT16 = 14;

export type ConvPad = 'same' | 'valid';

function nodeBackend(): NodeBackend | undefined {
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  return tf.getBackend() === 'tensorflow' && be.binding && be.createOutputTensor ? (be as NodeBackend) : undefined;
}

/** The native calls of one conv family (2D or 3D), each taking and returning native tensor ids. */
function nativeOps(be: NodeBackend, rank: 2 | 3, stride: readonly number[], pad: ConvPad) {
  const b = be.binding;
  const attrs = (T: number): OpAttr[] => [
    { name: 'T', type: b.TF_ATTR_TYPE, value: T },
    { name: 'strides', type: b.TF_ATTR_INT, value: [1, ...stride, 1] },
    { name: 'padding', type: b.TF_ATTR_STRING, value: pad.toUpperCase() },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: rank === 3 ? 'NDHWC' : 'NHWC' },
    { name: 'dilations', type: b.TF_ATTR_INT, value: Array<number>(rank + 2).fill(1) },
  ];
  const run = (op: string, ids: number[]): NativeTensor => b.executeOp(op, attrs(TF_BFLOAT16), ids, 1)[0]!;
  const cast = (id: number, from: number, to: number): NativeTensor => b.executeOp('Cast', [
    { name: 'SrcT', type: b.TF_ATTR_TYPE, value: from }, { name: 'DstT', type: b.TF_ATTR_TYPE, value: to },
    { name: 'Truncate', type: b.TF_ATTR_BOOL, value: false }], [id], 1)[0]!;
  const names = rank === 3
    ? { forward: 'Conv3D', input: 'Conv3DBackpropInputV2', filter: 'Conv3DBackpropFilterV2' }
    : { forward: 'Conv2D', input: 'Conv2DBackpropInput', filter: 'Conv2DBackpropFilter' };
  /** op(float32 tensors cast to bfloat16, int32 shape tensors as they are) → float32 tfjs tensor; frees the 16-bit ones. */
  const inBf16 = (op: string, inputs: tf.Tensor[]): tf.Tensor => {
    const ids = be.getInputTensorIds(inputs);
    const temporaries: number[] = [];
    const converted = ids.map((id, i) => {
      if (inputs[i]!.dtype !== 'float32') return id;
      const c = cast(id, b.TF_FLOAT, TF_BFLOAT16).id;
      temporaries.push(c);
      return c;
    });
    const out = run(op, converted);
    temporaries.push(out.id);
    try {
      return be.createOutputTensor(cast(out.id, TF_BFLOAT16, b.TF_FLOAT));
    } finally {
      temporaries.forEach((id) => b.deleteTensor(id));
    }
  };
  return { names, inBf16 };
}

/**
 * conv(x, w) with TensorFlow's 'same' or 'valid' padding, computed in bfloat16, differentiable (both backward
 * convolutions in bfloat16 too). x: NHWC / NDHWC float32, w: [...kernel, in, out]. Only on tfjs-node(-gpu).
 */
export function convBf16(x: tf.Tensor, w: tf.Tensor, stride: readonly number[], pad: ConvPad): tf.Tensor {
  const be = nodeBackend();
  if (!be) throw new Error(`bfloat16 convolutions need the tfjs-node backend, not '${tf.getBackend()}'`);
  const rank = stride.length as 2 | 3;
  const { names, inBf16 } = nativeOps(be, rank, stride, pad);
  const conv = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, ws, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([xs, ws]);
    return {
      value: inBf16(names.forward, [xs, ws]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xsaved, wsaved] = saved as [tf.Tensor, tf.Tensor];
        const shapes = [tf.tensor1d(xsaved.shape, 'int32'), tf.tensor1d(wsaved.shape, 'int32')] as const;
        try {
          return [inBf16(names.input, [shapes[0], wsaved, dy]), inBf16(names.filter, [xsaved, shapes[1], dy])];
        } finally {
          shapes.forEach((t) => t.dispose());
        }
      },
    };
  });
  return conv(x, w);
}

let probed: string | undefined | null = null;

/**
 * Why bfloat16 convolutions cannot run here (not the tfjs-node backend, or this TensorFlow/CPU has no bfloat16
 * Conv kernels), or undefined when they can. Tried once, with a tiny 2D and 3D conv and their gradients.
 */
export function whyNoBf16(): string | undefined {
  if (!nodeBackend()) return `bfloat16 convolutions need the tfjs-node backend, not '${tf.getBackend()}'`;
  if (probed !== null) return probed;
  try {
    tf.tidy(() => {
      for (const rank of [2, 3] as const) {
        const x = tf.ones([1, ...Array<number>(rank).fill(4), 2]);
        const w = tf.ones([...Array<number>(rank).fill(3), 2, 2]);
        const grads = tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(convBf16(a, k, Array<number>(rank).fill(1), 'same')))([x, w]);
        grads.forEach((g) => g.dataSync());
      }
    });
    probed = undefined;
  } catch (err) {
    probed = `this TensorFlow build cannot run bfloat16 convolutions: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`;
  }
  return probed;
}

/**
 * Why bfloat16 convolutions would be slower than float32 here, or undefined. TensorFlow's CPU kernels run bfloat16
 * through oneDNN only on AVX-512 CPUs; elsewhere Eigen emulates it: measured 20–40x slower than float32 on an AVX2
 * EPYC (docs/training.md). Fast where measured: a CPU with AVX512_BF16 (or AMX-BF16); on a CUDA device untested.
 */
export function whyBf16Slow(cpuFlags = cpuFlagsOf()): string | undefined {
  const binding = (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding;
  if (binding?.isUsingGpuDevice?.() === true) return undefined;
  if (cpuFlags === undefined) return 'cannot read this CPU\'s flags (/proc/cpuinfo) to tell whether it has bfloat16 instructions';
  if (cpuFlags.has('avx512_bf16') || cpuFlags.has('amx_bf16')) return undefined;
  return 'this CPU has no AVX512_BF16/AMX-BF16, so TensorFlow emulates bfloat16 (20-40x slower than float32, measured)';
}

function cpuFlagsOf(): Set<string> | undefined {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return line ? new Set(line.split(':')[1]!.trim().split(/\s+/)) : undefined;
  } catch {
    return undefined;
  }
}

let current: Precision = 'float32';

/** The precision convNd computes in; 'float32' unless a training asked for bfloat16 (useConvPrecision). */
export function convPrecision(): Precision {
  return current;
}

/**
 * Sets the convolutions' precision for this process (a training child trains one fold). 'bfloat16' where it
 * cannot run, or would run slower than float32, is refused rather than silently trained otherwise;
 * `allowEmulated` accepts the slow emulation (tests of the numerics on any CPU).
 */
export function useConvPrecision(precision: Precision, options: { allowEmulated?: boolean } = {}): void {
  if (precision === 'bfloat16') {
    const why = whyNoBf16() ?? (options.allowEmulated ? undefined : whyBf16Slow());
    if (why) throw new BadInputError(`precision 'bfloat16': ${why}; set training.precision (or NNUNET_PRECISION) to 'float32'`);
  }
  current = precision;
}

/** useConvPrecision for a training, with one line in its log saying so. */
export function useConvPrecisionLogged(precision: Precision, log: (line: string) => void): void {
  useConvPrecision(precision);
  log(`convolutions in ${precision} (training.precision; norms, loss, optimizer and weights in float32)`);
}
