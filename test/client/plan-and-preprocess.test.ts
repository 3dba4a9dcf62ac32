/**
 * `nnunet plan-and-preprocess` on tiny demo tasks: directly (2 cases: fingerprint, plans and stage .npy files
 * appear), and --via-temporal on an embedded server (5 cases, as training splits into 5 folds: the task workflow
 * stops after preprocessing, train nodes skipped); a following `nnunet run` of the same task completes without
 * computing the fingerprint again.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { resolveTemporalBinary } from '../../client/temporal/binary';
import { assertBuilt, runCliAsync } from './cli-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-pap-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function envIn(dir: string): Record<string, string> {
  return { nnUNet_raw_data_base: path.join(dir, 'raw'), nnUNet_preprocessed: path.join(dir, 'pre'), RESULTS_FOLDER: path.join(dir, 'res'), NNUNET_LOG_LEVEL: 'warn' };
}

function assertPreprocessed(pre: string, cases: number): void {
  assert.ok(fs.existsSync(path.join(pre, 'dataset_properties.json')), 'fingerprint written');
  assert.ok(fs.existsSync(path.join(pre, 'nnUNetPlansv2.1_plans_3D.json')), '3D plans written');
  assert.ok(fs.existsSync(path.join(pre, 'nnUNetPlansv2.1_plans_2D.json')), '2D plans written');
  for (const stage of ['nnUNetData_plans_v2.1_stage0', 'nnUNetData_plans_v2.1_2D_stage0']) {
    assert.equal(fs.readdirSync(path.join(pre, stage)).filter((f) => f.endsWith('.npy')).length, cases, stage);
  }
}

test('plan-and-preprocess directly: fingerprint, plans and stage data of a 2-case task', { timeout: 120_000 }, async () => {
  assertBuilt();
  const dir = path.join(tmp, 'direct');
  const env = envIn(dir);
  const { taskName } = await writeDemoDataset(env.nnUNet_raw_data_base, { taskId: 961, cases: 2, testCases: 0 });
  const r = await runCliAsync(['plan-and-preprocess', '-t', '961', '--verify', '-p', '1', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const [out] = JSON.parse(r.stdout) as Array<{ task: string; verify: { ok: boolean }; plan: { configurations: string[] }; preprocess: unknown[] }>;
  assert.equal(out.task, taskName);
  assert.equal(out.verify.ok, true);
  assert.ok(out.plan.configurations.includes('2d') && out.plan.configurations.includes('3d_fullres'));
  assert.equal(out.preprocess.length, out.plan.configurations.length);
  assertPreprocessed(path.join(env.nnUNet_preprocessed, taskName), 2);
});

const skip = resolveTemporalBinary() ? false : 'no temporal CLI installed (npm run setup)';

test('plan-and-preprocess --via-temporal stops after preprocessing; a later run completes without redoing the fingerprint', { skip, timeout: 300_000 }, async () => {
  assertBuilt();
  const dir = path.join(tmp, 'temporal');
  const env = envIn(dir);
  const { taskName } = await writeDemoDataset(env.nnUNet_raw_data_base, { taskId: 962, cases: 5, testCases: 0 });
  const r = await runCliAsync(['plan-and-preprocess', '-t', '962', '--via-temporal', '-p', '1', '--json'], { env, timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  const [out] = JSON.parse(r.stdout) as Array<{ workflowId: string; attached: boolean; nodes: Array<{ id: string; kind: string; status: string; error?: string }> }>;
  assert.equal(out.workflowId, 'nnunet-task-962');
  assert.equal(out.attached, false);
  const byId = new Map(out.nodes.map((n) => [n.id, n]));
  for (const id of ['fingerprint', 'plan', 'preprocess/2d', 'preprocess/3d_fullres']) assert.equal(byId.get(id)?.status, 'done', id);
  // Planned configurations' training is skipped by the stop; unplanned ones (3d_lowres here) by planning.
  const train = out.nodes.filter((n) => n.kind === 'train' && /^train\/(2d|3d_fullres)\//.test(n.id));
  assert.equal(train.length, 10);
  for (const n of train) {
    assert.equal(n.status, 'skipped', n.id);
    assert.match(n.error ?? '', /stopped after preprocessing/);
  }
  const pre = path.join(env.nnUNet_preprocessed, taskName);
  assertPreprocessed(pre, 5);

  const fingerprint = path.join(pre, 'dataset_properties.json');
  const mtime = fs.statSync(fingerprint).mtimeMs;
  const run = await runCliAsync(['run', '-t', '962', '-c', '2d', '-f', '0', '--epochs', '1', '--iters', '1', '--no-find-best', '--json'], { env, timeoutMs: 240_000 });
  assert.equal(run.code, 0, run.stderr);
  const done = JSON.parse(run.stdout) as { status: string; state: { nodes: Array<{ id: string; status: string }> } };
  assert.equal(done.status, 'completed');
  assert.equal(done.state.nodes.find((n) => n.id === 'train/2d/0')?.status, 'done');
  assert.equal(fs.statSync(fingerprint).mtimeMs, mtime, 'the fingerprint was not computed again');
});
