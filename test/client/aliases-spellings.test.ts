/**
 * nnU-Net's argparse spellings: long forms, --flag=value, unique prefixes, nnU-Net's defaults, argparse's -h usage
 * line; the entry points nnU-Net v1 has beyond the first five; --part_id/--num_parts; docs/cli.md lists them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ALIASES, helpText, translateAlias } from '../../client/aliases';
import { NNUNET_PARSERS, usageLine } from '../../client/nnunet-argparse';
import { UsageError } from '../../client/context';
import { casesOfPart } from '../../client/commands/predict';
import { assertBuilt, binShim, ROOT, runCli } from './cli-helpers';

test('nnUNet_predict: long forms, --flag=value and unique prefixes read as the short flags; -m defaults to 3d_fullres', () => {
  const long = translateAlias('nnUNet_predict', ['--input_folder', 'in', '--output_folder=out', '--task_name', '4', '--folds', '0', '1', '--trainer_class_name=T',
    '--save_npz', '--lowres_segmentations', 'low', '--plans_identifier', 'P', '--cascade_trainer_class_name', 'nnUNetTrainerV2CascadeFullRes']);
  assert.deepEqual(long.steps, [['predict', '--input', 'in', '--output', 'out', '--task', '4', '--folds', '0', '1', '--trainer', 'T', '--save-npz',
    '--lowres-folder', 'low', '--plans', 'P', '--cascade-trainer', 'nnUNetTrainerV2CascadeFullRes', '--configuration', '3d_fullres']]);
  assert.deepEqual(translateAlias('nnUNet_predict', ['-i', 'in', '-o', 'out', '-t', '4', '--model', '2d', '--part_id=1', '--num_parts', '3']).steps,
    [['predict', '--input', 'in', '--output', 'out', '--task', '4', '--configuration', '2d', '--part-id', '1', '--num-parts', '3']]);
  assert.deepEqual(translateAlias('nnUNet_predict', ['--input', 'in', '--out', 'o', '-t', '4', '-m', '2d']).steps[0].slice(0, 5), ['predict', '--input', 'in', '--output', 'o'], 'argparse allow_abbrev');
  assert.throws(() => translateAlias('nnUNet_predict', ['--num', '2']), (e: Error) => e instanceof UsageError && /ambiguous option: --num could match --num_parts, --num_threads_preprocessing/.test(e.message));
  assert.throws(() => translateAlias('nnUNet_predict', ['--save_npz=1']), /ignored explicit argument '1'/);
});

test('the other entry points take their long forms: plan_and_preprocess --task_ids, find_best --task_ids/--models/--folds, ensemble --folders/--output_folder', () => {
  assert.deepEqual(translateAlias('nnUNet_plan_and_preprocess', ['--task_ids', '4', '--planner3d=ExperimentPlanner3D_v21']).steps,
    [['plan-and-preprocess', '-t', '4', '--pl3d', 'ExperimentPlanner3D_v21']]);
  assert.deepEqual(translateAlias('nnUNet_find_best_configuration', ['--models', '2d', '--task_ids', '4', '--folds', '0', '1']).steps,
    [['find-best', '-t', '4', '--configurations', '2d', '--folds', '0', '1']]);
  assert.deepEqual(translateAlias('nnUNet_ensemble', ['--folders', 'a', 'b', '--output_folder=c', '--postprocessing_file', 'p.json', '--threads', '4']),
    { steps: [['ensemble', '--folders', 'a', 'b', '--output', 'c', '--postprocessing-file', 'p.json']], notes: ['-t ignored: the ensemble is written by this process'] });
});

test('the entry points nnU-Net v1 adds: convert_decathlon_task, determine_postprocessing, evaluate_folder, plot_task_pngs, change_trainer_class, train_DP/DDP', () => {
  assert.deepEqual(translateAlias('nnUNet_convert_decathlon_task', ['-i', 'Task04_Hippocampus', '-p', '8', '-output_task_id', '104']).steps,
    [['convert-msd', '--input', 'Task04_Hippocampus', '--task', '104']]);
  assert.deepEqual(translateAlias('nnUNet_determine_postprocessing', ['-m', '2d', '-t', '4', '-tr', 'nnUNetTrainerV2', '-pl', 'nnUNetPlansv2.1']).steps,
    [['determine-postprocessing', '--configuration', '2d', '--task', '4', '--trainer', 'nnUNetTrainerV2', '--plans', 'nnUNetPlansv2.1']]);
  assert.deepEqual(translateAlias('nnUNet_evaluate_folder', ['-ref', 'gt', '-pred', 'pred', '-l', '1', '2']).steps, [['evaluate', '--ref', 'gt', '--pred', 'pred', '--labels', '1', '2']]);
  assert.deepEqual(translateAlias('nnUNet_plot_task_pngs', ['-t', '4', '-o', 'pngs', '-modality_idx', '0', '--use_raw', '-num_processes', '2']).steps,
    [['plot-task-pngs', '--task', '4', '--output', 'pngs', '--modality', '0', '--use-raw']]);
  assert.deepEqual(translateAlias('nnUNet_change_trainer_class', ['-i', 'm', '-tr', 'T']).steps, [['change-trainer-class', '--input', 'm', '--trainer', 'T']]);
  for (const alias of ['nnUNet_train_DP', 'nnUNet_train_DDP']) {
    const extra = alias === 'nnUNet_train_DP' ? ['-gpus', '2', '--dbs'] : ['--local_rank', '0'];
    const t = translateAlias(alias, ['3d_fullres', 'nnUNetTrainerV2', '4', '1', ...extra]);
    assert.deepEqual(t.steps, translateAlias('nnUNet_train', ['3d_fullres', 'nnUNetTrainerV2', '4', '1']).steps, `${alias} trains the fold as nnUNet_train does`);
    assert.ok(t.notes.some((n) => /trains the fold on one GPU.*nnunet worker --queue gpu/.test(n)), t.notes.join('\n'));
  }
});

test('-h: argparse\'s usage line with the positionals last, then every spelling and what it does here', () => {
  assert.match(usageLine('nnUNet_train'), /^usage: nnUNet_train \[-h\] \[-val\] \[-c\] \[-p P\] .* \[-pretrained_weights PRETRAINED_WEIGHTS\] network network_trainer task fold$/);
  assert.match(usageLine('nnUNet_predict'), /^usage: nnUNet_predict \[-h\] -i INPUT_FOLDER -o OUTPUT_FOLDER -t TASK_NAME \[-tr TRAINER_CLASS_NAME\] .*\[-f FOLDS \[FOLDS \.\.\.\]\] \[-z\]/);
  assert.match(usageLine('nnUNet_evaluate_folder'), /^usage: nnUNet_evaluate_folder \[-h\] -ref REF -pred PRED -l L \[L \.\.\.\]$/);
  assert.match(helpText('nnUNet_predict'), /-i INPUT_FOLDER, --input_folder INPUT_FOLDER +-> --input\n/);
  assertBuilt();
  const r = runCli(['-h'], { script: binShim('nnUNet_train_DP') });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: nnUNet_train_DP \[-h\] .*-gpus GPUS .*network network_trainer task fold\n/);
});

test('--part_id/--num_parts split the sorted case ids as nnU-Net ([part_id::num_parts])', () => {
  const cases = ['c', 'a', 'e', 'b', 'd'].map((id) => ({ id }));
  assert.deepEqual(casesOfPart(cases, 0, 2).map((c) => c.id), ['a', 'c', 'e']);
  assert.deepEqual(casesOfPart(cases, 1, 2).map((c) => c.id), ['b', 'd']);
  assert.deepEqual(casesOfPart(cases, 0, 1).map((c) => c.id), ['a', 'b', 'c', 'd', 'e']);
  assert.throws(() => casesOfPart(cases, 2, 2), /--part_id must be in 0\.\.1/);
});

test('every nnU-Net v1 entry point here has a bin shim, and docs/cli.md has a row for every one of its flags', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const docs = fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
  for (const [alias, parser] of Object.entries(NNUNET_PARSERS)) {
    assert.ok(ALIASES[alias], `${alias} has an alias`);
    assert.equal(pkg.bin[alias], `dist/client/bin/${alias}.js`);
    const rows = docs.split('\n').filter((l) => l.startsWith('| ') && l.includes(`\`${alias}\``));
    assert.ok(rows.length > 0, `docs/cli.md has rows for ${alias}`);
    if (alias.startsWith('nnUNet_train')) continue; // nnUNet_train's flags: one row pointing at the fold change
    for (const o of parser.options) assert.ok(rows.some((r) => r.includes(`\`${o.names[0]}\``)), `docs/cli.md: ${alias} ${o.names[0]}`);
  }
});

test("nnUNet_change_trainer_class rewrites the trainer name in nnU-Net's .model.pkl files, as nnU-Net does", async () => {
  const { readModelPkl, writeModelPkl } = await import('../../activities/io/nnunet-pickles');
  const { runCli } = await import('./cli-helpers');
  const model = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-change-trainer-'));
  try {
    const fold = path.join(model, 'fold_0');
    fs.mkdirSync(fold);
    const file = path.join(fold, 'model_final_checkpoint.model.pkl');
    writeModelPkl(file, { init: ['plans.pkl', 0, 'out', 'data', true, 1, true, false, true], name: 'nnUNetTrainerV2_DDP', plans: { num_classes: 2 } });
    const r = runCli(['change-trainer-class', '-i', model, '--trainer', 'nnUNetTrainerV2']);
    assert.equal(r.status, 0, r.stderr);
    const after = readModelPkl(file);
    assert.equal(after.name, 'nnUNetTrainerV2');
    assert.deepEqual(after.init, ['plans.pkl', 0, 'out', 'data', true, 1, true, false, true], 'the rest of the file is kept');
    assert.equal(after.plans.num_classes, 2);
  } finally {
    fs.rmSync(model, { recursive: true, force: true });
  }
});
