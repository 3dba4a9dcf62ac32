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
