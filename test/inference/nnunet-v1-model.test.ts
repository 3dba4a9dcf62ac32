/**
 * Same weights, same answer: nnU-Net v1 models (2d and 3d_fullres, folds 0 and 1, made and predicted by nnU-Net's
 * own code: scripts/parity/make_nnunet_v1_model.py) predicted here from their untouched model folders. The
 * softmax on the cropped grid must match nnU-Net's within 1e-4 and the label maps must be identical except where
 * the two best classes tie, TTA on and off. No Python needed: nnU-Net's outputs are committed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Configuration } from '../../activities/contract';
import { BadInputError } from '../../activities/common/errors';
import { toCroppedOriginal } from '../../activities/inference/export';
import { resolveModelConfiguration } from '../../activities/inference/model-configuration';
import { loadModel } from '../../activities/inference/network-predictor';
import { predictPreprocessedCase } from '../../activities/inference/predict-case';
import { predictTask } from '../../activities/inference/predict-task';
import { taskPaths } from '../../activities/io/dataset';
import { modelFolder } from '../../activities/io/layout';
import { readNiftiSync } from '../../activities/io/nifti';
import { readNpzArray } from '../../activities/io/npz';
import { readModelPkl } from '../../activities/io/nnunet-pickles';
import { readTorchCheckpoint } from '../../activities/io/torch-checkpoint';
import { preprocessTestCaseFor } from '../../activities/preprocessing/test-case';

const FIXTURE = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'nnunet-v1-model');
const TASK = 'Task901_V1Tiny';
const TRAINER = 'nnUNetTrainerV2';
const PLANS = 'nnUNetPlansv2.1';
const CASES = ['test_000', 'test_001'];
const CONFIGURATIONS: Configuration[] = ['2d', '3d_fullres'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v1-model-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const paths = taskPaths(path.join(tmp, 'raw', 'nnUNet_raw_data', TASK), {
  rawDataBase: path.join(tmp, 'raw'), preprocessed: path.join(tmp, 'preprocessed'), results: path.join(FIXTURE, 'results'),
});
const imageOf = (id: string) => path.join(FIXTURE, 'imagesTs', `${id}_0000.nii.gz`);
const expectedDir = (cfg: Configuration, tta: boolean) => path.join(FIXTURE, 'expected', `${cfg}_${tta ? 'tta' : 'notta'}`);

function resolved(configuration: Configuration) {
  const modelDir = modelFolder(paths, configuration, TRAINER, PLANS);
  return { modelDir, rc: resolveModelConfiguration({ paths, modelDir, configuration, plansIdentifier: PLANS, folds: [0, 1], checkpoint: 'model_final_checkpoint' }) };
}

for (const configuration of CONFIGURATIONS) {
  for (const tta of [true, false]) {
    test(`${configuration}, TTA ${tta ? 'on' : 'off'}: nnU-Net's softmax within 1e-4 on the cropped grid`, async (t) => {
      const { modelDir, rc } = resolved(configuration);
      const model = loadModel(modelDir, rc, [0, 1], 'model_final_checkpoint', tta);
      try {
        for (const id of CASES) {
          const pre = await preprocessTestCaseFor([imageOf(id)], rc);
          const { grid } = await predictPreprocessedCase(pre, model);
          const ours = toCroppedOriginal(grid, rc.plans.transpose_backward, pre.properties);
          const theirs = readNpzArray(path.join(expectedDir(configuration, tta), `${id}.npz`), 'softmax');
          assert.deepEqual([ours.numClasses, ...ours.shape], theirs.shape, `${id}: softmax shape`);
          let worst = 0;
          const expected = theirs.data as Float32Array;
          for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - expected[i]!));
          t.diagnostic(`${id}: largest softmax difference ${worst.toExponential(2)}`);
          assert.ok(worst <= 1e-4, `${id}: softmax differs from nnU-Net's by up to ${worst}`);
        }
      } finally {
        model.dispose();
      }
    });

    test(`${configuration}, TTA ${tta ? 'on' : 'off'}: nnUNet_predict on nnU-Net's model folder writes nnU-Net's label maps`, async () => {
      const out = path.join(tmp, `${configuration}-${tta}`);
      await predictTask({ paths, inputDir: path.join(FIXTURE, 'imagesTs'), outputDir: out, configuration, trainer: TRAINER, plansIdentifier: PLANS, tta });
      for (const id of CASES) {
        const ours = readNiftiSync(path.join(out, `${id}.nii.gz`));
        const theirs = readNiftiSync(path.join(expectedDir(configuration, tta), `${id}.nii.gz`));
        assert.deepEqual(ours.shape, theirs.shape);
        assert.deepEqual(ours.geometry.spacing, theirs.geometry.spacing);
        const softmax = readNpzArray(path.join(expectedDir(configuration, tta), `${id}.npz`), 'softmax');
        const differing = differingVoxelsThatAreNotTies(ours.data, theirs.data, softmax.data as Float32Array, softmax.shape);
        assert.equal(differing, 0, `${id}: ${differing} voxels differ where nnU-Net's two best classes do not tie`);
      }
    });
  }
}

/**
 * Voxels whose labels differ beyond what ties can explain: every difference must sit at a voxel where nnU-Net's
 * two best probabilities are within 1e-4 (counted on its cropped-grid softmax).
 */
