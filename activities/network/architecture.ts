/**
 * The layout of nnU-Net v1's Generic_UNet as nnUNetTrainerV2.initialize_network builds it,
 * derived from a plan stage without allocating any tensor: layers, parameter shapes, feature counts and
 * (given a patch size) per-stage spatial shapes. The tfjs model (unet.ts) is built from this description, and
 * the parameter count of any plan can be checked here even for networks too large to build in a test.
 *
 * Parameter names are the PyTorch state_dict keys of Generic_UNet, so checkpoints map one to one. Shapes are
 * in our channels-last layout (documented per kind below), not PyTorch's.
 * See docs/network.md, 'The U-Net'.
 */
import { BadInputError } from '../common/errors';

/** The fields of a plan stage (plans.json `plans_per_stage[i]`) that define the network. */
export interface UNetStagePlan {
  pool_op_kernel_sizes: number[][];
  conv_kernel_sizes: number[][];
  patch_size?: number[];
}

export interface UNetOptions {
  inChannels: number;
  /** Number of classes including background (nnU-Net's num_classes + 1). */
  numClasses: number;
  /** Return one output per decoder level (highest resolution first) instead of only the last. Default true. */
  deepSupervision?: boolean;
  /** Features of the first stage (nnU-Net: 32). */
  baseFeatures?: number;
  /** Feature cap: nnU-Net uses 320 in 3D and 480 in 2D (quirk 3, docs/planning.md, 'Quirk decisions'). */
  maxFeatures?: number;
}

export const BASE_FEATURES = 32;
export const MAX_FEATURES_3D = 320;
export const MAX_FEATURES_2D = 480;
export const NORM_EPS = 1e-5;
export const LEAKY_SLOPE = 0.01;

/**
 * Initialisation of a parameter: `he` is Kaiming-normal (a = 0.01) with the given fan-in (computed as PyTorch
 * does, which for transposed convolutions is out_channels * kernel volume), `zeros`/`ones` are constants.
 */
export type ParamInit = { kind: 'he'; fanIn: number } | { kind: 'zeros' } | { kind: 'ones' };

export interface ParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
}

/** Conv (+ bias) -> InstanceNorm (affine) -> LeakyReLU. Weight layout [...kernel, in, out]. */
export interface ConvBlockSpec {
  module: string;
  inChannels: number;
  outChannels: number;
  kernel: number[];
  stride: number[];
  /** PyTorch padding per axis (1 for kernel 3, 0 for kernel 1), applied on both sides. */
  padding: number[];
}

/** Transposed conv with kernel = stride, no bias. Weight layout [in, ...kernel, out]. */
export interface UpsampleSpec {
  module: string;
  inChannels: number;
  outChannels: number;
  kernel: number[];
}

/** 1x1(x1) conv to the classes, no bias. Weight layout [...ones, in, classes]. */
export interface HeadSpec {
  module: string;
  inChannels: number;
  outChannels: number;
}

export interface EncoderStageSpec {
  blocks: ConvBlockSpec[];
  features: number;
  /** Spatial shape of this stage's output, when a patch size was given. */
  shape?: number[];
}

export interface DecoderStageSpec {
  up: UpsampleSpec;
  blocks: ConvBlockSpec[];
  head: HeadSpec;
  features: number;
  shape?: number[];
}

