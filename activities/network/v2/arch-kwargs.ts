/**
 * A v2 plans configuration's `architecture` ({network_class_name, arch_kwargs}) read into one typed, checked
 * spec, the way nnU-Net v2's get_network_from_plans and dynamic_network_architectures interpret it: scalars
 * broadcast to one entry per stage, ops named by their torch import path. What we cannot build (another network
 * class, norm, nonlinearity or block type) is refused naming the key and the value.
 */
import { BadInputError } from '../../common/errors';

export type V2NetworkClass = 'PlainConvUNet' | 'ResidualEncoderUNet';

export interface V2ArchitectureJson {
  network_class_name: string;
  arch_kwargs: Record<string, unknown>;
}

export interface V2NetworkSpec {
  networkClass: V2NetworkClass;
  dims: 2 | 3;
  nStages: number;
  featuresPerStage: number[];
  kernelSizes: number[][];
  strides: number[][];
  /** Convs per encoder stage (PlainConvUNet) or residual blocks per encoder stage (ResidualEncoderUNet). */
  perStage: number[];
  convPerStageDecoder: number[];
  convBias: boolean;
  normEps: number;
  /** LeakyReLU's negative slope; 0 for ReLU. */
  nonlinSlope: number;
}

const shortName = (v: unknown): string => String(v).split('.').pop() ?? '';

function fail(where: string, key: string, why: string): never {
  throw new BadInputError(`${where}: architecture.arch_kwargs.${key} ${why}`, where);
}

function positiveInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** An int or a list of n ints (dynamic_network_architectures broadcasts a scalar to every stage). */
function perStageInts(kw: Record<string, unknown>, key: string, n: number, where: string): number[] {
  const v = kw[key];
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(list) || list.length !== n || !list.every(positiveInt)) fail(where, key, `must be a positive int or a list of ${n}, got ${JSON.stringify(v)}`);
  return list as number[];
}

/** An int, or a list of n entries that are each an int or a list of `dims` ints. */
function perStageVectors(kw: Record<string, unknown>, key: string, n: number, dims: number, where: string): number[][] {
  const v = kw[key];
  const list = Array.isArray(v) ? v : new Array<unknown>(n).fill(v);
  const out = list.map((e) => (typeof e === 'number' ? new Array<number>(dims).fill(e) : e));
  const ok = out.length === n && out.every((e) => Array.isArray(e) && e.length === dims && e.every(positiveInt));
  if (!ok) fail(where, key, `must give ${n} stages of ${dims} positive ints, got ${JSON.stringify(v)}`);
  return out as number[][];
}

function dimsOf(kw: Record<string, unknown>, where: string): 2 | 3 {
  const conv = shortName(kw.conv_op);
  if (conv === 'Conv2d') return 2;
  if (conv === 'Conv3d') return 3;
  return fail(where, 'conv_op', `must be torch.nn.Conv2d or Conv3d, got ${JSON.stringify(kw.conv_op)}`);
}

function normEpsOf(kw: Record<string, unknown>, dims: number, where: string): number {
  if (shortName(kw.norm_op) !== `InstanceNorm${dims}d`) fail(where, 'norm_op', `must be torch.nn.InstanceNorm${dims}d (the only norm built here), got ${JSON.stringify(kw.norm_op)}`);
  const nk = (kw.norm_op_kwargs ?? {}) as { eps?: unknown; affine?: unknown };
  if (nk.affine !== true) fail(where, 'norm_op_kwargs.affine', `must be true (nnU-Net's default), got ${JSON.stringify(nk.affine)}`);
  if (nk.eps !== undefined && typeof nk.eps !== 'number') fail(where, 'norm_op_kwargs.eps', `must be a number, got ${JSON.stringify(nk.eps)}`);
  return (nk.eps as number | undefined) ?? 1e-5;
}

function nonlinSlopeOf(kw: Record<string, unknown>, where: string): number {
  const name = shortName(kw.nonlin);
  if (name === 'ReLU') return 0;
  if (name !== 'LeakyReLU') fail(where, 'nonlin', `must be torch.nn.LeakyReLU or ReLU, got ${JSON.stringify(kw.nonlin)}`);
  const slope = (kw.nonlin_kwargs as { negative_slope?: unknown } | null | undefined)?.negative_slope;
  if (slope !== undefined && typeof slope !== 'number') fail(where, 'nonlin_kwargs.negative_slope', `must be a number, got ${JSON.stringify(slope)}`);
  return (slope as number | undefined) ?? 0.01;
}

/** Options of dynamic_network_architectures that change the network and are not built here. */
function refuseUnsupported(kw: Record<string, unknown>, where: string): void {
  if (kw.dropout_op !== undefined && kw.dropout_op !== null) fail(where, 'dropout_op', `${JSON.stringify(kw.dropout_op)} is not supported (nnU-Net plans none)`);
  if (kw.nonlin_first === true) fail(where, 'nonlin_first', 'true (conv -> nonlin -> norm) is not supported');
  if (kw.block !== undefined && shortName(kw.block) !== 'BasicBlockD') fail(where, 'block', `${JSON.stringify(kw.block)} is not supported (only BasicBlockD)`);
  for (const key of ['bottleneck_channels', 'stem_channels'] as const) {
    if (kw[key] !== undefined && kw[key] !== null) fail(where, key, 'is not supported (only the defaults)');
  }
}

/** The architecture of a (resolved) v2 configuration as a spec; `where` names the plans file in errors. */
export function readV2Architecture(arch: V2ArchitectureJson, where: string): V2NetworkSpec {
  const cls = shortName(arch?.network_class_name);
  if (cls !== 'PlainConvUNet' && cls !== 'ResidualEncoderUNet') {
    throw new BadInputError(`${where}: architecture.network_class_name ${JSON.stringify(arch?.network_class_name)} is not supported; nnunet-ts builds PlainConvUNet and ResidualEncoderUNet`, where);
  }
  const kw = arch.arch_kwargs ?? {};
  refuseUnsupported(kw, where);
  if (!positiveInt(kw.n_stages) || (kw.n_stages as number) < 2) fail(where, 'n_stages', `must be an int >= 2, got ${JSON.stringify(kw.n_stages)}`);
  const n = kw.n_stages as number;
  const dims = dimsOf(kw, where);
  const kernelSizes = perStageVectors(kw, 'kernel_sizes', n, dims, where);
  if (!kernelSizes.flat().every((k) => k === 1 || k === 3)) fail(where, 'kernel_sizes', `may hold only 1 and 3 (what nnU-Net plans), got ${JSON.stringify(kw.kernel_sizes)}`);
  return {
    networkClass: cls,
    dims,
    nStages: n,
    featuresPerStage: perStageInts(kw, 'features_per_stage', n, where),
    kernelSizes,
    strides: perStageVectors(kw, 'strides', n, dims, where),
    perStage: perStageInts(kw, cls === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage', n, where),
    convPerStageDecoder: perStageInts(kw, 'n_conv_per_stage_decoder', n - 1, where),
    convBias: kw.conv_bias === true,
    normEps: normEpsOf(kw, dims, where),
    nonlinSlope: nonlinSlopeOf(kw, where),
  };
}