function differingVoxelsThatAreNotTies(ours: ArrayLike<number>, theirs: ArrayLike<number>, softmax: Float32Array, shape: number[]): number {
  let differing = 0;
  for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differing++;
  if (differing === 0) return 0;
  const [K, ...crop] = shape as [number, number, number, number];
  const n = crop[0] * crop[1] * crop[2];
  let ties = 0;
  for (let v = 0; v < n; v++) {
    const p = Array.from({ length: K }, (_, k) => softmax[k * n + v]!).sort((a, b) => b - a);
    if (p[0]! - p[1]! <= 1e-4) ties++;
  }
  return Math.max(0, differing - ties);
}

test('a model folder of other plans is refused naming the parameter', () => {
  const { modelDir, rc } = resolved('3d_fullres');
  const other = { ...rc, plans: { ...rc.plans, base_num_features: 16 }, network: { ...rc.network, baseFeatures: 16 } };
  assert.throws(() => loadModel(modelDir, other, [0], 'model_final_checkpoint'), (err: Error) =>
    err instanceof BadInputError && /parameter conv_blocks_context\.0\.blocks\.0\.conv\.weight has shape \(8, 1, 1, 3, 3\), these plans' network needs \(16, 1, 1, 3, 3\)/.test(err.message));
});

test('-chk model_best: another checkpoint name of an nnU-Net model folder, its .model.pkl beside it', async () => {
  const results = path.join(tmp, 'results-best');
  const source = modelFolder(paths, '3d_fullres', TRAINER, PLANS);
  const bestPaths = { ...paths, resultsDir: path.join(results, 'nnUNet') };
  const target = modelFolder(bestPaths, '3d_fullres', TRAINER, PLANS);
  fs.cpSync(source, target, { recursive: true });
  for (const fold of ['fold_0', 'fold_1']) {
    for (const ext of ['.model', '.model.pkl']) fs.renameSync(path.join(target, fold, `model_final_checkpoint${ext}`), path.join(target, fold, `model_best${ext}`));
  }
  fs.rmSync(path.join(target, 'plans.pkl'));
  const out = path.join(tmp, 'best');
  await predictTask({ paths: bestPaths, inputDir: path.join(FIXTURE, 'imagesTs'), outputDir: out, configuration: '3d_fullres', trainer: TRAINER, plansIdentifier: PLANS, checkpoint: 'model_best', tta: false });
  for (const id of CASES) {
    assert.deepEqual(readNiftiSync(path.join(out, `${id}.nii.gz`)).data, readNiftiSync(path.join(expectedDir('3d_fullres', false), `${id}.nii.gz`)).data, id);
  }
});

test('-chk model_latest: the same 2d weights in torch\'s legacy (pre-1.6) format give the same softmax', async () => {
  const { modelDir, rc } = resolved('2d');
  const model = loadModel(modelDir, rc, [0, 1], 'model_latest', false);
  try {
    for (const id of CASES) {
      const pre = await preprocessTestCaseFor([imageOf(id)], rc);
      const ours = toCroppedOriginal((await predictPreprocessedCase(pre, model)).grid, rc.plans.transpose_backward, pre.properties);
      const theirs = readNpzArray(path.join(expectedDir('2d', false), `${id}.npz`), 'softmax').data as Float32Array;
      let worst = 0;
      for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - theirs[i]!));
      assert.ok(worst <= 1e-4, `${id}: softmax differs from nnU-Net's by up to ${worst}`);
    }
  } finally {
    model.dispose();
  }
});

test('nnunet export-nnunet on nnU-Net\'s own model folder gives back its state_dict, value for value', () => {
  const out = path.join(tmp, 'exported');
  const env = { ...process.env, RESULTS_FOLDER: path.join(FIXTURE, 'results'), nnUNet_raw_data_base: path.join(tmp, 'raw'), nnUNet_preprocessed: path.join(tmp, 'preprocessed') };
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'client', 'cli.js'), 'export-nnunet', '-t', '901', '-m', '3d_fullres', '-f', '0', '-o', out], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const relative = path.join('nnUNet', '3d_fullres', TASK, `${TRAINER}__${PLANS}`);
  const original = readTorchCheckpoint(path.join(FIXTURE, 'results', relative, 'fold_0', 'model_final_checkpoint.model')).stateDict;
  const exported = readTorchCheckpoint(path.join(out, relative, 'fold_0', 'model_final_checkpoint.model')).stateDict;
  assert.deepEqual([...exported.keys()].sort(), [...original.keys()].sort());
  for (const [name, t] of original) {
    assert.deepEqual(exported.get(name)!.shape, t.shape, name);
    assert.deepEqual(exported.get(name)!.data, t.data, name);
  }
  assert.ok(fs.existsSync(path.join(out, relative, 'plans.pkl')));
  assert.equal(readModelPkl(path.join(out, relative, 'fold_0', 'model_final_checkpoint.model.pkl')).init[5], 0, 'stage');
});
