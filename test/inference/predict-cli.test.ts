/**
 * `nnunet predict` as a user runs it (in-process commander, env-configured folders): an input folder with a missing
 * modality is refused before anything is written (exit code 1), a bad configuration is a usage error (2), and a
 * tiny real U-Net checkpoint in the results tree predicts the folder end to end, applying postprocessing.json.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { register } from '../../client/commands/predict';
import { buildUNet } from '../../activities/network/unet';
import { writeCheckpoint } from '../../activities/training/checkpoint';
import { writeNifti, readNifti } from '../../activities/io/nifti';
import { writePostprocessingJson } from '../../activities/postprocessing/rules';
import { readSoftmax } from '../../activities/inference/write-prediction';
import { labelComponents, membership } from '../../activities/volume/connected-components';

before(async () => {
  await tf.setBackend('cpu');
});

const TASK = 'Task099_Toy';
const stage = { patch_size: [4, 8, 8], current_spacing: [2, 1, 1], pool_op_kernel_sizes: [[1, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3]] };

function setup(): { root: string; input: string; modelDir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-cli-'));
  const raw = path.join(root, 'raw', 'nnUNet_raw_data', TASK);
  fs.mkdirSync(raw, { recursive: true });
  fs.writeFileSync(path.join(raw, 'dataset.json'), JSON.stringify({
    name: 'Toy', modality: { '0': 'MR', '1': 'MR' }, labels: { '0': 'background', '1': 'organ' }, numTraining: 0, training: [], test: [],
  }));
  const pp = path.join(root, 'pp', TASK);
  fs.mkdirSync(pp, { recursive: true });
  fs.writeFileSync(path.join(pp, 'nnUNetPlansv2.1_plans_3D.json'), JSON.stringify({
    plans_kind: '3d', num_stages: 1, num_modalities: 2, num_classes: 1, base_num_features: 4, unet_max_num_features: 320,
    normalization_schemes: { '0': 'nonCT', '1': 'nonCT' }, use_mask_for_norm: { '0': false, '1': false },
    transpose_forward: [0, 1, 2], transpose_backward: [0, 1, 2], data_identifier: 'nnUNetData_plans_v2.1', plans_per_stage: { '0': stage },
    dataset_properties: { intensityproperties: null },
  }));
  process.env.nnUNet_raw_data_base = path.join(root, 'raw');
  process.env.nnUNet_preprocessed = path.join(root, 'pp');
  process.env.RESULTS_FOLDER = path.join(root, 'results');
  const modelDir = path.join(root, 'results', 'nnUNet', '3d_fullres', TASK, 'nnUNetTrainerV2__nnUNetPlansv2.1');
  return { root, input: path.join(root, 'in'), modelDir };
}

async function writeImage(file: string, seed: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const data = Float32Array.from({ length: 5 * 9 * 10 }, (_, i) => ((i * 7919 + seed) % 101) / 10);
  await writeNifti(file, { data, shape: [5, 9, 10], dtype: 'float32', geometry: { spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] } });
}

/** Runs `nnunet <args>` in-process; returns the exit code cli.ts would use and the error message. */
async function nnunet(args: string[]): Promise<{ code: number; message: string }> {
  const program = new Command('nnunet').option('--config <file>').exitOverride();
  register(program);
  try {
    await program.parseAsync(['node', 'nnunet', ...args]);
    return { code: 0, message: '' };
  } catch (err) {
    const e = err as { exitCode?: number; message: string };
    return { code: typeof e.exitCode === 'number' ? e.exitCode : 1, message: e.message };
  }
}

test('a missing modality is refused before anything is written (exit 1); a bad configuration is exit 2', async () => {
  const { root, input } = setup();
  await writeImage(path.join(input, 'a_0000.nii.gz'), 1);
  const out = path.join(root, 'out');
  const r = await nnunet(['predict', '-i', input, '-o', out, '-t', TASK, '-m', '3d_fullres', '--backend', 'cpu']);
  assert.equal(r.code, 1);
  assert.match(r.message, /case a: missing a_0001\.nii\.gz \(the model takes 2 modalities\)/);
  assert.equal(fs.existsSync(out), false, 'nothing written');
  const u = await nnunet(['predict', '-i', input, '-o', out, '-t', TASK, '-m', '4d']);
  assert.equal(u.code, 2);
  assert.match(u.message, /unknown configuration "4d"/);
});

test('nnunet predict with a real (untrained) checkpoint writes every case with postprocessing applied', async () => {
  const { root, input, modelDir } = setup();
  for (const id of ['a', 'b']) for (const c of [0, 1]) await writeImage(path.join(input, `${id}_000${c}.nii.gz`), c * 13 + id.length);
  const net = buildUNet(stage, { inChannels: 2, numClasses: 2, baseFeatures: 4, seed: 3 });
  for (const fold of [0, 1]) {
    writeCheckpoint(path.join(modelDir, `fold_${fold}`, 'model_final_checkpoint.model'), {
      meta: { trainer: 'nnUNetTrainerV2', epoch: 0, info: {} } as never,
      weights: net.getWeights(), weightNames: net.architecture.params.map((p) => p.name), weightShapes: net.architecture.params.map((p) => p.shape), momentum: [],
    });
  }
  net.dispose();
  writePostprocessingJson(path.join(modelDir, 'postprocessing.json'), {
    dc_per_class_pp_all: {}, dc_per_class_pp_per_class: {}, dc_per_class_raw: {}, for_which_classes: [1],
    min_valid_object_sizes: 'None', num_samples: 2, validation_final: 'f', validation_raw: 'r',
  });
  const out = path.join(root, 'out');
  const errLines: string[] = [];
  const consoleError = console.error;
  console.error = (...a: unknown[]) => { errLines.push(a.join(' ')); };
  const r = await nnunet(['predict', '-i', input, '-o', out, '-t', TASK, '-m', '3d_fullres', '--save-npz', '--disable-tta', '--backend', 'cpu'])
    .finally(() => { console.error = consoleError; });
  assert.equal(r.code, 0, r.message);
  if (!process.stderr.isTTY) {
    assert.deepEqual(errLines.filter((l) => l.includes('cases (')), ['3d_fullres: 1/2 cases (a)', '3d_fullres: 2/2 cases (b)'], 'a progress line per case without a terminal');
  }
  assert.deepEqual(fs.readdirSync(out).sort(), ['a.json', 'a.nii.gz', 'a.npz', 'a.pkl', 'b.json', 'b.nii.gz', 'b.npz', 'b.pkl', 'postprocessing.json']);
  const seg = await readNifti(path.join(out, 'a.nii.gz'));
  assert.deepEqual(seg.shape, [5, 9, 10]);
  assert.equal(seg.dtype, 'uint8');
  for (const id of ['a', 'b']) {
    const v = await readNifti(path.join(out, `${id}.nii.gz`));
    const { probabilities } = readSoftmax(out, id);
    const raw = Uint8Array.from({ length: 450 }, (_, i) => (probabilities.data[450 + i] > probabilities.data[i] ? 1 : 0));
    const before = labelComponents(raw, [5, 9, 10], membership([1]));
    const after = labelComponents(v.data as Uint8Array, [5, 9, 10], membership([1]));
    const largest = Math.max(0, ...before.sizes);
    assert.ok(after.sizes.slice(1).every((s) => s === largest), `only the largest of ${before.count} components survives`);
  }
});
