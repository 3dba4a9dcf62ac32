/**
 * One configuration of nnU-Net v2's plans (get_plans_for_configuration): the initial patch (the spacing's aspect
 * ratio scaled to 256³ or 2048² voxels, clipped to the median shape), the topology, shrinking the patch along the
 * axis most oversized relative to the median shape until the network's feature maps fit the memory reference, then
 * the batch size from the headroom, capped by the share of the dataset one batch may cover.
 */
import { argmaxLastTie, product, roundHalfEven } from '../../common/numeric';
import { convFeatureMapSize, type UNetArchKwargs } from './network-size';
import type { PlannerPresetV2 } from './presets';
import { getPoolAndConvPropsV2, type TopologyV2 } from './topology';

const BASE_FEATURES = 32;
const MIN_EDGE = 4;
const MIN_BATCH_SIZE = 2;
const REF_BATCH_2D = 12;
const REF_BATCH_3D = 2;

export interface ConfigurationContext {
  preset: PlannerPresetV2;
  gpuMemoryGb: number;
  numInputChannels: number;
  numLabels: number;
  preprocessorName: string;
  normalizationSchemes: string[];
  useMaskForNorm: boolean[];
}

export interface ArchitectureV2 {
  network_class_name: string;
  arch_kwargs: Record<string, unknown> & UNetArchKwargs;
  _kw_requires_import: string[];
}

export type ConfigurationPlanV2 = Record<string, unknown> & { patch_size: number[]; spacing: number[]; architecture: ArchitectureV2 };

function initialPatchSize(spacing: readonly number[], medianShape: readonly number[]): number[] {
  const inverse = spacing.map((s) => 1 / s);
  const volume = spacing.length === 3 ? 256 ** 3 : 2048 ** 2;
  const scale = (volume / product(inverse)) ** (1 / spacing.length);
  return inverse.map((t, i) => Math.min(roundHalfEven(t * scale), medianShape[i]!));
}

function archKwargs(ctx: ConfigurationContext, dim: number, topo: TopologyV2): ArchitectureV2['arch_kwargs'] {
  const stages = topo.strides.length;
  const maxFeatures = dim === 2 ? 512 : 320;
  const blocksKey = ctx.preset.network === 'PlainConvUNet' ? 'n_conv_per_stage' : 'n_blocks_per_stage';
  return {
    n_stages: stages,
    features_per_stage: Array.from({ length: stages }, (_, i) => Math.min(maxFeatures, BASE_FEATURES * 2 ** i)),
    conv_op: `torch.nn.modules.conv.Conv${dim}d`,
    kernel_sizes: topo.kernelSizes,
    strides: topo.strides,
    [blocksKey]: ctx.preset.blocksPerStageEncoder.slice(0, stages),
    n_conv_per_stage_decoder: ctx.preset.blocksPerStageDecoder.slice(0, stages - 1),
    conv_bias: true,
    norm_op: `torch.nn.modules.instancenorm.InstanceNorm${dim}d`,
    norm_op_kwargs: { eps: 1e-5, affine: true },
    dropout_op: null,
    dropout_op_kwargs: null,
    nonlin: 'torch.nn.LeakyReLU',
    nonlin_kwargs: { inplace: true },
  };
}

function networkClassName(ctx: ConfigurationContext): string {
  return `dynamic_network_architectures.architectures.unet.${ctx.preset.network}`;
}

/** The smaller patch after one shrink step of the axis most oversized relative to the median shape. */
function shrinkOnce(spacing: readonly number[], medianShape: readonly number[], topo: TopologyV2): TopologyV2 {
  const patch = [...topo.patchSize];
  const axis = argmaxLastTie(patch.map((p, i) => p / medianShape[i]!));
  const trial = [...patch];
  trial[axis]! -= topo.mustBeDivisibleBy[axis]!;
  patch[axis]! -= getPoolAndConvPropsV2(spacing, trial, MIN_EDGE).mustBeDivisibleBy[axis]!;
  return getPoolAndConvPropsV2(spacing, patch, MIN_EDGE);
}

export function planConfigurationV2(
  ctx: ConfigurationContext, spacing: readonly number[], medianShape: readonly number[], dataIdentifier: string, approxVoxelsDataset: number,
): ConfigurationPlanV2 {
  if (!spacing.every((s) => s > 0)) throw new Error(`Spacing must be > 0! Spacing: ${JSON.stringify(spacing)}`);
  const dim = spacing.length;
  const preset = ctx.preset;
  let topo = getPoolAndConvPropsV2(spacing, initialPatchSize(spacing, medianShape), MIN_EDGE);
  const estimate = (t: TopologyV2) => convFeatureMapSize(preset.network, archKwargs(ctx, dim, t), t.patchSize, ctx.numLabels);
  let vram = estimate(topo);
  const reference = (dim === 2 ? preset.referenceVal2d : preset.referenceVal3d) * (ctx.gpuMemoryGb / preset.referenceGb);
  const refBatch = dim === 2 ? REF_BATCH_2D : REF_BATCH_3D;
  const tooLarge = (v: number) => (preset.shrinkRule === 'estimate' ? v > reference : (v / refBatch) * 2 > reference);
  while (tooLarge(vram)) {
    topo = shrinkOnce(spacing, medianShape, topo);
    vram = estimate(topo);
  }
  const byMemory = roundHalfEven((reference / vram) * refBatch);
  const byDataset = roundHalfEven((approxVoxelsDataset * preset.maxDatasetCovered) / product(topo.patchSize));
  return {
    data_identifier: dataIdentifier,
    preprocessor_name: ctx.preprocessorName,
    batch_size: Math.max(Math.min(byMemory, byDataset), MIN_BATCH_SIZE),
    patch_size: topo.patchSize,
    median_image_size_in_voxels: [...medianShape],
    spacing: [...spacing],
    normalization_schemes: ctx.normalizationSchemes,
    use_mask_for_norm: ctx.useMaskForNorm,
    resampling_fn_data: 'resample_data_or_seg_to_shape',
    resampling_fn_seg: 'resample_data_or_seg_to_shape',
    resampling_fn_data_kwargs: { is_seg: false, order: 3, order_z: 0, force_separate_z: null },
    resampling_fn_seg_kwargs: { is_seg: true, order: 1, order_z: 0, force_separate_z: null },
    resampling_fn_probabilities: 'resample_data_or_seg_to_shape',
    resampling_fn_probabilities_kwargs: { is_seg: false, order: 1, order_z: 0, force_separate_z: null },
    architecture: {
      network_class_name: networkClassName(ctx),
      arch_kwargs: archKwargs(ctx, dim, topo),
      _kw_requires_import: ['conv_op', 'norm_op', 'dropout_op', 'nonlin'],
    },
  };
}
