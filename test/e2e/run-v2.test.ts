/**
 * `nnunet run --method v2` and `nnunet sweep --variants` end to end (built CLI, embedded server, real activities):
 * a tiny demo task converted once to a v2 Dataset goes through v2's fingerprint, ExperimentPlanner, preprocessing
 * of 2d and 3d_fullres, fold 0 of each with the v2 trainer (1 epoch × 2 iterations), v2's find-best with the
 * ensemble, and the test set predicted with the winner's postprocessing; then one sweep compares v1 and v2 on
 * another tiny task in one report with a variant column.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type DataEnv } from './helpers';

const skip = temporalUnavailable() ?? false;
let data: DataEnv;

before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('run-v2');
});
after(() => data?.remove());

test('nnunet run --method v2: Dataset conversion, v2 plans, folds, find-best, postprocessing and the test set', { skip, timeout: 1_800_000 }, async () => {
  const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn' };
  const demo = await startCli(['demo-dataset', '-t', '932', '--cases', '5', '--test-cases', '1'], env).done;
  assert.equal(demo.code, 0, demo.stderr);
  const run = await startCli(['run', '-t', '932', '--method', 'v2', '-c', '2d', '3d_fullres', '-f', '0', '--epochs', '1', '--iters', '2'], env, 1_750_000).done;
  console.log(`nnunet run --method v2: exit ${run.code} in ${run.ms} ms\n${run.stdout.split('\n').slice(-14).join('\n')}`);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /--method v2: converting the v1 task Task932_Demo to \S+Dataset932_Demo/);
  assert.match(run.stdout, /started nnunet-task-932-v2-nnUNetPlans for Dataset932_Demo/);
  assert.match(run.stdout, /task Dataset932_Demo completed in [\d.]+ s/);
  const best = /best configuration: (\S+) \(mean foreground Dice ([\d.]+)\)/.exec(run.stdout);
  assert.ok(best, run.stdout);
  assert.match(best[1]!, /^(nnUNetTrainer__nnUNetPlans__(2d|3d_fullres)|ensemble___nnUNetTrainer__nnUNetPlans__2d___nnUNetTrainer__nnUNetPlans__3d_fullres___0)$/);
  assert.match(run.stdout, /nnUNetv2_predict -d Dataset932_Demo /, 'v2\'s inference instructions are printed');
  const results = data.env.RESULTS_FOLDER;
  const dataset = path.join(results, 'Dataset932_Demo');
  for (const c of ['2d', '3d_fullres']) {
    for (const f of [0]) {
      for (const file of ['checkpoint_final.pth', 'validation/summary.json']) assert.ok(fs.existsSync(path.join(dataset, `nnUNetTrainer__nnUNetPlans__${c}`, `fold_${f}`, file)), `${c} fold_${f}/${file}`);
    }
  }
  const info = JSON.parse(fs.readFileSync(path.join(dataset, 'inference_information.json'), 'utf8')) as { best_model_or_ensemble: { result_on_crossval_pre_pp: number } };
  assert.equal(info.best_model_or_ensemble.result_on_crossval_pre_pp.toFixed(4), best[2]);
  const predicted = path.join(results, 'predictions', 'Dataset932_Demo', best[1]!, 'postprocessed');
  assert.ok(run.stdout.includes(`test set predicted: 1 cases -> ${predicted}`), run.stdout);
  assert.equal(fs.readdirSync(predicted).filter((f) => f.endsWith('.nii.gz')).length, 1);
  for (const f of ['dataset_fingerprint.json', 'nnUNetPlans.json', 'nnUNetPlans_2d', 'nnUNetPlans_3d_fullres', 'gt_segmentations']) {
    assert.ok(fs.existsSync(path.join(data.env.nnUNet_preprocessed, 'Dataset932_Demo', f)), f);
  }
  assert.ok(!fs.existsSync(path.join(results, 'nnUNet')), 'no v1 model tree');
});

test('nnunet sweep --variants v1,v2: each variant once, one report with a variant column', { skip, timeout: 900_000 }, async () => {
  const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn' };
  const demo = await startCli(['demo-dataset', '-t', '933', '--cases', '5', '--test-cases', '0'], env).done;
  assert.equal(demo.code, 0, demo.stderr);
  const sweep = await startCli(['sweep', '-t', '933', '--variants', 'v1,v2', '-c', '2d', '-f', '0', '--epochs', '1', '--iters', '2', '--json'], env, 880_000).done;
  console.log(`nnunet sweep --variants v1,v2: exit ${sweep.code} in ${sweep.ms} ms`);
  assert.equal(sweep.code, 0, `${sweep.stdout}\n${sweep.stderr}`);
  const result = JSON.parse(sweep.stdout) as { rows: Array<{ task: string; variant?: string; configuration: string; status: string; meanForegroundDice?: number; bestConfiguration?: string }>; report: { csvFile: string } };
  assert.deepEqual(result.rows.map((r) => [r.task, r.variant, r.configuration, r.status]), [['Task933_Demo', 'v1', '2d', 'completed'], ['Task933_Demo', 'v2', '2d', 'completed']]);
  assert.deepEqual(result.rows.map((r) => r.bestConfiguration), ['2d', 'nnUNetTrainer__nnUNetPlans__2d']);
  for (const r of result.rows) assert.ok(r.meanForegroundDice! >= 0 && r.meanForegroundDice! <= 1);
  const csv = fs.readFileSync(result.report.csvFile, 'utf8').trim().split('\n');
  assert.ok(csv[0]!.startsWith('task,variant,configuration,status,mean_fg_dice'), csv[0]);
  assert.ok(fs.existsSync(path.join(data.env.RESULTS_FOLDER, 'nnUNet', '2d', 'Task933_Demo', 'nnUNetTrainerV2__nnUNetPlansv2.1', 'fold_0')), 'the v1 model');
  assert.ok(fs.existsSync(path.join(data.env.RESULTS_FOLDER, 'Dataset933_Demo', 'nnUNetTrainer__nnUNetPlans__2d', 'fold_0', 'checkpoint_final.pth')), 'the v2 model');
});
