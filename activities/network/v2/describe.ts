/**
 * The layout of dynamic_network_architectures' PlainConvUNet and ResidualEncoderUNet, derived from a
 * V2NetworkSpec without allocating a tensor: every conv block, residual block, transposed conv and segmentation
 * layer, and every parameter with its PyTorch state_dict name (the canonical one: `<module>.conv.weight`,
 * `<module>.norm.weight`; the `all_modules.N` and `decoder.encoder.` aliases of the same tensors are left out).
 * Shapes are in our channels-last layout; `layout` says how a torch tensor maps to it (torch-weights.ts).
 * See docs/nnunet-v2.md, 'Networks'.
 */
import type { ParamInit } from '../architecture';
import type { V2NetworkSpec } from './arch-kwargs';

/** conv (weight [...kernel, in, out], optional bias) -> instance norm (affine) -> optional nonlinearity. */
export interface ConvNormSpec {
  module: string;
  inChannels: number;
  outChannels: number;
  kernel: number[];
  stride: number[];
  padding: number[];
  bias: boolean;
  nonlin: boolean;
}

/** BasicBlockD: conv1 (strided, nonlin) -> conv2 (no nonlin), plus a skip of avg-pool and/or 1x1 conv + norm. */
export interface ResidualBlockSpec {
  module: string;
  conv1: ConvNormSpec;
  conv2: ConvNormSpec;
  /** AvgPool kernel = stride, when the block strides. */
  pool?: number[];
  /** 1x1 conv without bias + norm, when the channels change. */
  projection?: ConvNormSpec;
}

export type EncoderStageSpec =
  | { kind: 'plain'; convs: ConvNormSpec[]; features: number }
  | { kind: 'residual'; blocks: ResidualBlockSpec[]; features: number };

export interface DecoderStageSpec {
  /** ConvTranspose with kernel = stride and a bias when conv_bias. Weight layout [in, ...kernel, out]. */
  up: { module: string; inChannels: number; outChannels: number; kernel: number[]; bias: boolean };
  convs: ConvNormSpec[];
  /** 1x1 conv to the classes, always with a bias. */
  seg: { module: string; inChannels: number; outChannels: number };
  features: number;
}

/** How a parameter's torch tensor maps to ours: conv [out, in, ...k] / transposed [in, out, ...k] / a vector. */
export type TorchLayout = 'conv' | 'transposed' | 'vector';

export interface V2ParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
  layout: TorchLayout;
}

export interface V2NetworkDescription {
  spec: V2NetworkSpec;
  inChannels: number;
  numClasses: number;
  deepSupervision: boolean;
  /** ResidualEncoderUNet's stem: one conv block to features_per_stage[0] at full resolution. */
  stem?: ConvNormSpec;
  encoder: EncoderStageSpec[];
  /** Decoder stages, lowest resolution first (the order of computation). */
  decoder: DecoderStageSpec[];
  /** Every parameter, in state_dict order without the aliases. */
  params: V2ParamSpec[];
  numParameters: number;
}

