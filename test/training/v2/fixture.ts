/**
 * A tiny preprocessed nnU-Net v2 dataset for the v2 trainer tests, written as v2's DefaultPreprocessor writes one
 * (nnUNetPlans.json, dataset.json, nnUNetPlans_3d_fullres/<case>.npz + <case>.json with v2's class_locations):
 * 5 cases of 12×20×20 voxels, a bright box labelled 1 inside a noisy background, and a tiny PlainConvUNet plan
 * (3 stages, 4/8/16 features, patch 8×16×16, batch 2), and gt_segmentations/<case>.nii.gz as the fold validation's
 * reference. Synthetic rather than run through fingerprint/plan/
 * preprocess, so that the training tests take seconds. Label variants: 'regions' (the box is label 1 with a core
 * labelled 2; regions whole = (1, 2) and core = (2,), regions_class_order [1, 2]) and 'ignore' (label 2 = ignore
 * on the outer two x-columns, as sparse annotations leave voxels unlabelled).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MT19937 } from '../../../activities/common/mt19937';
import { writeNiftiSync } from '../../../activities/io/nifti';
import type { Mat3, Vec3 } from '../../../activities/io/geometry';
import { readNpz, writeNpz } from '../../../activities/io/npz';
import { sampleClassLocationsV2 } from '../../../activities/preprocessing/v2/class-locations';
import { locationClassesV2 } from '../../../activities/preprocessing/v2/labels';

export const TINY_DATASET = 'Dataset990_TinyV2';
const SHAPE: [number, number, number] = [12, 20, 20];

export function tinyPlansV2(): Record<string, unknown> {
  return {
    dataset_name: TINY_DATASET, plans_name: 'nnUNetPlans', transpose_forward: [0, 1, 2], transpose_backward: [0, 1, 2],
    original_median_spacing_after_transp: [1, 1, 1], original_median_shape_after_transp: SHAPE, image_reader_writer: 'SimpleITKIO',
    experiment_planner_used: 'ExperimentPlanner', label_manager: 'LabelManager',
    foreground_intensity_properties_per_channel: { 0: { max: 3, mean: 1, median: 1, min: -1, percentile_00_5: -1, percentile_99_5: 3, std: 1 } },
    configurations: {
      '3d_fullres': {
        data_identifier: 'nnUNetPlans_3d_fullres', preprocessor_name: 'DefaultPreprocessor', batch_size: 2, patch_size: [8, 16, 16],
        median_image_size_in_voxels: SHAPE, spacing: [1, 1, 1], normalization_schemes: ['ZScoreNormalization'], use_mask_for_norm: [false],
        resampling_fn_data: 'resample_data_or_seg_to_shape', resampling_fn_seg: 'resample_data_or_seg_to_shape',
        resampling_fn_data_kwargs: { is_seg: false, order: 3, order_z: 0, force_separate_z: null },
        resampling_fn_seg_kwargs: { is_seg: true, order: 1, order_z: 0, force_separate_z: null },
        resampling_fn_probabilities: 'resample_data_or_seg_to_shape',
        resampling_fn_probabilities_kwargs: { is_seg: false, order: 1, order_z: 0, force_separate_z: null },
        architecture: {
          network_class_name: 'dynamic_network_architectures.architectures.unet.PlainConvUNet',
          arch_kwargs: {
            n_stages: 3, features_per_stage: [4, 8, 16], conv_op: 'torch.nn.modules.conv.Conv3d',
            kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2]],
            n_conv_per_stage: [2, 2, 2], n_conv_per_stage_decoder: [2, 2], conv_bias: true,
            norm_op: 'torch.nn.modules.instancenorm.InstanceNorm3d', norm_op_kwargs: { eps: 1e-5, affine: true },
            dropout_op: null, dropout_op_kwargs: null, nonlin: 'torch.nn.LeakyReLU', nonlin_kwargs: { inplace: true },
          },
          _kw_requires_import: ['conv_op', 'norm_op', 'dropout_op', 'nonlin'],
        },
        batch_dice: false,
      },
    },
  };
}

const GEOMETRY = { spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3 };

export type TinyLabels = 'plain' | 'regions' | 'ignore';

const LABELS: Record<TinyLabels, { labels: Record<string, number | number[]>; regions_class_order?: number[] }> = {
  plain: { labels: { background: 0, box: 1 } },
  regions: { labels: { background: 0, whole: [1, 2], core: [2] }, regions_class_order: [1, 2] },
  ignore: { labels: { background: 0, box: 1, ignore: 2 } },
};

/** The label a voxel gets: the box (its core 2 for regions), and for 'ignore' the unannotated outer columns. */
function labelAt(kind: TinyLabels, inside: boolean, core: boolean, x: number): number {
  if (kind === 'ignore' && (x < 2 || x >= SHAPE[2] - 2)) return 2;
  if (!inside) return 0;
  return kind === 'regions' && core ? 2 : 1;
}

