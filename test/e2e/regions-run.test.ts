/**
 * `nnunet run` on the demo's --regions task (organ = labels {1, 2}, lesion = {2}, v2 dataset.json) with a tiny
 * budget, through the real CLI, embedded Temporal server and workers: every fold trains region outputs, find-best
 * ranks by the region Dice, the winner's postprocessing is decided per region, and imagesTs is predicted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readNifti } from '../../activities/io/nifti';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type DataEnv } from './helpers';

const skip = temporalUnavailable() ?? (process.env.NNUNET_AUDIT === '1' ? false : 'a long end-to-end run: set NNUNET_AUDIT=1 (with the audits)');
let data: DataEnv;

before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('regions-run');
});
after(() => data?.remove());

test('nnunet run on a --regions demo goes through find-best, postprocessing and the test set', { skip, timeout: 600_000 }, async () => {
  const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn' };
  const demo = await startCli(['demo-dataset', '-t', '932', '--cases', '5', '--test-cases', '1', '--regions'], env).done;
  assert.equal(demo.code, 0, demo.stderr);
  const run = await startCli(['run', '-t', '932', '-c', '2d', '--epochs', '1', '--iters', '2'], env, 580_000).done;
  console.log(`nnunet run --regions: exit ${run.code} in ${run.ms} ms\n${run.stdout.split('\n').slice(-10).join('\n')}`);
  assert.equal(run.code, 0, `run exits 0\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /best configuration: 2d \(mean foreground Dice [01]\.\d{4}\)/);
  const log = path.join(data.env.RESULTS_FOLDER, '.temporal', 'worker.log');
  if (fs.existsSync(log)) for (const l of fs.readFileSync(log, 'utf8').split('\n').filter((x) => /error|fail|retry/i.test(x)).slice(0, 20)) console.log(`worker.log: ${l}`);
  assert.match(run.stdout, /cross-validation Dice per class: \(1, 2\)( \(\w+\))? [\d.]+, \(2,\)( \(\w+\))? [\d.]+/, 'one Dice per region');
  const model = path.join(data.env.RESULTS_FOLDER, 'nnUNet', '2d', 'Task932_DemoRegions', 'nnUNetTrainerV2__nnUNetPlansv2.1');
  const cv = JSON.parse(fs.readFileSync(path.join(model, 'cv_niftis_raw', 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as { mean: Record<string, unknown> };
  assert.deepEqual(Object.keys(cv.mean), ['(1, 2)', '(2,)'], 'the pooled cross-validation is scored per region');
  const pp = JSON.parse(fs.readFileSync(path.join(model, 'postprocessing.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as { dc_per_class_raw: Record<string, unknown> };
  assert.deepEqual(Object.keys(pp.dc_per_class_raw), ['(1, 2)', '(2,)']);
  assert.ok(fs.existsSync(path.join(model, 'cv_niftis_postprocessed', 'summary.json')));
  const predicted = run.stdout.match(/test set predicted: 1 cases -> (\S+)\n/);
  assert.ok(predicted, `the test set is predicted\n${run.stdout}`);
  const seg = fs.readdirSync(predicted[1]!).find((f) => f.endsWith('.nii.gz'))!;
  const labels = new Set(Array.from((await readNifti(path.join(predicted[1]!, seg))).data as ArrayLike<number>));
  for (const v of labels) assert.ok([0, 1, 2].includes(v), `label ${v} painted from the regions`);
});