export interface V2NetworkOptions {
  inChannels: number;
  /** Segmentation heads: labels with background, or one per region. */
  numClasses: number;
  /** One output per decoder stage (highest resolution first); default false (inference). */
  deepSupervision?: boolean;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
const ones = (dims: number): number[] => new Array<number>(dims).fill(1);

function convNorm(module: string, inChannels: number, outChannels: number, kernel: number[], stride: number[], bias: boolean, nonlin: boolean): ConvNormSpec {
  return { module, inChannels, outChannels, kernel, stride, padding: kernel.map((k) => (k - 1) / 2), bias, nonlin };
}

/** StackedConvBlocks: n blocks, the first one strided and changing the channels. */
function stackedConvs(module: string, n: number, inChannels: number, outChannels: number, kernel: number[], stride: number[], bias: boolean): ConvNormSpec[] {
  return Array.from({ length: n }, (_, i) => convNorm(`${module}.convs.${i}`, i === 0 ? inChannels : outChannels, outChannels, kernel, i === 0 ? stride : ones(kernel.length), bias, true));
}

function residualBlock(module: string, inChannels: number, outChannels: number, kernel: number[], stride: number[], bias: boolean): ResidualBlockSpec {
  const strided = stride.some((s) => s !== 1);
  const projects = inChannels !== outChannels;
  const block: ResidualBlockSpec = {
    module,
    conv1: convNorm(`${module}.conv1`, inChannels, outChannels, kernel, stride, bias, true),
    conv2: convNorm(`${module}.conv2`, outChannels, outChannels, kernel, ones(kernel.length), bias, false),
  };
  if (strided) block.pool = [...stride];
  // the skip is a Sequential: the pool (when there is one) is its entry 0, the projection the next one
  if (projects) block.projection = convNorm(`${module}.skip.${strided ? 1 : 0}`, inChannels, outChannels, ones(kernel.length), ones(kernel.length), false, false);
  return block;
}

function encoderStages(s: V2NetworkSpec, inChannels: number): EncoderStageSpec[] {
  let channels = s.networkClass === 'ResidualEncoderUNet' ? s.featuresPerStage[0]! : inChannels;
  return s.featuresPerStage.map((features, i) => {
    const module = `encoder.stages.${i}`;
    const kernel = s.kernelSizes[i]!;
    const stride = s.strides[i]!;
    const from = channels;
    channels = features;
    if (s.networkClass === 'PlainConvUNet') return { kind: 'plain', features, convs: stackedConvs(`${module}.0`, s.perStage[i]!, from, features, kernel, stride, s.convBias) };
    const blocks = Array.from({ length: s.perStage[i]! }, (_, b) => residualBlock(`${module}.blocks.${b}`, b === 0 ? from : features, features, kernel, b === 0 ? stride : ones(s.dims), s.convBias));
    return { kind: 'residual', features, blocks };
  });
}

/** UNetDecoder: stage u upsamples stage n-1-u's output to stage n-2-u's resolution and merges that skip. */
function decoderStages(s: V2NetworkSpec, numClasses: number): DecoderStageSpec[] {
  const f = s.featuresPerStage;
  const n = s.nStages;
  return Array.from({ length: n - 1 }, (_, u) => {
    const below = f[n - 1 - u]!;
    const skip = f[n - 2 - u]!;
    return {
      features: skip,
      up: { module: `decoder.transpconvs.${u}`, inChannels: below, outChannels: skip, kernel: [...s.strides[n - 1 - u]!], bias: s.convBias },
      convs: stackedConvs(`decoder.stages.${u}`, s.convPerStageDecoder[u]!, 2 * skip, skip, s.kernelSizes[n - 2 - u]!, ones(s.dims), s.convBias),
      seg: { module: `decoder.seg_layers.${u}`, inChannels: skip, outChannels: numClasses },
    };
  });
}

/** He init (a = 0.01) as InitWeights_He; ResidualEncoderUNet also zeroes each block's last norm (init_last_bn_before_add_to_0). */
function convNormParams(c: ConvNormSpec, zeroNormWeight = false): V2ParamSpec[] {
  const params: V2ParamSpec[] = [{ name: `${c.module}.conv.weight`, shape: [...c.kernel, c.inChannels, c.outChannels], init: { kind: 'he', fanIn: c.inChannels * prod(c.kernel) }, layout: 'conv' }];
  if (c.bias) params.push({ name: `${c.module}.conv.bias`, shape: [c.outChannels], init: { kind: 'zeros' }, layout: 'vector' });
  params.push(
    { name: `${c.module}.norm.weight`, shape: [c.outChannels], init: { kind: zeroNormWeight ? 'zeros' : 'ones' }, layout: 'vector' },
    { name: `${c.module}.norm.bias`, shape: [c.outChannels], init: { kind: 'zeros' }, layout: 'vector' },
  );
  return params;
}

function encoderParams(stage: EncoderStageSpec): V2ParamSpec[] {
  if (stage.kind === 'plain') return stage.convs.flatMap((c) => convNormParams(c));
  return stage.blocks.flatMap((b) => [
    ...convNormParams(b.conv1),
    ...convNormParams(b.conv2, true),
    ...(b.projection ? convNormParams(b.projection) : []),
  ]);
}

function decoderParams(decoder: DecoderStageSpec[], dims: number): V2ParamSpec[] {
  const up = decoder.flatMap((d): V2ParamSpec[] => [
    { name: `${d.up.module}.weight`, shape: [d.up.inChannels, ...d.up.kernel, d.up.outChannels], init: { kind: 'he', fanIn: d.up.outChannels * prod(d.up.kernel) }, layout: 'transposed' },
    ...(d.up.bias ? [{ name: `${d.up.module}.bias`, shape: [d.up.outChannels], init: { kind: 'zeros' }, layout: 'vector' } as V2ParamSpec] : []),
  ]);
  const seg = decoder.flatMap((d): V2ParamSpec[] => [
    { name: `${d.seg.module}.weight`, shape: [...ones(dims), d.seg.inChannels, d.seg.outChannels], init: { kind: 'he', fanIn: d.seg.inChannels }, layout: 'conv' },
    { name: `${d.seg.module}.bias`, shape: [d.seg.outChannels], init: { kind: 'zeros' }, layout: 'vector' },
  ]);
  return [...decoder.flatMap((d) => d.convs.flatMap((c) => convNormParams(c))), ...up, ...seg];
}

/** The whole network as dynamic_network_architectures builds it from these arch_kwargs. */
export function describeV2Network(spec: V2NetworkSpec, opts: V2NetworkOptions): V2NetworkDescription {
  if (!(Number.isInteger(opts.inChannels) && opts.inChannels >= 1)) throw new Error(`v2 network: inChannels must be >= 1, got ${opts.inChannels}`);
  if (!(Number.isInteger(opts.numClasses) && opts.numClasses >= 1)) throw new Error(`v2 network: numClasses must be >= 1, got ${opts.numClasses}`);
  const stem = spec.networkClass === 'ResidualEncoderUNet'
    ? convNorm('encoder.stem.convs.0', opts.inChannels, spec.featuresPerStage[0]!, spec.kernelSizes[0]!, ones(spec.dims), spec.convBias, true)
    : undefined;
  const encoder = encoderStages(spec, opts.inChannels);
  const decoder = decoderStages(spec, opts.numClasses);
  const params = [...(stem ? convNormParams(stem) : []), ...encoder.flatMap(encoderParams), ...decoderParams(decoder, spec.dims)];
  return {
    spec, stem, encoder, decoder, params,
    inChannels: opts.inChannels,
    numClasses: opts.numClasses,
    deepSupervision: opts.deepSupervision ?? false,
    numParameters: params.reduce((n, p) => n + prod(p.shape), 0),
  };
}
