/**
 * nnU-Net v2's pipeline commands in this process under v2's environment variables: the demo task converted to a
 * Dataset, nnUNetv2_plan_and_preprocess -c 3d_fullres (fingerprint, plans, DefaultPreprocessor, gt_segmentations);
 * nnUNetv2_predict_from_modelfolder on the nnunetv2-made fixture model folder and nnUNetv2_predict on the same
 * model installed in nnUNet_results predict its raw case as nnunetv2 did.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadConfig, repoRoot } from '../../config';
import { BadInputError } from '../../activities/common/errors';
import { writeDemoDataset } from '../../activities/io/demo';
import { readNiftiSync } from '../../activities/io/nifti';
import { readNpz } from '../../activities/io/npz';
import { runV2Alias } from '../../client/v2-aliases';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2pipe-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const env = {
  nnUNet_raw: path.join(tmp, 'nnUNet_raw'), nnUNet_preprocessed: path.join(tmp, 'nnUNet_preprocessed'), nnUNet_results: path.join(tmp, 'nnUNet_results'),
  NNUNET_BACKEND: 'cpu',
};
const config = loadConfig({ env });
const quiet = async (prog: string, argv: string[]): Promise<void> => {
  const [log, err] = [console.log, console.error];
  console.log = () => undefined;
  console.error = () => undefined;
  try {
    await runV2Alias(prog, argv, config);
  } finally {
    [console.log, console.error] = [log, err];
  }
};
const FIXTURE = path.join(repoRoot(), 'test', 'fixtures', 'nnunet-v2-model');
const MODEL = 'nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres';

before(async () => {
  await tf.setBackend('cpu');
});

test('the demo task: nnUNetv2_plan_and_preprocess -c 3d_fullres writes the fingerprint, plans, preprocessed cases and gt_segmentations', async () => {
  const demo = await writeDemoDataset(path.join(tmp, 'v1'), { taskId: 932, cases: 2, testCases: 0 });
  await quiet('nnUNetv2_convert_old_nnUNet_dataset', [demo.outDir, 'Dataset932_Demo']);
  await quiet('nnUNetv2_plan_and_preprocess', ['-d', '932', '-c', '3d_fullres', '-np', '1', '-npfp', '1']);
  const pre = path.join(env.nnUNet_preprocessed, 'Dataset932_Demo');
  const fingerprint = JSON.parse(fs.readFileSync(path.join(pre, 'dataset_fingerprint.json'), 'utf8')) as { spacings: unknown[] };
  assert.equal(fingerprint.spacings.length, 2);
  const plans = JSON.parse(fs.readFileSync(path.join(pre, 'nnUNetPlans.json'), 'utf8')) as { configurations: Record<string, { data_identifier?: string }> };
  assert.ok(plans.configurations['3d_fullres']);
  assert.ok(fs.existsSync(path.join(pre, 'dataset.json')), 'dataset.json copied beside the plans, as v2\'s planner does');
  const ids = fs.readdirSync(path.join(demo.outDir, 'labelsTr')).map((f) => f.replace(/\.nii\.gz$/, '')).sort();
  assert.deepEqual(fs.readdirSync(path.join(pre, 'nnUNetPlans_3d_fullres')).sort(), ids.flatMap((id) => [`${id}.json`, `${id}.npz`]).sort());
  assert.deepEqual(fs.readdirSync(path.join(pre, 'gt_segmentations')).sort(), ids.map((id) => `${id}.nii.gz`));
  const npz = readNpz(path.join(pre, 'nnUNetPlans_3d_fullres', `${ids[0]}.npz`));
  assert.equal(npz.data!.shape[0], 2, 'two channels');
  assert.equal(fs.existsSync(path.join(pre, 'nnUNetPlans_2d')), false, 'only the configurations given with -c');
  await assert.rejects(quiet('nnUNetv2_preprocess', ['-d', '932', '-c', '2d', '3d_fullres', '-np', '1', '2', '3']), /-np takes one number or one per configuration/);
});

function sameLabels(outDir: string): void {
  const ours = readNiftiSync(path.join(outDir, 'case_001.nii.gz'));
  const theirs = readNiftiSync(path.join(FIXTURE, 'predict', 'expected', MODEL, 'case_001.nii.gz'));
  assert.deepEqual(ours.geometry, theirs.geometry);
  assert.deepEqual([...ours.data], [...theirs.data]);
}

test('nnUNetv2_predict_from_modelfolder and nnUNetv2_predict predict a raw case as nnunetv2 does; missing folds are named', async () => {
  const raw = path.join(FIXTURE, 'predict', 'raw');
  const model = path.join(FIXTURE, 'Dataset999_V2Tiny', MODEL);
  const out1 = path.join(tmp, 'pred-modelfolder');
  await assert.rejects(quiet('nnUNetv2_predict_from_modelfolder', ['-i', raw, '-o', out1, '-m', model]),
    (e: unknown) => e instanceof BadInputError && /fold_1.*missing; pass -f .*default is 0 1 2 3 4/.test(e.message));
  await quiet('nnUNetv2_predict_from_modelfolder', ['-i', raw, '-o', out1, '-m', model, '-f', '0', '--save_probabilities', '-device', 'cpu']);
  sameLabels(out1);
  assert.deepEqual(fs.readdirSync(out1).sort(), ['case_001.nii.gz', 'case_001.npz', 'case_001.pkl', 'dataset.json', 'plans.json', 'predict_from_raw_data_args.json']);
  // --continue_prediction (--c) skips a finished case; with --save_probabilities a case without its .npz is not finished
  const seg = path.join(out1, 'case_001.nii.gz');
  const written = fs.statSync(seg).mtimeMs;
  const again = ['-i', raw, '-o', out1, '-m', model, '-f', '0', '--save_probabilities', '--c'];
  await quiet('nnUNetv2_predict_from_modelfolder', again);
  assert.equal(fs.statSync(seg).mtimeMs, written);
  fs.rmSync(path.join(out1, 'case_001.npz'));
  await quiet('nnUNetv2_predict_from_modelfolder', again);
  assert.ok(fs.existsSync(path.join(out1, 'case_001.npz')));

  const installed = path.join(env.nnUNet_results, 'Dataset999_V2Tiny', MODEL);
  fs.cpSync(model, installed, { recursive: true });
  const out2 = path.join(tmp, 'pred-results');
  await quiet('nnUNetv2_predict', ['-i', raw, '-o', out2, '-d', '999', '-p', 'nnUNetResEncUNetMPlans', '-c', '3d_fullres', '-f', '0']);
  sameLabels(out2);
  // -num_parts 2 -part_id 1: the second of every two cases; the one case here is part 0's
  const out3 = path.join(tmp, 'pred-part');
  await quiet('nnUNetv2_predict', ['-i', raw, '-o', out3, '-d', 'Dataset999_V2Tiny', '-p', 'nnUNetResEncUNetMPlans', '-c', '3d_fullres', '-f', '0', '-num_parts', '2', '-part_id', '1']);
  assert.equal(fs.existsSync(path.join(out3, 'case_001.nii.gz')), false);
});
