/**
 * The other way: a model trained here (the demo task, 3d_fullres shrunk to base 4 features and a 16³ patch, one
 * epoch of two iterations) exported with export-nnunet. Without Python: the files nnU-Net needs are there, the
 * .model.pkl says what nnU-Net's restore_model reads, and our predict on the exported folder gives our own answer.
 * With /usr/bin/python3 + torch + nnU-Net v1: nnU-Net's predict_from_folder on the exported folder gives our
 * segmentation (identical except at exact ties); skipped with the reason otherwise.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TaskPaths } from '../../activities/contract';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { exportNnunetModel } from '../../activities/inference/export-nnunet';
import { predictTask } from '../../activities/inference/predict-task';
import { toCroppedOriginal } from '../../activities/inference/export';
import { resolveModelConfiguration } from '../../activities/inference/model-configuration';
import { loadModel } from '../../activities/inference/network-predictor';
import { predictPreprocessedCase } from '../../activities/inference/predict-case';
import { readNpzArray } from '../../activities/io/npz';
import { preprocessTestCaseFor } from '../../activities/preprocessing/test-case';
import { taskPaths } from '../../activities/io/dataset';
import { writeDemoDataset } from '../../activities/io/demo';
import { modelFolder, networkTrainingOutputFolder } from '../../activities/io/layout';
import { readNiftiSync } from '../../activities/io/nifti';
import { readModelPkl } from '../../activities/io/nnunet-pickles';
import { readTorchCheckpoint } from '../../activities/io/torch-checkpoint';
import { extractZipEntry, listZip } from '../../activities/io/zip-archive';
import { runCli } from '../client/cli-helpers';
import { plan } from '../../activities/planning/activity';
import { readPlansFile, writePlansFile } from '../../activities/planning/plans-file';
import { stages } from '../../activities/planning/plans';
import { runPreprocess } from '../../activities/preprocessing/preprocess';
import { runTrainingFold } from '../../activities/training/train-fold';
import { pythonLacks, runPython } from '../io/python-check';

const TRAINER = 'nnUNetTrainerV2';
const PLANS = 'nnUNetPlansv2.1';
let root: string;
let paths: TaskPaths;
let testImages: string;
let exportRoot: string;
let ours: string;
let roots: { rawDataBase: string; preprocessed: string; results: string };

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-export-'));
  roots = { rawDataBase: path.join(root, 'raw'), preprocessed: path.join(root, 'preprocessed'), results: path.join(root, 'results') };
  const demo = await writeDemoDataset(roots.rawDataBase, { taskId: 992, cases: 4, testCases: 2, seed: 9 });
  paths = taskPaths(demo.outDir, roots);
  testImages = path.join(demo.outDir, 'imagesTs');
  const fp = await runFingerprint(paths, { numProcesses: 1 });
  const plansFile = (await plan({ paths, fingerprintFile: fp.fingerprintFile })).plansFiles['3d']!;
  const plans = readPlansFile(plansFile);
  const full = stages(plans).at(-1)!;
  plans.plans_per_stage = { 0: { ...full, patch_size: [16, 16, 16], num_pool_per_axis: [2, 2, 2], pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]] } };
  plans.num_stages = 1;
  plans.base_num_features = 4;
  writePlansFile(plansFile, plans);
  await runPreprocess(paths, plansFile, '3d_fullres', { numProcesses: 1 });
  const ids = fs.readdirSync(path.join(paths.preprocessedDir, `${plans.data_identifier}_stage0`)).filter((f) => f.endsWith('.npy')).map((f) => f.slice(0, -4)).sort();
  fs.writeFileSync(path.join(paths.preprocessedDir, 'splits_final.json'), JSON.stringify([{ train: ids.slice(1), val: ids.slice(0, 1) }]));
  const r = await runTrainingFold({
    paths, plansFile, plansIdentifier: PLANS, configuration: '3d_fullres', fold: 0, trainer: TRAINER, epochs: 1, iterationsPerEpoch: 2,
    runtime: { seed: 3, validationTta: false, numWorkers: 1, validationIterations: 1 },
  });
  assert.equal(r.status, 'done');
  exportRoot = path.join(root, 'exported');
  exportNnunetModel({ paths, configuration: '3d_fullres', trainer: TRAINER, plansIdentifier: PLANS, outputRoot: exportRoot });
  ours = path.join(root, 'ours');
  await predictTask({ paths, inputDir: testImages, outputDir: ours, configuration: '3d_fullres', trainer: TRAINER, plansIdentifier: PLANS, tta: false });
});
after(() => { if (root) fs.rmSync(root, { recursive: true, force: true }); });

const exportedModel = () => modelFolder({ ...paths, resultsDir: networkTrainingOutputFolder(exportRoot) }, '3d_fullres', TRAINER, PLANS);
const caseIds = () => fs.readdirSync(ours).filter((f) => f.endsWith('.nii.gz')).map((f) => f.slice(0, -7)).sort();

test('export-nnunet writes the files nnU-Net v1 loads: plans.pkl, a torch checkpoint with Generic_UNet layouts, the .model.pkl', () => {
  const dir = exportedModel();
  assert.ok(fs.existsSync(path.join(dir, 'plans.pkl')));
  const ckpt = readTorchCheckpoint(path.join(dir, 'fold_0', 'model_final_checkpoint.model'));
  assert.deepEqual(ckpt.stateDict.get('conv_blocks_context.0.blocks.0.conv.weight')!.shape, [4, 2, 3, 3, 3], 'torch [out, in, kz, ky, kx]');
  assert.deepEqual(ckpt.stateDict.get('tu.0.weight')!.shape, [16, 8, 2, 2, 2], 'ConvTranspose [in, out, kz, ky, kx]');
  assert.deepEqual(ckpt.stateDict.get('seg_outputs.1.weight')!.shape, [3, 4, 1, 1, 1]);
  assert.equal(ckpt.meta.epoch, 1);
  assert.equal((ckpt.meta.plot_stuff as unknown[][])[0]!.length, 1, 'epoch = len(all_tr_losses), as nnU-Net checks');
  const info = readModelPkl(path.join(dir, 'fold_0', 'model_final_checkpoint.model.pkl'));
  assert.equal(info.name, TRAINER);
  assert.equal(info.init[1], 0, 'fold');
  assert.equal(info.init[5], 0, 'stage');
  assert.equal(info.plans.base_num_features, 4);
  assert.equal(info.plans.planner_name, undefined, 'our own plans fields stay out');
});

test('our predict on the exported folder gives the same segmentation as on our own', async () => {
  const out = path.join(root, 'ours-from-export');
  const exportedPaths = { ...paths, resultsDir: networkTrainingOutputFolder(exportRoot) };
  await predictTask({ paths: exportedPaths, inputDir: testImages, outputDir: out, configuration: '3d_fullres', trainer: TRAINER, plansIdentifier: PLANS, tta: false });
  for (const id of caseIds()) {
    assert.deepEqual(readNiftiSync(path.join(out, `${id}.nii.gz`)).data, readNiftiSync(path.join(ours, `${id}.nii.gz`)).data, id);
  }
});

test('nnUNet_export_model_to_zip on a model trained here packs the nnU-Net-format checkpoint, not ours', () => {
  const zip = path.join(root, 'Task992.zip');
  const env = { nnUNet_raw_data_base: roots.rawDataBase, nnUNet_preprocessed: roots.preprocessed, RESULTS_FOLDER: roots.results };
  const r = runCli(['pretrained', 'export', '-t', '992', '-o', zip, '-m', '3d_fullres', '-f', '0', '--disable-strict'], { env });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /nnU-Net v1 cannot/, 'no warning that nnU-Net cannot load it');
  const entries = listZip(zip);
  const member = (suffix: string) => entries.find((e) => e.name.endsWith(suffix));
  const model = member('fold_0/model_final_checkpoint.model');
  assert.ok(model && member('fold_0/model_final_checkpoint.model.pkl') && member(`${TRAINER}__${PLANS}/plans.pkl`), entries.map((e) => e.name).join(', '));
  const unpacked = path.join(root, 'unzipped.model');
  extractZipEntry(zip, model, unpacked);
  const packed = readTorchCheckpoint(unpacked).stateDict;
  const exported = readTorchCheckpoint(path.join(exportedModel(), 'fold_0', 'model_final_checkpoint.model')).stateDict;
  assert.deepEqual([...packed.keys()], [...exported.keys()]);
  for (const [name, t] of exported) assert.deepEqual(packed.get(name)!.data, t.data, name);
  assert.equal(fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('nnunet-export-') && !root.endsWith(d)).some((d) => fs.existsSync(path.join(os.tmpdir(), d, 'nnUNet'))), false, 'staging folder removed');
});

const lacks = pythonLacks(['torch', 'nnunet.inference.predict']);
test('nnU-Net v1 predicts with the exported model and gives our softmax and segmentation', { skip: lacks }, async () => {
  const out = path.join(root, 'nnunet-pred');
  const script = `
import os, sys
os.environ['RESULTS_FOLDER'] = sys.argv[1]
import torch
torch.set_num_threads(1)
from nnunet.inference.predict import predict_from_folder
predict_from_folder(sys.argv[2], sys.argv[3], sys.argv[4], [0], True, 1, 1, None, 0, 1, False,
                    overwrite_existing=True, mode='normal', overwrite_all_in_gpu=None, mixed_precision=False,
                    step_size=0.5, checkpoint_name='model_final_checkpoint')
`;
  runPython(script, [exportRoot, exportedModel(), testImages, out]);
  for (const id of caseIds()) {
    const a = readNiftiSync(path.join(ours, `${id}.nii.gz`));
    const b = readNiftiSync(path.join(out, `${id}.nii.gz`));
    assert.deepEqual(a.shape, b.shape, id);
    let differing = 0;
    for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) differing++;
    const labels = new Set(Array.from(a.data)).size;
    console.log(`${id}: ${differing} of ${a.data.length} voxels differ from nnU-Net's (${labels} labels present)`);
    assert.equal(differing, 0, `${id}: ${differing} voxels differ from nnU-Net's segmentation`);
  }
  // nnU-Net's softmax (float16 on the cropped grid) against ours on the same grid.
  const rc = resolveModelConfiguration({ paths, modelDir: modelFolder(paths, '3d_fullres', TRAINER, PLANS), configuration: '3d_fullres', plansIdentifier: PLANS, folds: [0], checkpoint: 'model_final_checkpoint' });
  const model = loadModel(modelFolder(paths, '3d_fullres', TRAINER, PLANS), rc, [0], 'model_final_checkpoint', false);
  try {
    for (const id of caseIds()) {
      const pre = await preprocessTestCaseFor(fs.readdirSync(testImages).filter((f) => f.startsWith(`${id}_`)).sort().map((f) => path.join(testImages, f)), rc);
      const { grid } = await predictPreprocessedCase(pre, model);
      const mine = toCroppedOriginal(grid, rc.plans.transpose_backward, pre.properties);
      const theirs = readNpzArray(path.join(out, `${id}.npz`), 'softmax');
      assert.deepEqual([mine.numClasses, ...mine.shape], theirs.shape, id);
      let worst = 0;
      for (let i = 0; i < mine.data.length; i++) worst = Math.max(worst, Math.abs(mine.data[i]! - Number(theirs.data[i])));
      console.log(`${id}: largest softmax difference ${worst.toExponential(2)} (nnU-Net stores float16)`);
      assert.ok(worst < 1e-3, `${id}: softmax differs by ${worst}`);
    }
  } finally {
    model.dispose();
  }
});
