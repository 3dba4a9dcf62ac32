/**
 * `nnunet move-to-v2`: a v1 task trained with nnunet-ts (the demo, 2d fold 0, one epoch of one iteration) placed
 * into the v2 tree. The v2 model folder holds the v1 files (hard links), dataset.json, the v1 marker and
 * fold_0/validation; the raw and preprocessed v2 folders exist; the v1 tree is byte for byte what it was;
 * moving again is refused without --force. nnUNetv2_predict on the moved folder predicts with the v1 method and
 * writes what `nnunet predict` writes from the v1 tree; nnUNetv2_accumulate_crossval_results and
 * nnUNetv2_find_best_configuration (without ensembling) read the moved cross-validation, and the postprocessing
 * find_best prints runs on that prediction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readNifti } from '../../activities/io/nifti';
import { assertBuilt } from '../client/cli-helpers';
import { ok, run } from './audit-lines';

const ID = '949';
const TASK = `Task${ID}_Demo`;
const DATASET = `Dataset${ID}_Demo`;
const MODEL = 'nnUNetTrainerV2__nnUNetPlansv2.1';

/** Every file below `dir` with its sha256, for "nothing changed". */
function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

test('nnunet move-to-v2 places a v1 model into the v2 tree, where nnUNetv2_predict predicts it with the v1 method', { timeout: 900_000 }, async () => {
  assertBuilt();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-e2e-move-to-v2-'));
  const tmp = (name: string): string => path.join(root, name);
  const env = {
    nnUNet_raw_data_base: tmp('v1'), nnUNet_raw: tmp('raw'), nnUNet_preprocessed: tmp('pre'), nnUNet_results: tmp('res'),
    NNUNET_LOG_LEVEL: 'warn',
  };
  try {
    await ok(env, ['nnunet', 'demo-dataset', '-t', ID, '--cases', '5', '--test-cases', '1']);
    await ok(env, ['nnunet', 'plan-and-preprocess', '-t', ID]);
    await ok(env, ['nnunet', 'train', '2d', 'nnUNetTrainerV2', ID, '0', '--epochs', '1', '--iters', '1']);
    const v1Model = path.join(env.nnUNet_results, 'nnUNet', '2d', TASK, MODEL);
    const before = treeHashes(env.nnUNet_results);

    await ok(env, ['nnunet', 'move-to-v2', '-t', TASK]);
    const moved = path.join(env.nnUNet_results, DATASET, `${MODEL}__2d`);
    for (const f of ['dataset.json', 'nnunet_ts_v1_model.json', 'plans.json', 'fold_0/model_final_checkpoint.model', 'fold_0/validation']) {
      assert.ok(fs.existsSync(path.join(moved, f)), f);
    }
    const checkpoint = path.join(v1Model, 'fold_0', 'model_final_checkpoint.model');
    assert.equal(fs.statSync(checkpoint).ino, fs.statSync(path.join(moved, 'fold_0', 'model_final_checkpoint.model')).ino, 'hard-linked');
    assert.ok(fs.readdirSync(path.join(moved, 'fold_0', 'validation')).some((f) => f.endsWith('.nii.gz')), 'the fold\'s validation segmentations');
    assert.ok(fs.existsSync(path.join(env.nnUNet_raw, DATASET, 'dataset.json')));
    for (const f of ['dataset.json', 'splits_final.json', 'gt_segmentations']) assert.ok(fs.existsSync(path.join(env.nnUNet_preprocessed, DATASET, f)), f);
    const v1After = treeHashes(env.nnUNet_results);
    for (const [f, h] of Object.entries(before)) assert.equal(v1After[f], h, `${f} unchanged`);

    const again = await run(env, ['nnunet', 'move-to-v2', '-t', TASK]);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /already in the v2 tree; nothing was changed\. Pass --force/);
    await ok(env, ['nnunet', 'move-to-v2', '-t', TASK, '--force']);

    const imagesTs = path.join(env.nnUNet_raw, DATASET, 'imagesTs');
    const v2 = await ok(env, ['nnUNetv2_predict', '-i', imagesTs, '-o', tmp('v2pred'), '-d', ID, '-c', '2d', '-tr', 'nnUNetTrainerV2', '-p', 'nnUNetPlansv2.1', '-f', '0', '--disable_tta']);
    assert.match(v2.stderr, /nnU-Net v1 model .* predicting with the v1 method/);
    await ok(env, ['nnunet', 'predict', '-t', TASK, '-m', '2d', '-f', '0', '-i', imagesTs, '-o', tmp('v1pred'), '--disable-tta']);
    const [a, b] = await Promise.all([readNifti(path.join(tmp('v2pred'), 'demo_test_000.nii.gz')), readNifti(path.join(tmp('v1pred'), 'demo_test_000.nii.gz'))]);
    assert.deepEqual(a.shape, b.shape);
    assert.deepEqual(a.geometry, b.geometry);
    assert.deepEqual(Array.from(a.data), Array.from(b.data), 'the same labels as nnunet predict on the v1 tree');

    // a bare id names the Dataset, as in v2, although Task949_Demo shares it
    await ok(env, ['nnUNetv2_accumulate_crossval_results', ID, '-c', '2d', '-f', '0', '-tr', 'nnUNetTrainerV2', '-p', 'nnUNetPlansv2.1']);
    assert.ok(fs.existsSync(path.join(moved, 'crossval_results_folds_0', 'summary.json')));

    // find_best takes the moved model (its marker stands in for v2 plans); its printed postprocessing line runs on
    // nnUNetv2_predict's output, which holds dataset.json and plans.json as v2's does
    const best = await ok(env, ['nnUNetv2_find_best_configuration', ID, '-c', '2d', '-tr', 'nnUNetTrainerV2', '-p', 'nnUNetPlansv2.1', '-f', '0', '--disable_ensembling']);
    const pp = /nnUNetv2_apply_postprocessing -i OUTPUT_FOLDER -o OUTPUT_FOLDER_PP -pp_pkl_file (\S+) -np 8 -plans_json (\S+)/.exec(best.stdout);
    assert.ok(pp, best.stdout);
    await ok(env, ['nnUNetv2_apply_postprocessing', '-i', tmp('v2pred'), '-o', tmp('pp'), '-pp_pkl_file', pp[1]!, '-plans_json', pp[2]!]);
    assert.ok(fs.existsSync(path.join(tmp('pp'), 'demo_test_000.nii.gz')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
