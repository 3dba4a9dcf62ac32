/**
 * The whole pipeline, for real: the built `nnunet` CLI, the embedded Temporal server and in-process workers, the
 * real activities (no mocks). A tiny demo task goes through `nnunet run -t 931 -c 2d --epochs 2 --iters 2`
 * (verify → fingerprint → plan → preprocess → 5 folds → find-best → postprocessing); the run ends with exit 0 and
 * prints the winner, its cross-validation Dice per class and an `nnunet predict` command; that command, run as
 * printed, segments imagesTs into NIfTI files with each image's geometry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FindBestOutput, TaskPaths } from '../../activities/contract';
import { readNifti } from '../../activities/io/nifti';
import { outcomeLines } from '../../client/task-view';
import { geometryDifferences } from '../../activities/io/geometry';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type DataEnv } from './helpers';
import { shellWords } from './pipeline-helpers';

const skip = temporalUnavailable() ?? false;
let data: DataEnv;

before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('pipeline');
});
after(() => data?.remove());

test('demo task end to end: run prints winner, per-class Dice and a predict command that segments imagesTs', { skip, timeout: 300_000 }, async () => {
  const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn' };
  const demo = await startCli(['demo-dataset', '-t', '931', '--cases', '5', '--test-cases', '1'], env).done;
  assert.equal(demo.code, 0, demo.stderr);

  const run = await startCli(['run', '-t', '931', '-c', '2d', '--epochs', '2', '--iters', '2'], env, 280_000).done;
  console.log(`nnunet run: exit ${run.code} in ${run.ms} ms\n${run.stdout.split('\n').slice(-12).join('\n')}`);
  assert.equal(run.code, 0, `run exits 0\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /task Task931_Demo completed in [\d.]+ s/);
  assert.match(run.stdout, /best configuration: 2d \(mean foreground Dice (0|1)\.\d{4}\)/);
  // One Dice per foreground class of dataset.json (1 organ, 2 lesion), named.
  const perClass = run.stdout.match(/cross-validation Dice per class: 1 \(\w+\) ([\d.]+), 2 \(\w+\) ([\d.]+)\n/);
  assert.ok(perClass, `per-class Dice line\n${run.stdout}`);
  for (const d of perClass.slice(1)) assert.ok(Number(d) >= 0 && Number(d) <= 1, `Dice ${d} in [0, 1]`);
  // Every stage's output is in place.
  for (const f of ['dataset_properties.json', 'nnUNetPlansv2.1_plans_2D.json', 'splits_final.json']) {
    assert.ok(fs.existsSync(path.join(data.env.nnUNet_preprocessed, 'Task931_Demo', f)), f);
  }
  const model = path.join(data.env.RESULTS_FOLDER, 'nnUNet', '2d', 'Task931_Demo', 'nnUNetTrainerV2__nnUNetPlansv2.1');
  for (let fold = 0; fold < 5; fold++) {
    for (const f of ['model_final_checkpoint.model', 'progress.png', 'validation_raw/summary.json']) {
      assert.ok(fs.existsSync(path.join(model, `fold_${fold}`, f)), `fold_${fold}/${f}`);
    }
  }
  assert.ok(fs.existsSync(path.join(model, 'postprocessing.json')), 'postprocessing.json of the winner');
  assert.match(run.stdout, /test set predicted: 1 cases -> \S+predictions\/Task931_Demo\/2d\n/, 'the run ends with imagesTs predicted (--predict is on with imagesTs)');

  const line = run.stdout.split('\n').map((l) => l.trim()).find((l) => l.startsWith('nnunet predict '));
  assert.ok(line, `an nnunet predict command is printed\n${run.stdout}`);
  const args = shellWords(line).slice(1);
  const testDir = path.join(data.env.nnUNet_raw_data_base, 'nnUNet_raw_data', 'Task931_Demo', 'imagesTs');
  assert.equal(args[args.indexOf('-i') + 1], testDir, 'it reads the task imagesTs');
  const outDir = args[args.indexOf('-o') + 1];

  const predict = await startCli(args, env, 120_000).done;
  console.log(`${line}: exit ${predict.code} in ${predict.ms} ms`);
  assert.equal(predict.code, 0, `predict exits 0\n${predict.stdout}\n${predict.stderr}`);
  const images = fs.readdirSync(testDir).filter((f) => f.endsWith('_0000.nii.gz'));
  assert.ok(images.length >= 1);
  for (const image of images) {
    const id = image.replace(/_0000\.nii\.gz$/, '');
    const seg = await readNifti(path.join(outDir, `${id}.nii.gz`));
    const img = await readNifti(path.join(testDir, image));
    assert.deepEqual(seg.shape, img.shape, `${id}: segmentation shape = image shape`);
    assert.deepEqual(geometryDifferences(seg.geometry, img.geometry), [], `${id}: spacing, origin and direction of the image`);
    const labels = new Set(seg.data);
    for (const v of labels) assert.ok(v === 0 || v === 1 || v === 2, `${id}: label ${v} is one of the task's`);
  }
});

test('an ensemble winner: predict both with --save-npz, then nnunet ensemble with its postprocessing.json', () => {
  const paths: TaskPaths = { taskName: 'Task931_Demo', rawDir: '/data/raw/Task931_Demo', croppedDir: '/c', preprocessedDir: '/p', resultsDir: '/res/nnUNet' };
  const pp = '/res/nnUNet/ensembles/Task931_Demo/ensemble_2d__nnUNetTrainerV2__nnUNetPlansv2.1--3d_fullres__nnUNetTrainerV2__nnUNetPlansv2.1/postprocessing.json';
  const best: FindBestOutput = {
    winner: { name: 'ensemble_2d--3d_fullres', configurations: ['2d', '3d_fullres'], meanForegroundDice: 0.5 },
    candidates: [],
    winnerDicePerClass: { 2: 0.25, 1: 0.75 },
    predictCommands: ['nnUNet_predict … -m 2d', 'nnUNet_predict … -m 3d_fullres', `nnUNet_ensemble -f OUTPUT_FOLDER_MODEL1 OUTPUT_FOLDER_MODEL2 -o OUTPUT_FOLDER -pp ${pp}`],
  };
  const lines = outcomeLines(undefined, { task: 'Task931_Demo', configurations: ['2d', '3d_fullres'], best, wallTimeMs: 1000 }, undefined, paths);
  const out = '/res/predictions/Task931_Demo/ensemble_2d--3d_fullres';
  assert.deepEqual(lines.slice(1, 7), [
    'best configuration: ensemble_2d--3d_fullres (mean foreground Dice 0.5000)',
    'cross-validation Dice per class: 1 0.7500, 2 0.2500',
    'predict with:',
    `  nnunet predict -i FOLDER_WITH_TEST_CASES -o ${out}/2d -t Task931_Demo -m 2d --save-npz`,
    `  nnunet predict -i FOLDER_WITH_TEST_CASES -o ${out}/3d_fullres -t Task931_Demo -m 3d_fullres --save-npz`,
    `  nnunet ensemble -f ${out}/2d ${out}/3d_fullres -o ${out}/ensemble --postprocessing-file ${pp}`,
  ]);
});
