/**
 * The pipeline's activities with method 'v2' on real data, in the order the task workflow runs them: a tiny demo
 * task converted to a v2 Dataset, the v2 fingerprint, ExperimentPlanner's plans, DefaultPreprocessor for 2d and
 * 3d_fullres (with gt_segmentations), fold 0 of each trained by the v2 trainer library with --npz (a test-size
 * network: the plans' features divided by 8), then find-best (v2's find_best_configuration with the ensemble),
 * postprocess (the decision find-best made) and the test set predicted with the winner and its postprocessing.
 * Absent method, the same activities stay v1's (checked by the v1 tests).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FindBestOutput, TaskPaths } from '../../activities/contract';
import { BadInputError } from '../../activities/common/errors';
import { fingerprint } from '../../activities/fingerprint/activity';
import { plan } from '../../activities/planning/activity';
import { preprocess } from '../../activities/preprocessing/activity';
import { findBestConfiguration, predictTestSet } from '../../activities/ensembling/activity';
import { postprocess } from '../../activities/postprocessing/activity';
import { convertOldTaskToV2 } from '../../activities/io/convert-v2';
import { writeDemoDataset } from '../../activities/io/demo';
import { datasetFingerprintFile, gtSegmentationsFolder, plansV2File, taskPathsForV2, v2FindBestFiles } from '../../activities/io/layout';
import { readNifti } from '../../activities/io/nifti';
import { trainFoldV2 } from '../../activities/training/v2/train-fold';

let root: string;
let paths: TaskPaths;
const TRAINER = 'nnUNetTrainer';
const PLANS = 'nnUNetPlans';

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2acts-'));
  const base = path.join(root, 'raw_base');
  const task = await writeDemoDataset(base, { taskId: 953, cases: 5, testCases: 1 });
  const ds = await convertOldTaskToV2(task.outDir, 'Dataset953_Demo', path.join(root, 'raw'));
  paths = taskPathsForV2(ds.outDir, { rawDataBase: base, raw: path.join(root, 'raw'), preprocessed: path.join(root, 'preprocessed'), results: path.join(root, 'results') });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A test-size network: every stage's features divided by 8 (the planned topology and patch stay). */
function shrinkNetwork(plansFile: string): void {
  const plans = JSON.parse(fs.readFileSync(plansFile, 'utf8')) as { configurations: Record<string, { architecture?: { arch_kwargs: { features_per_stage: number[] } } }> };
  for (const c of Object.values(plans.configurations)) {
    if (c.architecture) c.architecture.arch_kwargs.features_per_stage = c.architecture.arch_kwargs.features_per_stage.map((f) => Math.max(2, f / 8));
  }
  fs.writeFileSync(plansFile, JSON.stringify(plans));
}

let best: FindBestOutput;

test('fingerprint, plan and preprocess with method v2 write v2\'s files', { timeout: 300_000 }, async () => {
  const fp = await fingerprint({ paths, numProcesses: 1, method: 'v2' });
  assert.equal(fp.fingerprintFile, datasetFingerprintFile(paths.preprocessedDir));
  assert.equal(fp.numCases, 5);
  const kept = fs.statSync(fp.fingerprintFile).mtimeMs;
  assert.deepEqual(await fingerprint({ paths, numProcesses: 1, method: 'v2' }), fp, 'a retry keeps the fingerprint (as v2 without --clean)');
  assert.equal(fs.statSync(fp.fingerprintFile).mtimeMs, kept);

  await assert.rejects(plan({ paths, fingerprintFile: fp.fingerprintFile, method: 'v2', planner: 'ExperimentPlanner3D_v21' }), (e: unknown) => e instanceof BadInputError && /not an nnU-Net v2 planner/.test(e.message));
  const planned = await plan({ paths, fingerprintFile: fp.fingerprintFile, method: 'v2' });
  const file = plansV2File(paths.preprocessedDir, PLANS);
  assert.deepEqual(planned.plansFiles, { '2d': file, '3d': file });
  assert.equal(planned.plansIdentifier, PLANS);
  assert.deepEqual(planned.configurations, ['2d', '3d_fullres']);
  assert.ok(fs.existsSync(path.join(paths.preprocessedDir, 'dataset.json')), 'the planner copies dataset.json (v2 reads it there)');
  const resEnc = await plan({ paths, fingerprintFile: fp.fingerprintFile, method: 'v2', planner: 'nnUNetPlannerResEncM' });
  assert.equal(resEnc.plansIdentifier, 'nnUNetResEncUNetMPlans');
  assert.ok(fs.existsSync(plansV2File(paths.preprocessedDir, 'nnUNetResEncUNetMPlans')));

  shrinkNetwork(file);
  for (const configuration of ['2d', '3d_fullres'] as const) {
    const out = await preprocess({ paths, plansFile: file, configuration, numProcesses: 1, method: 'v2' });
    assert.equal(out.dataDir, path.join(paths.preprocessedDir, `${PLANS}_${configuration}`));
    assert.equal(out.numCases, 5);
    assert.equal(fs.readdirSync(out.dataDir).filter((f) => f.endsWith('.npz')).length, 5);
  }
  assert.equal(fs.readdirSync(gtSegmentationsFolder(paths.preprocessedDir)).filter((f) => f.endsWith('.nii.gz')).length, 5);
});

