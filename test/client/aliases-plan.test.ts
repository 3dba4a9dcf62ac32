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
import { readPlansFile } from '../../activities/planning/plans-file';
import { writePlansPkl } from '../../activities/planning/plans-pkl';
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

/** Plans with `planner` (2D off), then trains one tiny epoch under `-p plansId`; checks the files are named after them. */
async function planThenTrain(planner: string, plansId: string, dataId: string, taskId: number): Promise<void> {
  assertBuilt();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `nnunet-alias-${plansId}-`));
  try {
    const rawDataBase = path.join(root, 'raw');
    const { taskName } = await writeDemoDataset(rawDataBase, { taskId, cases: 5, testCases: 0 });
    const env = { nnUNet_raw_data_base: rawDataBase, nnUNet_preprocessed: path.join(root, 'pre'), RESULTS_FOLDER: path.join(root, 'res') };
    const pp = runCli(['--task_ids', String(taskId), '-pl3d', planner, '-pl2d', 'None', '-tf', '1'], { script: binShim('nnUNet_plan_and_preprocess'), env, timeoutMs: 300_000 });
    assert.equal(pp.status, 0, pp.stderr);
    const pre = path.join(root, 'pre', taskName);
    assert.deepEqual(fs.readdirSync(pre).filter((f) => f.endsWith('.json') && f.includes('_plans_')), [`${plansId}_plans_3D.json`], `the ${planner} plans only (-pl2d None)`);
    assert.ok(fs.existsSync(path.join(pre, `${dataId}_stage0`)));
    // nnUNet_train ... -p ID is `nnunet train ... --plans-identifier ID` (aliases.test.ts).
    const tr = runCli(['train', '3d_fullres', 'nnUNetTrainerV2', String(taskId), '0', '--plans-identifier', plansId, '--epochs', '1', '--iters', '1', '--disable-tta', '--step-size', '1', '-q'], { env, timeoutMs: 400_000 });
    assert.equal(tr.status, 0, tr.stderr);
    const fold = path.join(root, 'res', 'nnUNet', '3d_fullres', taskName, `nnUNetTrainerV2__${plansId}`, 'fold_0');
    assert.ok(fs.existsSync(path.join(fold, 'model_final_checkpoint.model')), tr.stdout);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('nnUNet_plan_and_preprocess --task_ids T -pl3d ExperimentPlanner3D_v21_32GB -pl2d None, then training under -p nnUNetPlansv2.1_verybig', { timeout: 600_000 }, async () => {
  await planThenTrain('ExperimentPlanner3D_v21_32GB', 'nnUNetPlansv2.1_verybig', 'nnUNetData_plans_v2.1_verybig', 952);
});

test('nnUNet_plan_and_preprocess -pl3d ExperimentPlanner3D_v22 -pl2d None, then training under -p nnUNetPlansv2.2', { timeout: 600_000 }, async () => {
  await planThenTrain('ExperimentPlanner3D_v22', 'nnUNetPlansv2.2', 'nnUNetData_plans_v2.2', 953);
});

test('nnUNet_plan_and_preprocess -pl3d ExperimentPlanner3D_v21_Pretrained -overwrite_plans PKL -overwrite_plans_identifier ID, then training under -p nnUNetPlans_pretrained_ID', { timeout: 600_000 }, async () => {
  assertBuilt();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-alias-pretrained-'));
  try {
    const rawDataBase = path.join(root, 'raw');
    const env = { nnUNet_raw_data_base: rawDataBase, nnUNet_preprocessed: path.join(root, 'pre'), RESULTS_FOLDER: path.join(root, 'res') };
    const source = await writeDemoDataset(rawDataBase, { taskId: 954, cases: 3, testCases: 0 });
    const target = await writeDemoDataset(rawDataBase, { taskId: 955, cases: 5, testCases: 0 });
    const planned = runCli(['plan-and-preprocess', '-t', '954', '--no-pp', '--pl2d', 'None', '-p', '1'], { env, timeoutMs: 120_000 });
    assert.equal(planned.status, 0, planned.stderr);
    // The source's plans as nnU-Net pickles them, with a smaller network than this task would get: it must be kept.
    const sourcePlans = readPlansFile(path.join(root, 'pre', source.taskName, 'nnUNetPlansv2.1_plans_3D.json'));
    const pkl = path.join(root, 'source_plans_3D.pkl');
    writePlansPkl(pkl, { ...sourcePlans, base_num_features: 8 });

    const pp = runCli(['-t', '955', '-pl3d', 'ExperimentPlanner3D_v21_Pretrained', '-overwrite_plans', pkl, '-overwrite_plans_identifier', 'Demo954', '-tf', '1'], { script: binShim('nnUNet_plan_and_preprocess'), env, timeoutMs: 300_000 });
    assert.equal(pp.status, 0, pp.stderr);
    assert.match(pp.stderr, /I am setting '--planner2d' to None/);
    const pre = path.join(root, 'pre', target.taskName);
    assert.deepEqual(fs.readdirSync(pre).filter((f) => f.includes('_plans_')), ['nnUNetPlans_pretrained_Demo954_plans_3D.json']);
    const adopted = readPlansFile(path.join(pre, 'nnUNetPlans_pretrained_Demo954_plans_3D.json'));
    assert.equal(adopted.base_num_features, 8);
    assert.deepEqual(adopted.plans_per_stage, sourcePlans.plans_per_stage);
    assert.equal(fs.readdirSync(path.join(pre, 'nnUNetData_pretrained_Demo954_stage0')).filter((f) => f.endsWith('.npy')).length, 5, 'this task\'s cases');

    const refused = runCli(['-t', '955', '-overwrite_plans', pkl], { script: binShim('nnUNet_plan_and_preprocess'), env, timeoutMs: 60_000 });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /needs --overwrite-plans-identifier/);

    const tr = runCli(['train', '3d_fullres', 'nnUNetTrainerV2', '955', '0', '--plans-identifier', 'nnUNetPlans_pretrained_Demo954', '--epochs', '1', '--iters', '1', '--disable-tta', '--step-size', '1', '-q'], { env, timeoutMs: 400_000 });
    assert.equal(tr.status, 0, tr.stderr);
    const fold = path.join(root, 'res', 'nnUNet', '3d_fullres', target.taskName, 'nnUNetTrainerV2__nnUNetPlans_pretrained_Demo954', 'fold_0');
    assert.ok(fs.existsSync(path.join(fold, 'model_final_checkpoint.model')), tr.stdout);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