export interface UNetArchitecture {
  dims: 2 | 3;
  inChannels: number;
  numClasses: number;
  deepSupervision: boolean;
  patchSize?: number[];
  /** Encoder stages; the last one is the bottleneck. */
  encoder: EncoderStageSpec[];
  /** Decoder stages, deepest first (as nnU-Net's conv_blocks_localization). */
  decoder: DecoderStageSpec[];
  /** Every parameter in nnU-Net's state_dict order. */
  params: ParamSpec[];
  numParameters: number;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

function checkPlan(stage: UNetStagePlan, opts: UNetOptions): 2 | 3 {
  const pools = stage.pool_op_kernel_sizes;
  const convs = stage.conv_kernel_sizes;
  const dims = convs[0]?.length;
  if (dims !== 2 && dims !== 3) throw new BadInputError(`plan stage: conv_kernel_sizes must be a list of 2D or 3D kernels, got ${JSON.stringify(convs)}`);
  if (pools.length < 1 || convs.length !== pools.length + 1) {
    throw new BadInputError(`plan stage: expected len(conv_kernel_sizes) = len(pool_op_kernel_sizes) + 1 >= 2, got ${convs.length} and ${pools.length}`);
  }
  for (const k of [...pools, ...convs]) {
    if (k.length !== dims || !k.every((v) => Number.isInteger(v) && v >= 1)) throw new BadInputError(`plan stage: kernel ${JSON.stringify(k)} is not a ${dims}D list of positive integers`);
  }
  for (const k of convs) {
    if (!k.every((v) => v === 1 || v === 3)) throw new BadInputError(`plan stage: conv kernel ${JSON.stringify(k)}: Generic_UNet pads only kernels of size 1 and 3`);
  }
  if (stage.patch_size && stage.patch_size.length !== dims) throw new BadInputError(`plan stage: patch_size ${JSON.stringify(stage.patch_size)} is not ${dims}D`);
  if (!(Number.isInteger(opts.inChannels) && opts.inChannels >= 1)) throw new BadInputError(`U-Net: inChannels must be >= 1, got ${opts.inChannels}`);
  if (!(Number.isInteger(opts.numClasses) && opts.numClasses >= 2)) throw new BadInputError(`U-Net: numClasses (with background) must be >= 2, got ${opts.numClasses}`);
  return dims;
}

function convBlock(module: string, inChannels: number, outChannels: number, kernel: number[], stride: number[]): ConvBlockSpec {
  return { module, inChannels, outChannels, kernel, stride, padding: kernel.map((k) => (k === 3 ? 1 : 0)) };
}

function blockParams(b: ConvBlockSpec): ParamSpec[] {
  return [
    { name: `${b.module}.conv.weight`, shape: [...b.kernel, b.inChannels, b.outChannels], init: { kind: 'he', fanIn: b.inChannels * prod(b.kernel) } },
    { name: `${b.module}.conv.bias`, shape: [b.outChannels], init: { kind: 'zeros' } },
    { name: `${b.module}.instnorm.weight`, shape: [b.outChannels], init: { kind: 'ones' } },
    { name: `${b.module}.instnorm.bias`, shape: [b.outChannels], init: { kind: 'zeros' } },
  ];
}

const convOutShape = (shape: number[], b: ConvBlockSpec): number[] =>
  shape.map((n, i) => Math.floor((n + 2 * b.padding[i]! - b.kernel[i]!) / b.stride[i]!) + 1);

/** Derives the whole network from a plan stage, exactly as Generic_UNet.__init__ does. */
export function describeUNet(stage: UNetStagePlan, opts: UNetOptions): UNetArchitecture {
  const dims = checkPlan(stage, opts);
  const pools = stage.pool_op_kernel_sizes;
  const kernels = stage.conv_kernel_sizes;
  const numPool = pools.length;
  const maxFeatures = opts.maxFeatures ?? (dims === 3 ? MAX_FEATURES_3D : MAX_FEATURES_2D);
  const ones = new Array<number>(dims).fill(1);

  const encoder: EncoderStageSpec[] = [];
  let inF = opts.inChannels;
  let outF = opts.baseFeatures ?? BASE_FEATURES;
  for (let d = 0; d < numPool; d++) {
    const stride = d === 0 ? ones : pools[d - 1]!;
    encoder.push({
      features: outF,
      blocks: [
        convBlock(`conv_blocks_context.${d}.blocks.0`, inF, outF, kernels[d]!, stride),
        convBlock(`conv_blocks_context.${d}.blocks.1`, outF, outF, kernels[d]!, ones),
      ],
    });
    inF = outF;
    outF = Math.min(Math.round(outF * 2), maxFeatures);
  }
  // Bottleneck: a Sequential of two single-conv StackedConvLayers, hence the extra ".0"/".1" in the names.
  encoder.push({
    features: outF,
    blocks: [
      convBlock(`conv_blocks_context.${numPool}.0.blocks.0`, inF, outF, kernels[numPool]!, pools[numPool - 1]!),
      convBlock(`conv_blocks_context.${numPool}.1.blocks.0`, outF, outF, kernels[numPool]!, ones),
    ],
  });

  const decoder: DecoderStageSpec[] = [];
  let fromDown = outF;
  for (let u = 0; u < numPool; u++) {
    const skip = encoder[numPool - 1 - u]!.features;
    // Generic_UNet uses conv_kernel_sizes[-(u+1)]: the deepest decoder level takes the bottleneck's kernel.
    const kernel = kernels[numPool - u]!;
    decoder.push({
      features: skip,
      up: { module: `tu.${u}`, inChannels: fromDown, outChannels: skip, kernel: pools[numPool - 1 - u]! },
      blocks: [
        convBlock(`conv_blocks_localization.${u}.0.blocks.0`, 2 * skip, skip, kernel, ones),
        convBlock(`conv_blocks_localization.${u}.1.blocks.0`, skip, skip, kernel, ones),
      ],
      head: { module: `seg_outputs.${u}`, inChannels: skip, outChannels: opts.numClasses },
    });
    fromDown = skip;
  }

  const params: ParamSpec[] = [
    ...encoder.flatMap((s) => s.blocks.flatMap(blockParams)),
    ...decoder.flatMap((s) => s.blocks.flatMap(blockParams)),
    ...decoder.map((s): ParamSpec => ({ name: `${s.up.module}.weight`, shape: [s.up.inChannels, ...s.up.kernel, s.up.outChannels], init: { kind: 'he', fanIn: s.up.outChannels * prod(s.up.kernel) } })),
    ...decoder.map((s): ParamSpec => ({ name: `${s.head.module}.weight`, shape: [...ones, s.head.inChannels, s.head.outChannels], init: { kind: 'he', fanIn: s.head.inChannels } })),
  ];
  const arch: UNetArchitecture = {
    dims,
    inChannels: opts.inChannels,
    numClasses: opts.numClasses,
    deepSupervision: opts.deepSupervision ?? true,
    encoder,
    decoder,
    params,
    numParameters: params.reduce((n, p) => n + prod(p.shape), 0),
  };
  if (stage.patch_size) annotateShapes(arch, stage.patch_size);
  return arch;
}

/** Fills in per-stage spatial shapes and checks that every skip connection lines up for this patch size. */
function annotateShapes(arch: UNetArchitecture, patch: number[]): void {
  arch.patchSize = [...patch];
  let shape = [...patch];
  for (const s of arch.encoder) {
    for (const b of s.blocks) shape = convOutShape(shape, b);
    s.shape = shape;
  }
  arch.decoder.forEach((s, u) => {
    shape = shape.map((n, i) => n * s.up.kernel[i]!);
    const skip = arch.encoder[arch.encoder.length - 2 - u]!.shape!;
    if (shape.some((n, i) => n !== skip[i])) {
      throw new BadInputError(`patch size ${patch.join('x')} does not fit the pooling ${JSON.stringify(arch.decoder.map((d) => d.up.kernel).reverse())}: each axis must be divisible by the product of its pool kernels`);
    }
    s.shape = shape;
  });
}

/** A readable table of the network: stages, shapes, features, kernels, strides, parameter count. */
export function summarizeUNet(arch: UNetArchitecture): string {
  const x = (v?: number[]): string => (v ? v.join('x') : '-');
  const rows: string[][] = [['stage', 'role', 'shape', 'features', 'kernel', 'stride / up']];
  arch.encoder.forEach((s, d) => {
    const role = d === arch.encoder.length - 1 ? 'bottleneck' : 'encoder';
    rows.push([String(d), role, x(s.shape), String(s.features), x(s.blocks[0]!.kernel), x(s.blocks[0]!.stride)]);
  });
  arch.decoder.forEach((s, u) => {
    rows.push([String(arch.encoder.length - 2 - u), `decoder ${u}`, x(s.shape), String(s.features), x(s.blocks[0]!.kernel), `up ${x(s.up.kernel)}`]);
  });
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  const outputs = arch.deepSupervision ? `deep supervision: ${arch.decoder.length} outputs, highest resolution first` : 'single output';
  return [
    `Generic_UNet (nnU-Net v1), ${arch.dims}D, ${arch.inChannels} input channel(s), ${arch.numClasses} classes, ${outputs}`,
    `conv -> instance norm (eps ${NORM_EPS}, affine) -> leaky ReLU ${LEAKY_SLOPE}; strided-conv downsampling; transposed-conv upsampling`,
    ...table,
    `parameters: ${arch.numParameters}`,
  ].join('\n');
}
