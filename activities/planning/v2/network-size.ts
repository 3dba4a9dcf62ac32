/**
 * Sizes of dynamic_network_architectures' PlainConvUNet and ResidualEncoderUNet (BasicBlockD, default stem, strided
 * convs, UNetDecoder) computed from arch_kwargs without building them: compute_conv_feature_map_size (nnU-Net v2's
 * GPU memory proxy) and the trainable parameter count (convs, affine instance norms, transposed convs, 1x1 seg
 * heads).
 */

export interface UNetArchKwargs {
  n_stages: number;
  features_per_stage: number[];
  kernel_sizes: number[][];
  strides: number[][];
  /** PlainConvUNet's convs per encoder stage. */
  n_conv_per_stage?: number[];
  /** ResidualEncoderUNet's residual blocks per encoder stage. */
  n_blocks_per_stage?: number[];
  n_conv_per_stage_decoder: number[];
  conv_bias: boolean;
  norm_op_kwargs?: { eps?: number; affine?: boolean } | null;
}

export type UNetKind = 'PlainConvUNet' | 'ResidualEncoderUNet';

const prod = (xs: readonly number[]): number => xs.reduce((p, x) => p * x, 1);
const divide = (size: readonly number[], stride: readonly number[]): number[] => size.map((s, i) => Math.floor(s / stride[i]!));

function encoderFeatureMaps(kind: UNetKind, a: UNetArchKwargs, patch: readonly number[]): number {
  let size = [...patch];
  let total = kind === 'ResidualEncoderUNet' ? a.features_per_stage[0]! * prod(size) : 0;
  let channels = a.features_per_stage[0]!;
  for (let s = 0; s < a.n_stages; s++) {
    const f = a.features_per_stage[s]!;
    const after = divide(size, a.strides[s]!);
    if (kind === 'PlainConvUNet') {
      total += a.n_conv_per_stage![s]! * f * prod(after);
    } else {
      const strided = after.some((x, i) => x !== size[i]);
      total += 2 * f * prod(after) * a.n_blocks_per_stage![s]! + (strided || channels !== f ? f * prod(after) : 0);
    }
    channels = f;
    size = after;
  }
  return total;
}

function skipSizes(a: UNetArchKwargs, patch: readonly number[]): number[][] {
  const sizes: number[][] = [];
  let size = [...patch];
  for (let s = 0; s < a.n_stages - 1; s++) {
    size = divide(size, a.strides[s]!);
    sizes.push(size);
  }
  return sizes;
}

function decoderFeatureMaps(a: UNetArchKwargs, patch: readonly number[], numClasses: number, deepSupervision: boolean): number {
  const skips = skipSizes(a, patch);
  const stages = a.n_stages - 1;
  let total = 0;
  for (let s = 0; s < stages; s++) {
    const voxels = prod(skips[stages - 1 - s]!);
    const channels = a.features_per_stage[stages - 1 - s]!;
    total += a.n_conv_per_stage_decoder[s]! * channels * voxels + channels * voxels;
    if (deepSupervision || s === stages - 1) total += numClasses * voxels;
  }
  return total;
}

/** compute_conv_feature_map_size(patch) of the network nnU-Net v2's planners instantiate (deep supervision off). */
export function convFeatureMapSize(kind: UNetKind, a: UNetArchKwargs, patch: readonly number[], numClasses: number, deepSupervision = false): number {
  return encoderFeatureMaps(kind, a, patch) + decoderFeatureMaps(a, patch, numClasses, deepSupervision);
}

function convParams(a: UNetArchKwargs, inCh: number, outCh: number, kernel: readonly number[], bias: boolean): number {
  const norm = a.norm_op_kwargs?.affine === false ? 0 : 2 * outCh;
  return inCh * outCh * prod(kernel) + (bias ? outCh : 0) + norm;
}

function encoderParams(kind: UNetKind, a: UNetArchKwargs, inputChannels: number): number {
  const bias = a.conv_bias;
  let total = 0;
  let channels = inputChannels;
  if (kind === 'ResidualEncoderUNet') {
    total += convParams(a, channels, a.features_per_stage[0]!, a.kernel_sizes[0]!, bias);
    channels = a.features_per_stage[0]!;
  }
  for (let s = 0; s < a.n_stages; s++) {
    const f = a.features_per_stage[s]!;
    const k = a.kernel_sizes[s]!;
    if (kind === 'PlainConvUNet') {
      for (let c = 0; c < a.n_conv_per_stage![s]!; c++) total += convParams(a, c === 0 ? channels : f, f, k, bias);
    } else {
      for (let b = 0; b < a.n_blocks_per_stage![s]!; b++) {
        const inCh = b === 0 ? channels : f;
        total += convParams(a, inCh, f, k, bias) + convParams(a, f, f, k, bias);
        if (inCh !== f) total += convParams(a, inCh, f, k.map(() => 1), false);
      }
    }
    channels = f;
  }
  return total;
}

function decoderParams(a: UNetArchKwargs, numClasses: number): number {
  const f = a.features_per_stage;
  const n = a.n_stages;
  let total = 0;
  for (let s = 1; s < n; s++) {
    const below = f[n - s]!;
    const skip = f[n - s - 1]!;
    total += below * skip * prod(a.strides[n - s]!) + (a.conv_bias ? skip : 0);
    const k = a.kernel_sizes[n - s - 1]!;
    for (let c = 0; c < a.n_conv_per_stage_decoder[s - 1]!; c++) total += convParams(a, c === 0 ? 2 * skip : skip, skip, k, a.conv_bias);
    total += skip * numClasses + numClasses;
  }
  return total;
}

/** Trainable parameters of the network (the seg heads of every decoder stage exist with or without deep supervision). */
export function trainableParameters(kind: UNetKind, a: UNetArchKwargs, inputChannels: number, numClasses: number): number {
  return encoderParams(kind, a, inputChannels) + decoderParams(a, numClasses);
}

export function unetKindOf(networkClassName: string): UNetKind {
  const short = networkClassName.split('.').pop();
  if (short === 'PlainConvUNet' || short === 'ResidualEncoderUNet') return short;
  throw new Error(`unsupported network class ${networkClassName}: only PlainConvUNet and ResidualEncoderUNet are sized here`);
}
