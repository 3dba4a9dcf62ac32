/** nnU-Net's commands translate to `nnunet` commands; unknown, refused and not-yet-implemented ones fail clearly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALIASES, NotImplementedYet, translateAlias } from '../../client/aliases';
import { UsageError } from '../../client/context';
import { assertBuilt, binShim, runCli } from './cli-helpers';

test('nnUNet_train CONFIG TRAINER TASK FOLD → nnunet run with that configuration, fold and trainer', () => {
  const t = translateAlias('nnUNet_train', ['3d_fullres', 'nnUNetTrainerV2', '4', '0', '--npz', '-c']);
  assert.deepEqual(t.steps, [['run', '-t', '4', '-c', '3d_fullres', '-f', '0', '--trainer', 'nnUNetTrainerV2', '--no-find-best', '--rerun', '--npz']]);
  assert.match(t.notes[0], /^-c ignored: /);
  assert.throws(() => translateAlias('nnUNet_train', ['2d', 'nnUNetTrainerV2', '4']), UsageError);
  assert.throws(() => translateAlias('nnUNet_train', ['2d', 'nnUNetTrainerV2', '4', '0', '-val']), NotImplementedYet);
  assert.throws(() => translateAlias('nnUNet_train', ['2d', 'T', '4', '0', '--bogus']), /unknown option --bogus/);
});

test('nnUNet_plan_and_preprocess -t 4 5 → verify, fingerprint, plan, preprocess per task; -tf is their process count', () => {
  const t = translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '5', '--verify_dataset_integrity', '-tf', '3', '-pl3d', 'ExperimentPlanner3D_v21']);
  assert.deepEqual(t.steps, [
    ['verify', '-t', '4'], ['fingerprint', '-t', '4', '-p', '3'], ['plan', '-t', '4', '--pl3d', 'ExperimentPlanner3D_v21'], ['preprocess', '-t', '4', '-p', '3'],
    ['verify', '-t', '5'], ['fingerprint', '-t', '5', '-p', '3'], ['plan', '-t', '5', '--pl3d', 'ExperimentPlanner3D_v21'], ['preprocess', '-t', '5', '-p', '3'],
  ]);
  assert.deepEqual(t.whenLowresPlanned, []);
  assert.deepEqual(t.env, {});
  assert.deepEqual(translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-no_pp', '-tl', '2', '-tf', '5']).steps, [['fingerprint', '-t', '4', '-p', '5'], ['plan', '-t', '4']]);
  assert.throws(() => translateAlias('nnUNet_plan_and_preprocess', []), /-t is required/);
});

test('nnUNet_plan_and_preprocess -tl N: 3d_lowres is preprocessed with N processes first, only when planned; the rest with -tf', () => {
  const both = translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-tl', '2', '-tf', '6']);
  assert.deepEqual(both.steps, [
    ['fingerprint', '-t', '4', '-p', '6'], ['plan', '-t', '4'],
    ['preprocess', '-t', '4', '-c', '3d_lowres', '-p', '2'], ['preprocess', '-t', '4', '-p', '6'],
  ]);
  assert.deepEqual(both.whenLowresPlanned, [2]);
  // -tl alone: the lowres stage gets it, the rest the configured default (no -p).
  const onlyTl = translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-tl', '2']);
  assert.deepEqual(onlyTl.steps.slice(2), [['preprocess', '-t', '4', '-c', '3d_lowres', '-p', '2'], ['preprocess', '-t', '4']]);
  assert.deepEqual(onlyTl.steps[0], ['fingerprint', '-t', '4']);
  // The same count for both needs no separate lowres step.
  const same = translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-tl', '3', '-tf', '3']);
  assert.deepEqual(same.steps.at(-1), ['preprocess', '-t', '4', '-p', '3']);
  assert.equal(same.steps.length, 3);
  assert.throws(() => translateAlias('nnUNet_plan_and_preprocess', ['-t', '4', '-tl']), /-tl needs a value/);
});

test('predict, find-best and ensemble flags map onto long options', () => {
  assert.deepEqual(translateAlias('nnUNet_predict', ['-i', 'in', '-o', 'out', '-t', '4', '-m', '2d', '-f', '0', '1', '-z', '-tr', 'T', '-chk', 'model_best']).steps,
    [['predict', '--input', 'in', '--output', 'out', '--task', '4', '--configuration', '2d', '--folds', '0', '1', '--save-npz', '--trainer', 'T', '--checkpoint', 'model_best']]);
  assert.deepEqual(translateAlias('nnUNet_find_best_configuration', ['-m', '2d', '3d_fullres', '-t', '4', '5', '--disable_ensembling']).steps, [
    ['find-best', '-t', '4', '--configurations', '2d', '3d_fullres', '--no-ensembling'],
    ['find-best', '-t', '5', '--configurations', '2d', '3d_fullres', '--no-ensembling'],
  ]);
  assert.deepEqual(translateAlias('nnUNet_ensemble', ['-f', 'a', 'b', '-o', 'c', '-pp', 'p.json']).steps,
    [['ensemble', '--folders', 'a', 'b', '--output', 'c', '--postprocessing-file', 'p.json']]);
});

test('every alias has a bin shim; a step whose command has not landed fails with "not implemented yet" and exit 1', () => {
  assertBuilt();
  const pkg = require('../../../package.json') as { bin: Record<string, string> };
  for (const alias of Object.keys(ALIASES)) assert.equal(pkg.bin[alias], `dist/client/bin/${alias}.js`);
  const r = runCli(['-i', 'in', '-o', 'out', '-t', '4', '-m', '2d'], { script: binShim('nnUNet_predict') });
  if (r.status === 1) assert.match(r.stderr, /nnUNet_predict: `nnunet predict` not implemented yet/);
  else assert.notEqual(r.status, 0, 'predicting from a missing folder cannot succeed');
  const bad = runCli(['2d', 'nnUNetTrainerV2', '4', '0', '--nope'], { script: binShim('nnUNet_train') });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^nnUNet_train: unknown option --nope/);
});
