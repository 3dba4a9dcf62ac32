/**
 * Raw image -> prediction NIfTI with a known-function patch predictor (p(fg) = sigmoid(4 x) of the normalized
 * intensity, voxel by voxel), so the expected label map is known: the predicted file must carry the image's
 * geometry and shape, be 0 outside the crop box, and equal the thresholded image (exactly without resampling,
 * nearly with it). Exercises crop, a non-trivial transpose, resampling, sliding window with several tiles,
 * fold averaging, uncropping and the .npz / .json outputs.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readNifti, writeNifti } from '../../activities/io/nifti';
import type { Geometry } from '../../activities/io/geometry';
import type { Plans } from '../../activities/planning/plans';
import { predictCase, type CaseModel, type PatchPredictor } from '../../activities/inference/predict-case';
import { resolveConfiguration } from '../../activities/planning/configuration';
import { listInputCases, predictFolder } from '../../activities/inference/predict-folder';
import { readSoftmax } from '../../activities/inference/write-prediction';

const SHAPE = [10, 12, 14] as const;
const GEOMETRY: Geometry = { spacing: [0.8, 0.9, 2], origin: [10, -5, 3], direction: [0, 1, 0, -1, 0, 0, 0, 0, 1] };

/** Zero border (so cropping removes voxels); inside, 10 with a bright block of 100 (the "organ"). */
function makeImage(): { image: Float32Array; organ: Uint8Array } {
  const [nz, ny, nx] = SHAPE;
  const image = new Float32Array(nz * ny * nx);
  const organ = new Uint8Array(image.length);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = (z * ny + y) * nx + x;
    const inside = z >= 1 && z < 9 && y >= 2 && y < 11 && x >= 1 && x < 12;
    if (!inside) continue;
    const bright = z >= 3 && z < 7 && y >= 4 && y < 9 && x >= 3 && x < 10;
    image[i] = bright ? 100 : 10;
    organ[i] = bright ? 1 : 0;
  }
  return { image, organ };
}

/** A 3D plan: transpose (y, x, z) first; `targetSpacing` in that transposed order. */
function plansFor(targetSpacing: number[], patch: number[]): Plans {
  const stage = { patch_size: patch, current_spacing: targetSpacing, pool_op_kernel_sizes: [], conv_kernel_sizes: [] };
  return {
    plans_kind: '3d', num_stages: 1, num_modalities: 1, num_classes: 1, modalities: { '0': 'MR' },
    normalization_schemes: { '0': 'nonCT' }, use_mask_for_norm: { '0': false }, transpose_forward: [1, 2, 0], transpose_backward: [2, 0, 1],
    data_identifier: 'nnUNetData_plans_v2.1', plans_per_stage: { '0': stage }, dataset_properties: { intensityproperties: null },
  } as unknown as Plans;
}

/** Softmax of [0, 4x] per voxel: background 1 - s, foreground s. */
const knownFunction: PatchPredictor = (patch) => {
  const out = new Float32Array(2 * patch.length);
  for (let i = 0; i < patch.length; i++) {
    const s = 1 / (1 + Math.exp(-4 * patch[i]));
    out[i] = 1 - s;
    out[patch.length + i] = s;
  }
  return out;
};

