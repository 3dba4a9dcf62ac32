/** nnU-Net's commands translate to `nnunet` commands and run them; unknown and refused options fail clearly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ALIASES, translateAlias } from '../../client/aliases';
import { UsageError } from '../../client/context';
import { assertBuilt, binShim, runCli } from './cli-helpers';

test('nnUNet_train CONFIG TRAINER TASK FOLD → that one fold as its own durable workflow (nnunet train --via-temporal)', () => {
  const t = translateAlias('nnUNet_train', ['3d_fullres', 'nnUNetTrainerV2', '4', '0', '--npz', '-c']);
  assert.deepEqual(t.steps, [['train', '3d_fullres', 'nnUNetTrainerV2', '4', '0', '--via-temporal', '--npz', '--continue']]);
  assert.deepEqual(t.notes, [], '-c has its nnU-Net meaning now: continue (without it the fold starts over)');
  assert.throws(() => translateAlias('nnUNet_train', ['2d', 'nnUNetTrainerV2', '4']), UsageError);
  assert.throws(() => translateAlias('nnUNet_train', ['2d', 'T', '4', '0', '--bogus']), /unknown option --bogus/);
});

test('nnUNet_train -val, --valbest, -p and the --disable_* flags and -pretrained_weights map onto nnunet train; --find_lr is refused with the reason', () => {
  const steps = (...flags: string[]) => translateAlias('nnUNet_train', ['3d_lowres', 'nnUNetTrainerV2', '4', '1', ...flags]).steps[0]!.slice(6);
  assert.deepEqual(steps('-val', '--npz'), ['--validation-only', '--npz']);
  assert.deepEqual(steps('--validation_only', '--valbest'), ['--validation-only', '--valbest']);
  assert.deepEqual(steps('-p', 'nnUNetPlansv2.1_verybig'), ['--plans-identifier', 'nnUNetPlansv2.1_verybig']);
  assert.deepEqual(steps('--disable_validation_inference', '--disable_next_stage_pred'), ['--no-validation', '--no-next-stage']);
  const noted = translateAlias('nnUNet_train', ['2d', 'nnUNetTrainerV2', '4', '0', '--deterministic', '--fp32']);
  assert.deepEqual(noted.notes.map((n) => n.split(' ')[0]), ['--deterministic', '--fp32']);
  assert.deepEqual(steps('-val', '--val_disable_overwrite'), ['--validation-only', '--val-disable-overwrite']);
  assert.deepEqual(steps('--disable_saving', '--val_folder', 'validation_other'), ['--disable-saving', '--val-folder', 'validation_other']);
  assert.deepEqual(steps('--disable_postprocessing_on_folds'), ['--no-fold-postprocessing']);
  assert.deepEqual(steps('-pretrained_weights', 'x.model'), ['--pretrained-weights', 'x.model']);
});

test('nnUNet_plan_and_preprocess --task_ids 4 works like -t 4; -overwrite_plans has one dash', () => {
  assert.deepEqual(translateAlias('nnUNet_plan_and_preprocess', ['--task_ids', '4']).steps, [['plan-and-preprocess', '-t', '4']]);
  assert.deepEqual(translateAlias('nnUNet_plan_and_preprocess', ['-pl3d', 'ExperimentPlanner3D_v21_32GB', '--task_ids', '4', '5']).steps,
    [['plan-and-preprocess', '-t', '4', '5', '--pl3d', 'ExperimentPlanner3D_v21_32GB']]);
  assert.deepEqual(translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-pl3d', 'ExperimentPlanner3D_v21_Pretrained', '-overwrite_plans', 'p.pkl', '-overwrite_plans_identifier', 'X']).steps,
    [['plan-and-preprocess', '-t', '4', '--pl3d', 'ExperimentPlanner3D_v21_Pretrained', '--overwrite-plans', 'p.pkl', '--overwrite-plans-identifier', 'X']]);
  assert.throws(() => translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '--overwrite_plans', 'p.pkl']), /unknown option --overwrite_plans/);
});

test('nnUNet_plan_and_preprocess -t 4 5 → one `nnunet plan-and-preprocess` step; -tf → -p, -tl → --lowres-processes', () => {
  const t = translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '5', '--verify_dataset_integrity', '-tf', '3', '-pl3d', 'ExperimentPlanner3D_v21']);
  assert.deepEqual(t.steps, [['plan-and-preprocess', '-t', '4', '5', '--verify', '--pl3d', 'ExperimentPlanner3D_v21', '-p', '3']]);
  assert.ok(!('env' in t), 'every flag becomes an argument; nothing goes through process.env');
  assert.deepEqual(translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-no_pp', '-tl', '2', '-tf', '5']).steps,
    [['plan-and-preprocess', '-t', '4', '--no-pp', '-p', '5', '--lowres-processes', '2']]);
  assert.deepEqual(translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-tl', '2']).steps, [['plan-and-preprocess', '-t', '4', '--lowres-processes', '2']]);
  assert.throws(() => translateAlias('nnUNet_plan_and_preprocess', []), /-t is required/);
  assert.throws(() => translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-tl']), /-tl needs a value/);
});

test('predict, find-best and ensemble flags map onto long options', () => {
  assert.deepEqual(translateAlias('nnUNet_predict', ['-i', 'in', '-o', 'out', '-t', '4', '-m', '2d', '-f', '0', '1', '-z', '-tr', 'T', '-chk', 'model_best']).steps,
    [['predict', '--input', 'in', '--output', 'out', '--task', '4', '--configuration', '2d', '--folds', '0', '1', '--save-npz', '--trainer', 'T', '--checkpoint', 'model_best']]);
  assert.deepEqual(translateAlias('nnUNet_find_best_configuration', ['-m', '2d', '3d_fullres', '-t', '4', '5', '--disable_ensembling']).steps, [
    ['find-best', '-t', '4', '--configurations', '2d', '3d_fullres', '--no-ensembling'],
    ['find-best', '-t', '5', '--configurations', '2d', '3d_fullres', '--no-ensembling'],
  ]);
  assert.deepEqual(translateAlias('nnUNet_find_best_configuration', ['-t', '4', '-pl2d', 'nnUNetPlansv2.1', '-pl3d', 'nnUNetPlansv2.1_big']).steps,
    [['find-best', '-t', '4', '--pl2d', 'nnUNetPlansv2.1', '--pl3d', 'nnUNetPlansv2.1_big']]);
  assert.deepEqual(translateAlias('nnUNet_ensemble', ['-f', 'a', 'b', '-o', 'c', '-pp', 'p.json']).steps,
    [['ensemble', '--folders', 'a', 'b', '--output', 'c', '--postprocessing-file', 'p.json']]);
});

test('every alias has a bin shim that runs its `nnunet` command: nnUNet_predict for an unknown task fails as predict does', () => {
  assertBuilt();
  const pkg = require('../../../package.json') as { bin: Record<string, string> };
  for (const alias of Object.keys(ALIASES)) assert.equal(pkg.bin[alias], `dist/client/bin/${alias}.js`);
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-alias-'));
  try {
    const env = { nnUNet_raw_data_base: path.join(data, 'raw'), nnUNet_preprocessed: path.join(data, 'pre'), RESULTS_FOLDER: path.join(data, 'results') };
    const r = runCli(['-i', 'in', '-o', 'out', '-t', '4', '-m', '2d'], { script: binShim('nnUNet_predict'), env });
    assert.equal(r.status, 2, `a usage error (no such task), not a crash:\n${r.stderr}`);
    assert.match(r.stderr, /^nnUNet_predict → nnunet predict --input in --output out --task 4 --configuration 2d$/m, 'the step it ran');
    assert.match(r.stderr, /^nnUNet_predict: task 4: no Task004_\* or Dataset004_\* folder under /m, "predict's own error, named by the alias");
    assert.doesNotMatch(r.stderr, /not implemented yet/);
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
  const bad = runCli(['2d', 'nnUNetTrainerV2', '4', '0', '--nope'], { script: binShim('nnUNet_train') });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^nnUNet_train: unknown option --nope/);
});
