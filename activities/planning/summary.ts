/** A per-configuration digest of plans, for `nnunet plan` output (text and --json). */
import type { Configuration } from '../contract';
import { hasLowresStage, stages, type Plans, type StagePlan } from './plans';

export interface ConfigurationSummary {
  configuration: Configuration;
  planner: string;
  plans_file?: string;
  stage: number;
  /** Axis order of the vectors below (transpose_forward of the original array axes). */
  transpose_forward: number[];
  target_spacing: number[];
  median_shape: number[];
  patch_size: number[];
  batch_size: number;
  num_pool_per_axis: number[];
  pool_op_kernel_sizes: number[][];
  conv_kernel_sizes: number[][];
  do_dummy_2D_data_aug: boolean;
  normalization_schemes: Record<string, string>;
  use_mask_for_norm: Record<string, boolean>;
}

function summarize(configuration: Configuration, plans: Plans, index: number, stage: StagePlan, file?: string): ConfigurationSummary {
  return {
    configuration, planner: plans.planner_name, plans_file: file, stage: index, transpose_forward: plans.transpose_forward,
    target_spacing: stage.current_spacing, median_shape: stage.median_patient_size_in_voxels, patch_size: stage.patch_size,
    batch_size: stage.batch_size, num_pool_per_axis: stage.num_pool_per_axis, pool_op_kernel_sizes: stage.pool_op_kernel_sizes,
    conv_kernel_sizes: stage.conv_kernel_sizes, do_dummy_2D_data_aug: stage.do_dummy_2D_data_aug,
    normalization_schemes: plans.normalization_schemes, use_mask_for_norm: plans.use_mask_for_norm,
  };
}

/** 2d, 3d_fullres (last stage), and 3d_lowres (stage 0) when a lowres stage exists. */
export function summarizePlans(plans: Plans, file?: string): ConfigurationSummary[] {
  const list = stages(plans);
  if (plans.plans_kind === '2d') return [summarize('2d', plans, 0, list[0]!, file)];
  const out = [summarize('3d_fullres', plans, list.length - 1, list[list.length - 1]!, file)];
  if (hasLowresStage(plans)) out.push(summarize('3d_lowres', plans, 0, list[0]!, file));
  return out;
}

const fmtSpacing = (v: number[]) => v.map((x) => Number(x.toPrecision(6))).join(' x ');
const fmtShape = (v: number[]) => v.join(' x ');

export function formatSummary(rows: readonly ConfigurationSummary[], cascade: boolean): string {
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.configuration}  (${r.planner}, stage ${r.stage}, axes ${JSON.stringify(r.transpose_forward)})`);
    lines.push(`  target spacing   ${fmtSpacing(r.target_spacing)}`);
    lines.push(`  median shape     ${fmtShape(r.median_shape)}`);
    lines.push(`  patch size       ${fmtShape(r.patch_size)}`);
    lines.push(`  batch size       ${r.batch_size}`);
    lines.push(`  pooling per axis ${JSON.stringify(r.num_pool_per_axis)}  kernels ${JSON.stringify(r.pool_op_kernel_sizes)}`);
    lines.push(`  conv kernels     ${JSON.stringify(r.conv_kernel_sizes)}`);
    lines.push(`  normalization    ${Object.entries(r.normalization_schemes).map(([c, s]) => `${c}:${s}${r.use_mask_for_norm[c] ? ' (nonzero mask)' : ''}`).join(', ')}`);
    if (r.do_dummy_2D_data_aug) lines.push('  augmentation     2D (anisotropic patch)');
    if (r.plans_file) lines.push(`  plans file       ${r.plans_file}`);
  }
  lines.push(`3d_lowres / 3d_cascade_fullres: ${cascade ? 'yes' : 'no (no lowres stage)'}`);
  return lines.join('\n');
}
