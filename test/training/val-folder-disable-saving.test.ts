/**
 * nnUNet_train --val_folder NAME and --disable_saving on a tiny fold: the validation (and its postprocessed copy)
 * under NAME instead of validation_raw, and a finished fold validated again into another NAME without training
 * (nnUNet_determine_postprocessing -val NAME pools it);
 * --disable_saving writes no model_best and leaves no checkpoint once the fold is validated, as nnU-Net;
 * --disable_postprocessing_on_folds leaves out the fold's own postprocessing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { BadInputError } from '../../activities/common/errors';
import { postprocess } from '../../activities/postprocessing/activity';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

const input = (over: Partial<TrainFoldInput> = {}): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer: 'nnUNetTrainerV2',
  epochs: 1, iterationsPerEpoch: 2, validation: { tta: false, stepSize: 1 }, runtime: { seed: 7, numWorkers: 1, validationIterations: 1 }, ...over,
});

test('--val_folder: validation into fold_0/NAME and NAME_postprocessed; a finished fold validates into a new NAME without training', async () => {
  const lines: string[] = [];
  const first = await runTrainingFold(input({ validationFolderName: 'val_a' }), { log: (l) => lines.push(l) });
  assert.equal(first.status, 'done');
  const fold = first.foldDir;
  assert.ok(fs.existsSync(path.join(fold, 'val_a', 'summary.json')));
  assert.equal(JSON.parse(fs.readFileSync(path.join(fold, 'val_a', 'validation_args.json'), 'utf8')).validation_folder_name, 'val_a');
  assert.ok(fs.existsSync(path.join(fold, 'val_a_postprocessed')));
  assert.ok(!fs.existsSync(path.join(fold, 'validation_raw')), 'validation_raw is not written');

  lines.length = 0;
  const again = await runTrainingFold(input({ validationFolderName: 'val_b', continueTraining: true }), { log: (l) => lines.push(l) });
  assert.equal(again.status, 'done');
  assert.ok(fs.existsSync(path.join(fold, 'val_b', 'summary.json')), 'the finished fold is validated into the new folder');
  assert.ok(lines.some((l) => /; 1 epochs from epoch 1$/.test(l)), `resumed at the end, no epoch trained again:\n${lines.join('\n')}`);

  // nnUNet_determine_postprocessing -val val_a pools that folder into cv_niftis_raw.
  const model = path.dirname(fold);
  const pp = await postprocess({ paths: task.paths, winner: { name: '3d_fullres', configurations: ['3d_fullres'], meanForegroundDice: NaN }, trainer: 'nnUNetTrainerV2', plansIdentifier: 'nnUNetPlansv2.1', folds: [0], validationFolderName: 'val_a' });
  assert.equal(pp.postprocessingFile, path.join(model, 'postprocessing.json'));
  assert.deepEqual(fs.readdirSync(path.join(model, 'cv_niftis_raw')).filter((f) => f.endsWith('.nii.gz')).sort(), fs.readdirSync(path.join(fold, 'val_a')).filter((f) => f.endsWith('.nii.gz')).sort());

  await assert.rejects(runTrainingFold(input({ validationFolderName: '../x' })), (e: unknown) => e instanceof BadInputError && /--val_folder "..\/x"/.test(e.message));
});

test('--disable_saving: no model_best while training, no checkpoint left after validation; the validation is kept', async () => {
  const out = await runTrainingFold(input({ fold: 1, disableSaving: true }));
  assert.equal(out.status, 'done');
  if (out.status !== 'done') return;
  assert.equal(out.finalCheckpoint, '');
  assert.equal(typeof out.validationMeanDice, 'number');
  assert.deepEqual(fs.readdirSync(out.foldDir).filter((f) => f.endsWith('.model')), []);
  assert.ok(fs.existsSync(path.join(out.foldDir, 'validation_raw', 'summary.json')));
});

test('--disable_postprocessing_on_folds: validation without the fold\'s own postprocessing decision', async () => {
  const out = await runTrainingFold(input({ fold: 3, skipFoldPostprocessing: true }));
  assert.equal(out.status, 'done');
  assert.ok(fs.existsSync(path.join(out.foldDir, 'validation_raw', 'summary.json')));
  assert.ok(!fs.existsSync(path.join(out.foldDir, 'postprocessing.json')));
  assert.ok(!fs.existsSync(path.join(out.foldDir, 'validation_raw_postprocessed')));
});

test('--val_disable_overwrite: -val keeps the cases the validation folder holds; without it every case is predicted again', async () => {
  const out = await runTrainingFold(input({ fold: 2 }));
  assert.equal(out.status, 'done');
  const dir = path.join(out.foldDir, 'validation_raw');
  const segs = fs.readdirSync(dir).filter((f) => f.endsWith('.nii.gz')).sort();
  const bytes = segs.map((f) => fs.readFileSync(path.join(dir, f)));
  fs.rmSync(path.join(dir, segs[0]!)); // one case lost: only it is predicted again

  const kept: string[] = [];
  const keep = await runTrainingFold(input({ fold: 2, validationOnly: true, keepExistingValidation: true }), { log: (l) => kept.push(l) });
  assert.equal(keep.status, 'done');
  assert.equal(kept.filter((l) => /^kept \S+: its prediction is in validation_raw\/ already/.test(l)).length, segs.length - 1, kept.join('\n'));
  assert.equal(kept.filter((l) => /^validated \S+:/.test(l)).length, 1, kept.join('\n'));
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.nii.gz')).sort(), segs);
  segs.slice(1).forEach((f, i) => assert.deepEqual(fs.readFileSync(path.join(dir, f)), bytes[i + 1], `${f} kept as it was`));
  assert.ok(fs.existsSync(path.join(dir, 'summary.json')));

  const again: string[] = [];
  await runTrainingFold(input({ fold: 2, validationOnly: true }), { log: (l) => again.push(l) });
  assert.equal(again.filter((l) => /^validated \S+:/.test(l)).length, segs.length, 'without the flag, nnU-Net overwrites');
});
