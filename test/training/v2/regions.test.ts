/**
 * nnU-Net v2's trainer on region and ignore-label datasets (fixture.ts 'regions' / 'ignore'): class_locations keep
 * their region and annotated-voxel keys, training logs one pseudo-Dice per region, and the fold validation exports
 * with regions_class_order and scores summary.json per region, or per label with ignore-label voxels counting nowhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unpackedCaseV2Files, v2UnpackedFolder } from '../../../activities/io/layout';
import { readNifti } from '../../../activities/io/nifti';
import { ensembleFoldersV2 } from '../../../activities/ensembling/ensemble-folders-v2';
import { findBestConfigurationV2 } from '../../../activities/ensembling/find-best-v2';
import { readSummaryV2 } from '../../../activities/evaluation/summary-v2';
import { trainFoldV2, type TrainFoldV2Input } from '../../../activities/training/v2/train-fold';
import { TINY_DATASET, tinyPreprocessedV2 } from './fixture';

const input = (d: { preprocessedDir: string; resultsRoot: string }): TrainFoldV2Input => ({
  preprocessedDir: d.preprocessedDir, resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, configuration: '3d_fullres', fold: 0,
  trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: 2, iterationsPerEpoch: 2, valIterationsPerEpoch: 1,
  numWorkers: 1, backend: 'cpu',
});

const values = (a: ArrayLike<number>): Set<number> => new Set(Array.from(a));

test('regions: Dice+BCE training, pseudo-Dice and validation per region, then find_best with an ensemble and postprocessing per region', async () => {
  const d = tinyPreprocessedV2('regions');
  try {
    const dice: number[][] = [];
    const done = await trainFoldV2({ ...input(d), saveProbabilities: true }, { onEpoch: (r) => dice.push(r.pseudoDice) });
    assert.equal(done.status, 'done');
    const unpacked = JSON.parse(fs.readFileSync(unpackedCaseV2Files(v2UnpackedFolder(path.join(d.preprocessedDir, 'nnUNetPlans_3d_fullres')), 'case_0').properties, 'utf8')) as { class_locations: Record<string, number[][]> };
    assert.deepEqual(Object.keys(unpacked.class_locations).sort(), ['1,2', '2']);
    assert.equal(unpacked.class_locations['2']![0]!.length, 3, 'coordinates (z, y, x)');
    const foldDir = path.dirname(done.validation!.validationDir);
    assert.equal(dice.length, 2, 'two epochs');
    assert.equal(dice[0]!.length, 2, 'one pseudo-Dice per region');
    assert.ok(fs.existsSync(path.join(foldDir, 'checkpoint_final.pth')));
    const summary = done.validation!.summary;
    assert.deepEqual(Object.keys(summary.mean), ['(1, 2)', '(2,)']);
    const whole = summary.mean['(1, 2)']!, core = summary.mean['(2,)']!;
    assert.ok(whole.n_ref > core.n_ref && core.n_ref > 0, 'the whole box contains its core');
    for (const c of summary.metric_per_case) {
      const seg = await readNifti(c.prediction_file);
      for (const v of values(seg.data as ArrayLike<number>)) assert.ok([0, 1, 2].includes(v), `label ${v} from regions_class_order`);
    }
    // a folder of region probabilities ensembled with itself is itself (the averaged sigmoid thresholded at 0.5)
    const validationDir = done.validation!.validationDir;
    const ensembled = path.join(d.root, 'ensembled');
    const cases = await ensembleFoldersV2({ inputDirs: [validationDir, validationDir], outputDir: ensembled, fileEnding: '.nii.gz', regionsClassOrder: [1, 2] });
    for (const c of cases) {
      const mine = await readNifti(path.join(ensembled, `${c}.nii.gz`)), theirs = await readNifti(path.join(validationDir, `${c}.nii.gz`));
      assert.deepEqual(Array.from(mine.data as ArrayLike<number>), Array.from(theirs.data as ArrayLike<number>));
    }

    await trainFoldV2({ ...input(d), trainer: 'nnUNetTrainerNoMirroring', saveProbabilities: true });
    const best = await findBestConfigurationV2({
      resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, datasetNameOrId: '990', preprocessedDir: d.preprocessedDir, rawDir: path.join(d.root, 'raw'),
      models: ['nnUNetTrainer', 'nnUNetTrainerNoMirroring'].map((trainer) => ({ plans: 'nnUNetPlans', configuration: '3d_fullres', trainer })), folds: [0], allowEnsembling: true,
    });
    assert.equal(Object.keys(best.results).length, 3, 'two models and their ensemble');
    const datasetDir = path.join(d.resultsRoot, TINY_DATASET);
    const summaries = (fs.readdirSync(datasetDir, { recursive: true }) as string[]).filter((f) => f.endsWith('summary.json') && !f.includes('fold_0'));
    assert.ok(summaries.some((f) => f.startsWith('ensembles')) && summaries.some((f) => f.includes('crossval_results_folds_0')));
    for (const f of summaries) assert.deepEqual(Object.keys(readSummaryV2(path.join(datasetDir, f)).mean), ['(1, 2)', '(2,)'], f);
    const info = JSON.parse(fs.readFileSync(path.join(d.resultsRoot, TINY_DATASET, 'inference_information.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as {
      best_model_or_ensemble: { postprocessing_file: string };
    };
    const pp = JSON.parse(fs.readFileSync(info.best_model_or_ensemble.postprocessing_file.replace(/\.pkl$/, '.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as {
      input_folder: { mean: Record<string, unknown> }; postprocessing_kwargs: { labels_or_regions: unknown }[];
    };
    assert.deepEqual(Object.keys(pp.input_folder.mean), ['(1, 2)', '(2,)'], 'postprocessing decided on the regions');
    for (const k of pp.postprocessing_kwargs) assert.ok([[1, 2], [2]].some((r) => JSON.stringify(r) === JSON.stringify(k.labels_or_regions)));
  } finally {
    d.cleanup();
  }
});

test('ignore label: the annotated-voxels key, ignored voxels count in no metric of summary.json', async () => {
  const d = tinyPreprocessedV2('ignore');
  try {
    const dice: number[][] = [];
    const done = await trainFoldV2(input(d), { onEpoch: (r) => dice.push(r.pseudoDice) });
    const unpacked = JSON.parse(fs.readFileSync(unpackedCaseV2Files(v2UnpackedFolder(path.join(d.preprocessedDir, 'nnUNetPlans_3d_fullres')), 'case_0').properties, 'utf8')) as { class_locations: Record<string, number[][]> };
    assert.deepEqual(Object.keys(unpacked.class_locations).sort(), ['-1,0,1', '1']);
    const summary = done.validation!.summary;
    assert.deepEqual(Object.keys(summary.mean), ['1']);
    for (const c of summary.metric_per_case) {
      const ref = Array.from((await readNifti(c.reference_file)).data as ArrayLike<number>);
      const m = c.metrics['1']!;
      assert.equal(m.TP + m.FP + m.FN + m.TN, ref.filter((v) => v !== 2).length, 'only annotated voxels are counted');
      assert.equal(m.n_ref, ref.filter((v) => v === 1).length);
      const pred = (await readNifti(c.prediction_file)).data as ArrayLike<number>;
      assert.ok([...values(pred)].every((v) => v === 0 || v === 1), 'the ignore label is never predicted');
    }
    assert.equal(dice[0]!.length, 1, 'one pseudo-Dice: label 1');
  } finally {
    d.cleanup();
  }
});

test('regions with a cross-entropy-only trainer are refused as bad input', async () => {
  const d = tinyPreprocessedV2('regions');
  try {
    await assert.rejects(trainFoldV2({ ...input(d), trainer: 'nnUNetTrainerCELoss' }), (err: Error) => err.name === 'BadInput' && /regions train with Dice\+BCE/.test(err.message));
  } finally {
    d.cleanup();
  }
});