function writeCase(folder: string, gtFolder: string, id: string, rng: MT19937, kind: TinyLabels): void {
  const [Z, Y, X] = SHAPE;
  const data = new Float32Array(Z * Y * X);
  const seg = new Int8Array(Z * Y * X);
  const z0 = 2 + Math.floor(rng.randomSample() * 4), y0 = 3 + Math.floor(rng.randomSample() * 8), x0 = 3 + Math.floor(rng.randomSample() * 8);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    const i = (z * Y + y) * X + x;
    const inside = z >= z0 && z < z0 + 5 && y >= y0 && y < y0 + 7 && x >= x0 && x < x0 + 7;
    const core = inside && z > z0 && z < z0 + 4 && y > y0 + 1 && y < y0 + 5 && x > x0 + 1 && x < x0 + 5;
    seg[i] = labelAt(kind, inside, core, x);
    data[i] = (inside ? 2 : 0) + (core ? 1.5 : 0) + 0.3 * rng.standardNormal();
  }
  writeNpz(path.join(folder, `${id}.npz`), { data: { data, shape: [1, ...SHAPE], dtype: 'float32' }, seg: { data: seg, shape: [1, ...SHAPE], dtype: 'int8' } });
  writeNiftiSync(path.join(gtFolder, `${id}.nii.gz`), { data: Uint8Array.from(seg), shape: [...SHAPE], dtype: 'uint8', geometry: GEOMETRY });
  const properties = {
    sitk_stuff: { spacing: [...GEOMETRY.spacing], origin: [...GEOMETRY.origin], direction: [...GEOMETRY.direction] }, spacing: [1, 1, 1], shape_before_cropping: SHAPE, bbox_used_for_cropping: SHAPE.map((s) => [0, s]),
    shape_after_cropping_and_before_resampling: SHAPE, class_locations: sampleClassLocationsV2(seg, SHAPE, locationClassesV2(LABELS[kind].labels, id)),
  };
  fs.writeFileSync(path.join(folder, `${id}.json`), JSON.stringify(properties));
}

export interface TinyV2 { root: string; preprocessedDir: string; resultsRoot: string; cleanup(): void }

