/**
 * nnU-Net v2's fold validation on the tiny v2 dataset (fixture.ts): training 1 epoch × 2 iterations ends with
 * fold_0/validation/<case>.nii.gz for the fold's validation case and summary.json in v2's schema; --val --val_best
 * --npz validates a trained fold again from checkpoint_best.pth and adds <case>.npz + <case>.pkl; the accumulated
 * cross-validation of the fold holds its cases and the same summary; find_best_configuration over two trainers
 * (their ensemble included) writes inference_information.json and inference_instructions.txt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accumulateCrossvalV2 } from '../../../activities/evaluation/accumulate-cv-v2';
import { ensembleFoldersV2 } from '../../../activities/ensembling/ensemble-folders-v2';
import { findBestConfigurationV2 } from '../../../activities/ensembling/find-best-v2';
import { readNpz } from '../../../activities/io/npz';
import { readNifti } from '../../../activities/io/nifti';
import { trainFoldV2, validateTrainedFoldV2, type TrainFoldV2Input } from '../../../activities/training/v2/train-fold';
import { TINY_DATASET, tinyPreprocessedV2 } from './fixture';

const input = (d: { preprocessedDir: string; resultsRoot: string }): TrainFoldV2Input => ({
  preprocessedDir: d.preprocessedDir, resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, configuration: '3d_fullres', fold: 0,
  trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: 1, iterationsPerEpoch: 2, valIterationsPerEpoch: 1,
  numWorkers: 1, backend: 'cpu',
});

test('v2 training ends with the fold validation: validation/<case>.nii.gz and summary.json (v2 schema)', async () => {
  const d = tinyPreprocessedV2();
  try {
    const done = await trainFoldV2(input(d));
    assert.equal(done.status, 'done');
    const validationDir = path.join(d.resultsRoot, TINY_DATASET, 'nnUNetTrainer__nnUNetPlans__3d_fullres', 'fold_0', 'validation');
    assert.equal(done.validation?.validationDir, validationDir);
    const splits = JSON.parse(fs.readFileSync(path.join(d.preprocessedDir, 'splits_final.json'), 'utf8')) as { val: string[] }[];
    const valCases = splits[0]!.val;
    assert.ok(valCases.length >= 1);
    for (const c of valCases) {
      const seg = await readNifti(path.join(validationDir, `${c}.nii.gz`));
      assert.deepEqual([...seg.shape].slice(0, 3), [12, 20, 20]);
      assert.ok(Array.from(seg.data as ArrayLike<number>).every((v) => v === 0 || v === 1), 'labels 0/1 only');
      assert.ok(!fs.existsSync(path.join(validationDir, `${c}.npz`)), 'no probabilities without --npz');
    }
    const summary = JSON.parse(fs.readFileSync(path.join(validationDir, 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as {
      foreground_mean: { Dice: number | null; n_ref: number }; mean: Record<string, unknown>; metric_per_case: { prediction_file: string }[];
    };
    assert.deepEqual(Object.keys(summary.mean), ['1']);
    assert.deepEqual(summary.metric_per_case.map((m) => path.basename(m.prediction_file)), valCases.map((c) => `${c}.nii.gz`));
    assert.ok(summary.foreground_mean.n_ref > 0, 'the reference box is counted');
    assert.equal(done.validation?.summary.foreground_mean.n_ref, summary.foreground_mean.n_ref);

    const again = await validateTrainedFoldV2({ ...input(d), saveProbabilities: true }, 'best');
    const c = valCases[0]!;
    const probs = readNpz(path.join(again.validationDir, `${c}.npz`)).probabilities!;
    assert.deepEqual(probs.shape, [2, 12, 20, 20]);
    const p = probs.data as Float32Array;
    const n = 12 * 20 * 20;
    assert.ok(Math.abs(p[0]! + p[n]! - 1) < 1e-5, 'softmax over the 2 classes');
    assert.ok(fs.existsSync(path.join(again.validationDir, `${c}.pkl`)));
    const ensembled = path.join(d.root, 'ensembled');
    assert.deepEqual(await ensembleFoldersV2({ inputDirs: [again.validationDir, again.validationDir], outputDir: ensembled, fileEnding: '.nii.gz', saveProbabilities: true }), valCases);
    const mine = await readNifti(path.join(ensembled, `${c}.nii.gz`));
    const theirs = await readNifti(path.join(again.validationDir, `${c}.nii.gz`));
    assert.deepEqual(Array.from(mine.data as ArrayLike<number>), Array.from(theirs.data as ArrayLike<number>), 'a folder ensembled with itself is itself');
    assert.deepEqual(Array.from(readNpz(path.join(ensembled, `${c}.npz`)).probabilities!.data as Float32Array), Array.from(p));
    await assert.rejects(validateTrainedFoldV2({ ...input(d), fold: 1 }, 'final'), /checkpoint_final\.pth: missing; train the fold/);

    const modelDir = path.dirname(path.dirname(validationDir));
    const outputDir = path.join(modelDir, 'crossval_results_folds_0');
    const referenceDirs = [path.join(d.root, 'raw', 'labelsTr'), path.join(d.preprocessedDir, 'gt_segmentations')];
    const cv = await accumulateCrossvalV2({ modelDir, outputDir, folds: [0], referenceDirs });
    assert.equal(cv.referenceDir, referenceDirs[1]);
    assert.deepEqual(fs.readdirSync(outputDir).sort(), ['dataset.json', 'plans.json', 'summary.json', ...valCases.map((v) => `${v}.nii.gz`)].sort());
    assert.equal(cv.summary.foreground_mean.TP, again.summary.foreground_mean.TP);
    await assert.rejects(accumulateCrossvalV2({ modelDir, outputDir, folds: [0, 0], referenceDirs }), /more than one of the folds 0, 0 has a prediction/);
    await assert.rejects(accumulateCrossvalV2({ modelDir, outputDir, folds: [1], referenceDirs }), /fold_1.validation: missing; fold 1/);

    await trainFoldV2({ ...input(d), trainer: 'nnUNetTrainerNoMirroring', saveProbabilities: true });
    const best = await findBestConfigurationV2({
      resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, datasetNameOrId: '990', preprocessedDir: d.preprocessedDir, rawDir: path.join(d.root, 'raw'),
      models: ['2d', '3d_fullres'].flatMap((configuration) => ['nnUNetTrainer', 'nnUNetTrainerNoMirroring'].map((trainer) => ({ plans: 'nnUNetPlans', configuration, trainer }))),
      folds: [0], allowEnsembling: true,
    });
    const ensemble = 'ensemble___nnUNetTrainer__nnUNetPlans__3d_fullres___nnUNetTrainerNoMirroring__nnUNetPlans__3d_fullres___0';
    assert.deepEqual(Object.keys(best.results), ['nnUNetTrainer__nnUNetPlans__3d_fullres', 'nnUNetTrainerNoMirroring__nnUNetPlans__3d_fullres', ensemble]);
    assert.ok(fs.existsSync(path.join(d.resultsRoot, TINY_DATASET, 'ensembles', ensemble, `${c}.nii.gz`)));
    const info = JSON.parse(fs.readFileSync(path.join(d.resultsRoot, TINY_DATASET, 'inference_information.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as {
      folds: number[]; ensembling_allowed: boolean; best_model_or_ensemble: { selected_model_or_models: unknown[]; postprocessing_file: string };
    };
    assert.deepEqual([info.folds, info.ensembling_allowed], [[0], true]);
    assert.ok(fs.existsSync(info.best_model_or_ensemble.postprocessing_file));
    const text = fs.readFileSync(path.join(d.resultsRoot, TINY_DATASET, 'inference_instructions.txt'), 'utf8');
    assert.match(text, /^\*\*\*Run inference like this:\*\*\*\n\n/);
    assert.match(text, /nnUNetv2_predict -d 990 -i INPUT_FOLDER -o OUTPUT_FOLDER\S* -f  0 -tr nnUNetTrainer\S* -c 3d_fullres -p nnUNetPlans/);
    assert.match(text, /nnUNetv2_apply_postprocessing -i OUTPUT_FOLDER -o OUTPUT_FOLDER_PP -pp_pkl_file \S+postprocessing\.pkl -np 8 -plans_json \S+plans\.json\n$/);
  } finally {
    d.cleanup();
  }
});
