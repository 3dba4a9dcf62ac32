/**
 * nnU-Net v2's commands as a user types them, on the demo task under v2's environment variables (child processes of
 * the built bins): convert the v1 demo task to a Dataset, evaluate its labels against themselves, plot overlays, and
 * the trainer's command exits 2 pointing to nnUNet_train.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { assertBuilt, binShim, runCli } from './cli-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2demo-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const env = {
  nnUNet_raw: path.join(tmp, 'nnUNet_raw'), nnUNet_preprocessed: path.join(tmp, 'nnUNet_preprocessed'), nnUNet_results: path.join(tmp, 'nnUNet_results'),
};
const run = (prog: string, args: string[]) => runCli(args, { script: binShim(prog), env, timeoutMs: 60_000 });

test('the demo task through nnUNetv2_* bins: convert, evaluate (Dice 1 against itself), overlay PNGs; nnUNetv2_train before preprocessing fails naming the missing plans', async () => {
  assertBuilt();
  const demo = await writeDemoDataset(path.join(tmp, 'v1'), { taskId: 931, cases: 2, testCases: 0 });
  const convert = run('nnUNetv2_convert_old_nnUNet_dataset', [demo.outDir, 'Dataset931_Demo']);
  assert.equal(convert.status, 0, convert.stderr);
  const dataset = path.join(env.nnUNet_raw, 'Dataset931_Demo');
  const json = JSON.parse(fs.readFileSync(path.join(dataset, 'dataset.json'), 'utf8')) as { labels: Record<string, number>; file_ending: string };
  assert.equal(json.file_ending, '.nii.gz');
  const labels = Object.values(json.labels).filter((v) => v !== 0).map(String);

  const labelsTr = path.join(dataset, 'labelsTr');
  const evaluate = run('nnUNetv2_evaluate_folder', [labelsTr, labelsTr, '-djfile', path.join(dataset, 'dataset.json'), '-pfile', path.join(dataset, 'dataset.json'), '-o', path.join(tmp, 'summary.json')]);
  assert.equal(evaluate.status, 0, evaluate.stderr);
  const summary = JSON.parse(fs.readFileSync(path.join(tmp, 'summary.json'), 'utf8')) as { mean: Record<string, { Dice: number }>; foreground_mean: { Dice: number } };
  assert.deepEqual(Object.keys(summary.mean).sort(), labels.sort());
  assert.equal(summary.foreground_mean.Dice, 1);

  const pngs = run('nnUNetv2_plot_overlay_pngs', ['-d', '931', '-o', path.join(tmp, 'pngs'), '--use_raw']);
  assert.equal(pngs.status, 0, pngs.stderr);
  assert.equal(fs.readdirSync(path.join(tmp, 'pngs')).filter((f) => f.endsWith('.png')).length, 2);

  const train = run('nnUNetv2_train', ['931', '3d_fullres', '0']);
  assert.equal(train.status, 1, train.stderr);
  assert.match(train.stderr, /nnUNetPlans\.json: missing; run nnUNetv2_plan_and_preprocess/);
});