export function tinyPreprocessedV2(kind: TinyLabels = 'plain'): TinyV2 {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2train-'));
  const preprocessedDir = path.join(root, 'preprocessed', TINY_DATASET);
  const folder = path.join(preprocessedDir, 'nnUNetPlans_3d_fullres');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(preprocessedDir, 'nnUNetPlans.json'), JSON.stringify(tinyPlansV2(), null, 2));
  fs.writeFileSync(path.join(preprocessedDir, 'dataset.json'), JSON.stringify({
    channel_names: { 0: 'MRI' }, ...LABELS[kind], numTraining: 5, file_ending: '.nii.gz', name: TINY_DATASET,
  }));
  const gtFolder = path.join(preprocessedDir, 'gt_segmentations');
  fs.mkdirSync(gtFolder, { recursive: true });
  const rng = new MT19937(7);
  for (let c = 0; c < 5; c++) writeCase(folder, gtFolder, `case_${c}`, rng, kind);
  return { root, preprocessedDir, resultsRoot: path.join(root, 'results'), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Adds a 2d configuration (patch 16×16, batch 4, batch_dice, Conv2d network) over a copy of the same cases. */
export function add2dConfiguration(d: TinyV2): void {
  const plansFile = path.join(d.preprocessedDir, 'nnUNetPlans.json');
  const plans = JSON.parse(fs.readFileSync(plansFile, 'utf8')) as { configurations: Record<string, { architecture: { arch_kwargs: Record<string, unknown> } }> };
  const c = structuredClone(plans.configurations['3d_fullres']!);
  Object.assign(c, { data_identifier: 'nnUNetPlans_2d', patch_size: [16, 16], batch_size: 4, batch_dice: true, spacing: [1, 1] });
  Object.assign(c.architecture.arch_kwargs, {
    conv_op: 'torch.nn.modules.conv.Conv2d', norm_op: 'torch.nn.modules.instancenorm.InstanceNorm2d',
    kernel_sizes: [[3, 3], [3, 3], [3, 3]], strides: [[1, 1], [2, 2], [2, 2]],
  });
  plans.configurations['2d'] = c;
  fs.writeFileSync(plansFile, JSON.stringify(plans, null, 2));
  fs.cpSync(path.join(d.preprocessedDir, 'nnUNetPlans_3d_fullres'), path.join(d.preprocessedDir, 'nnUNetPlans_2d'), { recursive: true });
}

/**
 * Adds nnU-Net v2's cascade to the tiny dataset: 3d_lowres (spacing 2, the cases subsampled to 6×10×10, patch
 * 4×8×8, next_stage 3d_cascade_fullres) and 3d_cascade_fullres (inherits 3d_fullres, previous_stage 3d_lowres),
 * as ExperimentPlanner writes them when the lowres stage is worth it.
 */
export function addCascadeConfigurations(d: TinyV2): void {
  const plansFile = path.join(d.preprocessedDir, 'nnUNetPlans.json');
  const plans = JSON.parse(fs.readFileSync(plansFile, 'utf8')) as { configurations: Record<string, Record<string, unknown>> };
  const low = structuredClone(plans.configurations['3d_fullres']!);
  Object.assign(low, { data_identifier: 'nnUNetPlans_3d_lowres', spacing: [2, 2, 2], patch_size: [4, 8, 8], median_image_size_in_voxels: [6, 10, 10], next_stage: '3d_cascade_fullres' });
  plans.configurations['3d_lowres'] = low;
  plans.configurations['3d_cascade_fullres'] = { inherits_from: '3d_fullres', previous_stage: '3d_lowres' };
  fs.writeFileSync(plansFile, JSON.stringify(plans, null, 2));
  const full = path.join(d.preprocessedDir, 'nnUNetPlans_3d_fullres');
  const lowFolder = path.join(d.preprocessedDir, 'nnUNetPlans_3d_lowres');
  fs.mkdirSync(lowFolder, { recursive: true });
  const [Z, Y, X] = SHAPE;
  const small = [Z / 2, Y / 2, X / 2] as const;
  const every2nd = <T extends Float32Array | Int8Array>(src: T, out: T): T => {
    for (let z = 0; z < small[0]; z++) for (let y = 0; y < small[1]; y++) for (let x = 0; x < small[2]; x++) {
      out[(z * small[1] + y) * small[2] + x] = src[(2 * z * Y + 2 * y) * X + 2 * x]!;
    }
    return out;
  };
  for (const f of fs.readdirSync(full).filter((n) => n.endsWith('.npz'))) {
    const id = f.slice(0, -4);
    const arrays = readNpz(path.join(full, f));
    const n = small[0] * small[1] * small[2];
    const data = every2nd(arrays.data!.data as Float32Array, new Float32Array(n));
    const seg = every2nd(arrays.seg!.data as Int8Array, new Int8Array(n));
    writeNpz(path.join(lowFolder, f), { data: { data, shape: [1, ...small], dtype: 'float32' }, seg: { data: seg, shape: [1, ...small], dtype: 'int8' } });
    const props = JSON.parse(fs.readFileSync(path.join(full, `${id}.json`), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(lowFolder, `${id}.json`), JSON.stringify({ ...props, class_locations: sampleClassLocationsV2(seg, [...small], [1]) }));
  }
}

/** nnUNet_raw-style inputs of the tiny cases: <root>/raw_inputs/<case>_0000.nii.gz (the fullres data, spacing 1). */
export function tinyRawInputs(d: TinyV2): string {
  const dir = path.join(d.root, 'raw_inputs');
  fs.mkdirSync(dir, { recursive: true });
  const full = path.join(d.preprocessedDir, 'nnUNetPlans_3d_fullres');
  for (const f of fs.readdirSync(full).filter((n) => n.endsWith('.npz'))) {
    const data = readNpz(path.join(full, f)).data!.data as Float32Array;
    writeNiftiSync(path.join(dir, `${f.slice(0, -4)}_0000.nii.gz`), { data, shape: [...SHAPE], dtype: 'float32', geometry: GEOMETRY });
  }
  return dir;
}