test('find-best, postprocess and the test set with method v2', { timeout: 900_000 }, async () => {
  for (const configuration of ['2d', '3d_fullres']) {
    for (const fold of [0]) {
      const r = await trainFoldV2({
        preprocessedDir: paths.preprocessedDir, resultsRoot: paths.resultsDir, rawDir: paths.rawDir, datasetName: paths.taskName, configuration, fold,
        trainer: TRAINER, plansName: PLANS, epochs: 1, iterationsPerEpoch: 2, valIterationsPerEpoch: 1, numWorkers: 1, backend: 'auto', saveProbabilities: true,
      });
      assert.equal(r.status, 'done');
    }
  }
  best = await findBestConfiguration({ paths, trainer: TRAINER, plansIdentifier: PLANS, configurations: ['2d', '3d_fullres'], folds: [0], method: 'v2' });
  const names = best.candidates.map((c) => c.name);
  assert.deepEqual(names, [`${TRAINER}__${PLANS}__2d`, `${TRAINER}__${PLANS}__3d_fullres`, `ensemble___${TRAINER}__${PLANS}__2d___${TRAINER}__${PLANS}__3d_fullres___0`]);
  assert.deepEqual(best.candidates.map((c) => c.configurations), [['2d'], ['3d_fullres'], ['2d', '3d_fullres']]);
  assert.equal(best.winner.meanForegroundDice, Math.max(...best.candidates.map((c) => c.meanForegroundDice)));
  assert.deepEqual(Object.keys(best.winnerDicePerClass), ['1', '2'], 'the demo\'s two labels');
  assert.ok(best.predictCommands.length > 0 && best.predictCommands.every((c) => c.startsWith('nnUNetv2_')));
  const info = JSON.parse(fs.readFileSync(v2FindBestFiles(paths.resultsDir, paths.taskName).information, 'utf8')) as { best_model_or_ensemble: { result_on_crossval_pre_pp: number; result_on_crossval_post_pp: number } };
  assert.equal(info.best_model_or_ensemble.result_on_crossval_pre_pp, best.winner.meanForegroundDice);

  const pp = await postprocess({ paths, winner: best.winner, trainer: TRAINER, plansIdentifier: PLANS, folds: [0], method: 'v2' });
  assert.ok(pp.postprocessingFile.endsWith('postprocessing.pkl') && fs.existsSync(pp.postprocessingFile));
  assert.equal(pp.diceBefore, best.winner.meanForegroundDice);
  assert.equal(pp.diceAfter, info.best_model_or_ensemble.result_on_crossval_post_pp);

  const predicted = await predictTestSet({ paths, winner: best.winner, trainer: TRAINER, plansIdentifier: PLANS, method: 'v2' }, { backend: 'auto' });
  assert.equal(predicted.outputDir, path.join(paths.resultsDir, 'predictions', paths.taskName, best.winner.name, 'postprocessed'));
  assert.equal(predicted.cases, 1);
  const seg = await readNifti(path.join(predicted.outputDir, fs.readdirSync(predicted.outputDir).find((f) => f.endsWith('.nii.gz'))!));
  const image = await readNifti(path.join(paths.rawDir, 'imagesTs', fs.readdirSync(path.join(paths.rawDir, 'imagesTs')).sort()[0]!));
  assert.deepEqual([...seg.shape].slice(0, 3), [...image.shape].slice(0, 3), 'the prediction has the test image\'s shape');
  assert.ok(Array.from(seg.data as ArrayLike<number>).every((v) => v >= 0 && v <= 2));
});