async function writeCase(dir: string, id = 'case1'): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${id}_0000.nii.gz`);
  await writeNifti(file, { data: makeImage().image, shape: [...SHAPE], dtype: 'float32', geometry: GEOMETRY });
  return file;
}

const inCropBox = (z: number, y: number, x: number) => z >= 1 && z < 9 && y >= 2 && y < 11 && x >= 1 && x < 12;

test('prediction NIfTI has the raw geometry and equals the known function exactly (crop + transpose, no resampling)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-case-'));
  const file = await writeCase(path.join(dir, 'in'));
  // original spacing in transposed order (y, x, z) = (0.9, 0.8, 2): no resampling; patch smaller than the image
  const model: CaseModel = { resolved: resolveConfiguration(plansFor([0.9, 0.8, 2], [4, 6, 4]), 'plans', '3d_fullres'), folds: [knownFunction, knownFunction] };
  const r = await predictFolder({ inputDir: path.join(dir, 'in'), outputDir: path.join(dir, 'out'), model, saveNpz: true });
  assert.deepEqual(r.predicted, ['case1']);
  const out = await readNifti(path.join(dir, 'out', 'case1.nii.gz'));
  const raw = await readNifti(file);
  assert.equal(out.dtype, 'uint8');
  assert.deepEqual(out.shape, raw.shape);
  assert.deepEqual(out.geometry, raw.geometry);
  assert.deepEqual(Array.from(out.data), Array.from(makeImage().organ));

  const { probabilities, properties } = readSoftmax(path.join(dir, 'out'), 'case1');
  assert.deepEqual(properties.crop_bbox, [[1, 9], [2, 11], [1, 12]]);
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  assert.equal(probabilities.data.length, 2 * n);
  assert.equal(probabilities.data[0], 1, 'background probability 1 outside the crop box');
  assert.equal(probabilities.data[n], 0);
  // the .npz holds float16 (as nnU-Net stores it): each value within half a float16 step (2^-12 near 1)
  for (let i = 0; i < n; i++) assert.ok(Math.abs(probabilities.data[i] + probabilities.data[n + i] - 1) < 1e-3);

  const again = await predictFolder({ inputDir: path.join(dir, 'in'), outputDir: path.join(dir, 'out'), model, saveNpz: true });
  assert.deepEqual(again.skipped, ['case1'], 'finished cases are skipped');
});

test('with resampling the label map keeps the raw grid and matches the organ', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-case-'));
  const file = await writeCase(dir);
  const model: CaseModel = { resolved: resolveConfiguration(plansFor([1.5, 1.3, 2.5], [4, 4, 4]), 'plans', '3d_fullres'), folds: [knownFunction] };
  const pred = await predictCase([file], model);
  assert.deepEqual(pred.properties.size_after_resampling, [5, 7, 6], 'resampled (cropped 8x9x11, transposed 9x11x8, coarser spacing)');
  const organ = makeImage().organ;
  const [nz, ny, nx] = SHAPE;
  let tp = 0, fp = 0, fn = 0;
  const centroid = [0, 0, 0];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = (z * ny + y) * nx + x;
    if (!inCropBox(z, y, x)) assert.equal(pred.segmentation[i], 0);
    if (pred.segmentation[i]) [z, y, x].forEach((v, a) => { centroid[a] += v; });
    if (pred.segmentation[i] && organ[i]) tp++;
    else if (pred.segmentation[i]) fp++;
    else if (organ[i]) fn++;
  }
  // a 4x5x7 block through a ~2x coarser grid and back blurs its border (symmetrically), it must not move
  const dice = (2 * tp) / (2 * tp + fp + fn);
  assert.ok(dice > 0.7, `Dice ${dice}`);
  const count = tp + fp;
  [4.5, 6, 6].forEach((c, a) => assert.ok(Math.abs(centroid[a] / count - c) < 0.25, `centroid axis ${a}: ${centroid[a] / count} vs ${c}`));
});

test('2D configuration predicts slice by slice with a 2D patch', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-case-'));
  const file = await writeCase(dir);
  const plans = { ...plansFor([0.9, 0.8, 2], [6, 4]), plans_kind: '2d', data_identifier: 'nnUNetData_plans_v2.1_2D' } as Plans;
  let calls = 0;
  const counting: PatchPredictor = (patch, start) => {
    calls++;
    assert.equal(start.length, 2);
    return knownFunction(patch, start);
  };
  const pred = await predictCase([file], { resolved: resolveConfiguration(plans, 'plans', '2d'), folds: [counting] });
  assert.deepEqual(Array.from(pred.segmentation), Array.from(makeImage().organ));
  assert.ok(calls >= 9, `one window per tile and slice (${calls})`);
});

test('an input folder with a missing modality is refused, naming the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-case-'));
  await writeCase(dir, 'a');
  fs.writeFileSync(path.join(dir, 'b_0001.nii.gz'), 'garbage');
  await assert.rejects(listInputCases(dir, 2), (err: Error) => {
    assert.match(err.message, /case a: missing a_0001\.nii\.gz/);
    assert.match(err.message, /case b: missing b_0000\.nii\.gz/);
    assert.match(err.message, /b_0001\.nii\.gz: not a NIfTI file/);
    return true;
  });
  fs.rmSync(path.join(dir, 'b_0001.nii.gz'));
  assert.deepEqual((await listInputCases(dir, 1)).map((c) => c.id), ['a']);
});
