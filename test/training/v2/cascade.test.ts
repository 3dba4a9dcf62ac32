/**
 * nnU-Net v2's cascade end to end on the tiny dataset (fixture.ts, 3d_lowres + 3d_cascade_fullres, a 2-fold split):
 * 3d_cascade_fullres refuses to start before 3d_lowres has predicted its cases (naming the fold to train); the
 * 3d_lowres folds' validation writes predicted_next_stage/3d_cascade_fullres/<case>.npz (uint8 `seg` on the
 * fullres grid); the cascade then trains with 2 input channels (image + one-hot label 1), validates with the
 * lowres predictions, predicts raw files with -prev_stage_predictions, and find_best_configuration takes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../../../activities/common/errors';
import { findBestConfigurationV2 } from '../../../activities/ensembling/find-best-v2';
import { predictTestSetV2 } from '../../../activities/ensembling/v2-activity';
import { predictFilesV2, rawCasesInFolder } from '../../../activities/inference/v2/predict-files';
import { readNifti } from '../../../activities/io/nifti';
import { readNpz } from '../../../activities/io/npz';
import { readTorchCheckpoint } from '../../../activities/io/torch-checkpoint';
import { loadV2Model } from '../../../activities/network/v2/model-folder';
import { trainFoldV2, validateTrainedFoldV2, type TrainFoldV2Input } from '../../../activities/training/v2/train-fold';
import { addCascadeConfigurations, TINY_DATASET, tinyPreprocessedV2, tinyRawInputs } from './fixture';

const SPLITS = [{ train: ['case_2', 'case_3', 'case_4'], val: ['case_0', 'case_1'] }, { train: ['case_0', 'case_1'], val: ['case_2', 'case_3', 'case_4'] }];

const input = (d: { preprocessedDir: string; resultsRoot: string }, configuration: string, fold: number): TrainFoldV2Input => ({
  preprocessedDir: d.preprocessedDir, resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, configuration, fold,
  trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: 1, iterationsPerEpoch: 2, valIterationsPerEpoch: 1,
  numWorkers: 0, backend: 'cpu', saveProbabilities: true,
});

const model = (d: { resultsRoot: string }, configuration: string) => path.join(d.resultsRoot, TINY_DATASET, `nnUNetTrainer__nnUNetPlans__${configuration}`);

test('v2 cascade: 3d_lowres exports predicted_next_stage, 3d_cascade_fullres trains, validates and predicts on it', async () => {
  const d = tinyPreprocessedV2();
  try {
    addCascadeConfigurations(d);
    fs.writeFileSync(path.join(d.preprocessedDir, 'splits_final.json'), JSON.stringify(SPLITS));

    await assert.rejects(trainFoldV2(input(d, '3d_cascade_fullres', 0)), (err: Error) => {
      assert.ok(err instanceof BadInputError);
      assert.match(err.message, /predicted_next_stage\/3d_cascade_fullres\/case_2\.npz/);
      assert.match(err.message, /train 3d_lowres fold 1 first .*nnUNetv2_train Dataset990_TinyV2 3d_lowres 1 -tr nnUNetTrainer -p nnUNetPlans/);
      return true;
    });

    for (const fold of [0, 1]) assert.equal((await trainFoldV2(input(d, '3d_lowres', fold))).status, 'done');
    const next = path.join(model(d, '3d_lowres'), 'predicted_next_stage', '3d_cascade_fullres');
    assert.deepEqual(fs.readdirSync(next).filter((f) => f.endsWith('.npz')).sort(), ['case_0.npz', 'case_1.npz', 'case_2.npz', 'case_3.npz', 'case_4.npz']);
    const seg = readNpz(path.join(next, 'case_0.npz')).seg!;
    assert.equal(seg.dtype, 'uint8');
    assert.deepEqual(seg.shape, [12, 20, 20]);
    assert.ok(Array.from(seg.data as Uint8Array).every((v) => v === 0 || v === 1));

    const cascade = await trainFoldV2(input(d, '3d_cascade_fullres', 0));
    assert.equal(cascade.status, 'done');
    const debug = JSON.parse(fs.readFileSync(path.join(cascade.foldDir, 'debug.json'), 'utf8')) as { is_cascaded: boolean; folder_with_segs_from_previous_stage: string };
    assert.deepEqual([debug.is_cascaded, debug.folder_with_segs_from_previous_stage], [true, next]);
    const ck = readTorchCheckpoint(cascade.checkpoint);
    const firstConv = ck.stateDict.get('encoder.stages.0.0.convs.0.conv.weight')!;
    assert.deepEqual(firstConv.shape, [4, 2, 3, 3, 3], 'image channel + one-hot of label 1');
    const summary = cascade.validation!.summary;
    assert.deepEqual(summary.metric_per_case.map((m) => path.basename(m.prediction_file)), ['case_0.nii.gz', 'case_1.nii.gz']);
    assert.ok(fs.existsSync(path.join(cascade.foldDir, 'validation', 'case_0.npz')));
    const again = await validateTrainedFoldV2(input(d, '3d_cascade_fullres', 0), 'final');
    assert.deepEqual(again.summary.foreground_mean, summary.foreground_mean, '--val repeats the fold validation');

    const raw = tinyRawInputs(d);
    const lowOut = path.join(d.root, 'pred_lowres');
    const low = loadV2Model(model(d, '3d_lowres'), { folds: [0, 1] });
    try {
      await predictFilesV2(low, rawCasesInFolder(raw, '.nii.gz', 1).slice(0, 2), lowOut);
    } finally {
      low.dispose();
    }
    const cascaded = loadV2Model(model(d, '3d_cascade_fullres'), { folds: [0] });
    const out = path.join(d.root, 'pred_cascade');
    try {
      const cases = rawCasesInFolder(raw, '.nii.gz', 1).slice(0, 2).map((c) => ({ ...c, previousStage: path.join(lowOut, `${c.caseId}.nii.gz`) }));
      assert.deepEqual(await predictFilesV2(cascaded, cases, out), ['case_0', 'case_1']);
    } finally {
      cascaded.dispose();
    }
    const predicted = await readNifti(path.join(out, 'case_0.nii.gz'));
    assert.deepEqual([...predicted.shape].slice(0, 3), [12, 20, 20]);

    const best = await findBestConfigurationV2({
      resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, datasetNameOrId: '990', preprocessedDir: d.preprocessedDir, rawDir: path.join(d.root, 'raw'),
      models: ['3d_lowres', '3d_cascade_fullres'].map((configuration) => ({ plans: 'nnUNetPlans', configuration, trainer: 'nnUNetTrainer' })),
      folds: [0], allowEnsembling: true,
    });
    assert.deepEqual(Object.keys(best.results), [
      'nnUNetTrainer__nnUNetPlans__3d_lowres', 'nnUNetTrainer__nnUNetPlans__3d_cascade_fullres',
      'ensemble___nnUNetTrainer__nnUNetPlans__3d_lowres___nnUNetTrainer__nnUNetPlans__3d_cascade_fullres___0',
    ]);

    // nnunet run --method v2's test-set node with the cascade as winner: 3d_lowres first, then the cascade on it.
    const rawDir = path.join(d.root, 'raw');
    fs.mkdirSync(path.join(rawDir, 'imagesTs'), { recursive: true });
    fs.copyFileSync(path.join(d.preprocessedDir, 'dataset.json'), path.join(rawDir, 'dataset.json'));
    for (const c of ['case_0', 'case_1']) fs.copyFileSync(path.join(raw, `${c}_0000.nii.gz`), path.join(rawDir, 'imagesTs', `${c}_0000.nii.gz`));
    const paths = { taskName: TINY_DATASET, rawDir, croppedDir: path.join(d.root, 'cropped'), preprocessedDir: d.preprocessedDir, resultsDir: d.resultsRoot };
    const winner = { name: 'nnUNetTrainer__nnUNetPlans__3d_cascade_fullres', configurations: ['3d_cascade_fullres' as const], meanForegroundDice: best.results['nnUNetTrainer__nnUNetPlans__3d_cascade_fullres']! };
    const testSet = await predictTestSetV2({ paths, winner, trainer: 'nnUNetTrainer', plansIdentifier: 'nnUNetPlans', method: 'v2' });
    const winnerDir = path.join(d.resultsRoot, 'predictions', TINY_DATASET, winner.name);
    assert.deepEqual(testSet, { outputDir: path.join(winnerDir, 'postprocessed'), cases: 2 });
    const prevArgs = JSON.parse(fs.readFileSync(path.join(winnerDir, '3d_cascade_fullres', 'predict_from_raw_data_args.json'), 'utf8')) as { prev_stage_predictions?: string };
    assert.equal(prevArgs.prev_stage_predictions, path.join(winnerDir, 'prev_stage_3d_lowres'));
    for (const c of ['case_0', 'case_1']) {
      const lowres = await readNifti(path.join(winnerDir, 'prev_stage_3d_lowres', `${c}.nii.gz`));
      const direct = await readNifti(path.join(lowOut, `${c}.nii.gz`));
      assert.deepEqual(Array.from(lowres.data), Array.from(direct.data), `${c}: the previous stage as nnUNetv2_predict -c 3d_lowres predicts it`);
    }
    const viaTask = await readNifti(path.join(winnerDir, '3d_cascade_fullres', 'case_0.nii.gz'));
    assert.deepEqual(Array.from(viaTask.data), Array.from(predicted.data), 'the cascade as -prev_stage_predictions predicts it');
  } finally {
    d.cleanup();
  }
});
