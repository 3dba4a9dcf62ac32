/**
 * nnUNet_plan_and_preprocess end to end on a 2-case demo task: -tf/-tl reach `nnunet plan-and-preprocess` as -p and
 * --lowres-processes; no 3d_lowres data is made when the plans have no lowres stage (the demo task has none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { assertBuilt, binShim, runCli } from './cli-helpers';

test('nnUNet_plan_and_preprocess -tl 2 -tf 1 on a task without lowres stage: one plan-and-preprocess step with -p 1 --lowres-processes 2', async () => {
  assertBuilt();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-alias-plan-'));
  try {
    const rawDataBase = path.join(root, 'raw');
    const { outDir, taskName } = await writeDemoDataset(rawDataBase, { taskId: 951, cases: 2, testCases: 0 });
    const env = { nnUNet_raw_data_base: rawDataBase, nnUNet_preprocessed: path.join(root, 'pre'), RESULTS_FOLDER: path.join(root, 'res') };
    const r = runCli(['-t', outDir, '-tl', '2', '-tf', '1'], { script: binShim('nnUNet_plan_and_preprocess'), env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /→ nnunet plan-and-preprocess -t \S+ -p 1 --lowres-processes 2\n/);
    assert.doesNotMatch(r.stdout, /3d_lowres/);
    const pre = path.join(root, 'pre', taskName);
    assert.ok(fs.existsSync(path.join(pre, 'nnUNetPlansv2.1_plans_3D.json')));
    assert.equal(fs.readdirSync(path.join(pre, 'nnUNetData_plans_v2.1_stage0')).filter((f) => f.endsWith('.npy')).length, 2);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('nnUNet_plan_and_preprocess --task_ids T -pl3d ExperimentPlanner3D_v21_32GB -pl2d None, then training under -p nnUNetPlansv2.1_verybig', { timeout: 600_000 }, async () => {
  assertBuilt();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-alias-verybig-'));
  try {
    const rawDataBase = path.join(root, 'raw');
    const { taskName } = await writeDemoDataset(rawDataBase, { taskId: 952, cases: 5, testCases: 0 });
    const env = { nnUNet_raw_data_base: rawDataBase, nnUNet_preprocessed: path.join(root, 'pre'), RESULTS_FOLDER: path.join(root, 'res') };
    const pp = runCli(['--task_ids', '952', '-pl3d', 'ExperimentPlanner3D_v21_32GB', '-pl2d', 'None', '-tf', '1'], { script: binShim('nnUNet_plan_and_preprocess'), env, timeoutMs: 300_000 });
    assert.equal(pp.status, 0, pp.stderr);
    const pre = path.join(root, 'pre', taskName);
    assert.deepEqual(fs.readdirSync(pre).filter((f) => f.endsWith('.json') && f.includes('_plans_')), ['nnUNetPlansv2.1_verybig_plans_3D.json'], 'the 32 GB plans only (-pl2d None)');
    assert.ok(fs.existsSync(path.join(pre, 'nnUNetData_plans_v2.1_verybig_stage0')));
    // nnUNet_train ... -p nnUNetPlansv2.1_verybig is `nnunet train ... --plans-identifier nnUNetPlansv2.1_verybig` (aliases.test.ts).
    const tr = runCli(['train', '3d_fullres', 'nnUNetTrainerV2', '952', '0', '--plans-identifier', 'nnUNetPlansv2.1_verybig', '--epochs', '1', '--iters', '1', '--disable-tta', '--step-size', '1', '-q'], { env, timeoutMs: 400_000 });
    assert.equal(tr.status, 0, tr.stderr);
    const fold = path.join(root, 'res', 'nnUNet', '3d_fullres', taskName, 'nnUNetTrainerV2__nnUNetPlansv2.1_verybig', 'fold_0');
    assert.ok(fs.existsSync(path.join(fold, 'model_final_checkpoint.model')), tr.stdout);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
