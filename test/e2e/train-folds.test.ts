/**
 * nnU-Net's way of using five GPUs: `nnUNet_train 2d nnUNetTrainerV2 TASK F` for F = 0..4 in five shells at the same
 * moment. Each call trains exactly its own fold as its own durable workflow (one embedded server shared by all),
 * with the tiny budget set by environment variables (nnU-Net's command lines stay as they are). Then the recipes
 * on a finished fold: `-val --npz` re-exports the softmax, `-c` continues (returns at once), no `-c` starts over.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { assertBuilt, binShim, runCli } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type DataEnv } from './helpers';

const TASK = 903;
const FOLDS = [0, 1, 2, 3, 4];
const skip = temporalUnavailable() ?? false;
const dirs: DataEnv[] = [];
after(() => dirs.forEach((d) => d.remove()));

const foldDir = (d: DataEnv, task: string, f: number): string =>
  path.join(d.env.RESULTS_FOLDER, 'nnUNet', '2d', task, 'nnUNetTrainerV2__nnUNetPlansv2.1', `fold_${f}`);
const workflowId = (f: number): string => `nnunet-fold-${TASK}-2d-nnUNetTrainerV2__nnUNetPlansv2.1-${f}`;

test('five nnUNet_train calls for folds 0-4 at the same moment each train their own fold; -val --npz, -c and no -c on a finished fold', { skip, timeout: 1_500_000 }, async () => {
  assertBuilt();
  const d = makeDataEnv('folds');
  dirs.push(d);
  const { taskName } = await writeDemoDataset(d.env.nnUNet_raw_data_base, { taskId: TASK, cases: 5, testCases: 0 });
  const fold = (f: number): string => foldDir(d, taskName, f);
  // Budget: 1 epoch x 2 iterations; a worker that exits mid-training hands its fold on after 10 s without heartbeats.
  const env = { ...d.env, NNUNET_EPOCHS: '1', NNUNET_ITERATIONS_PER_EPOCH: '2', NNUNET_HEARTBEAT_TIMEOUT_SECONDS: '10' };

  const pp = runCli(['-t', String(TASK), '-pl3d', 'None', '-tf', '2'], { script: binShim('nnUNet_plan_and_preprocess'), env, timeoutMs: 300_000 });
  assert.equal(pp.status, 0, pp.stderr);

  const train = (f: number, ...flags: string[]) =>
    startCli(['2d', 'nnUNetTrainerV2', String(TASK), String(f), ...flags], env, 900_000, binShim('nnUNet_train'));
  const t0 = Date.now();
  const runs = await Promise.all(FOLDS.map((f) => train(f).done));
  console.log(`five folds at once: ${runs.map((r) => r.ms).join(' / ')} ms (wall ${Date.now() - t0} ms)`);
  console.log(`server hand-overs: ${runs.filter((r) => /handed over to that process/.test(r.stderr + r.stdout)).length}`);
  for (const [f, r] of runs.entries()) {
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, `fold ${f}:\n${out}`);
    assert.match(out, new RegExp(`nnUNet_train → nnunet train 2d nnUNetTrainerV2 ${TASK} ${f} --via-temporal`), out);
    assert.match(out, new RegExp(`(started|attached to) ${workflowId(f)}`), `its own fold workflow:\n${out}`);
    assert.deepEqual([...new Set(out.match(/nnunet-fold-[\w.-]+/g))], [workflowId(f)], 'no other fold');
    assert.match(out, new RegExp(`no -c: 2d fold ${f} starts over`));
    // Whoever finishes first hands the shared server on to a call still running: it never goes away under one.
    assert.doesNotMatch(out, /reattaching|Temporal server ready at .*[\s\S]*Temporal server ready at/, `one server for all five:\n${out}`);
    assert.ok(fs.existsSync(path.join(fold(f), 'model_final_checkpoint.model')), `fold ${f} trained`);
    assert.ok(fs.existsSync(path.join(fold(f), 'validation_raw', 'summary.json')), `fold ${f} validated`);
  }
  const npzIn = (f: number) => fs.readdirSync(path.join(fold(f), 'validation_raw')).filter((n) => n.endsWith('.npz'));
  assert.deepEqual(npzIn(0), [], 'no softmax without --npz');

  // -val --npz on the finished fold: validation only, now with the softmax (find-best needs it for ensembles).
  const finalBefore = fs.statSync(path.join(fold(0), 'model_final_checkpoint.model')).mtimeMs;
  const val = await train(0, '-val', '--npz').done;
  assert.equal(val.code, 0, val.stderr);
  assert.match(val.stdout, /-val: validating 2d fold 0 again from its final checkpoint/);
  assert.ok(npzIn(0).length > 0, `the softmax is exported:\n${val.stderr}`);
  assert.equal(fs.statSync(path.join(fold(0), 'model_final_checkpoint.model')).mtimeMs, finalBefore, 'nothing trained');

  // --npz with -c on a finished fold without softmax: the validation runs again to write it.
  const npz = await train(1, '-c', '--npz').done;
  assert.equal(npz.code, 0, npz.stderr);
  assert.match(npz.stdout, /-c: 2d fold 1 continues/);
  assert.ok(npzIn(1).length > 0, `--npz on a finished fold writes the softmax:\n${npz.stderr}`);

  // Without -c the finished fold starts over (nnU-Net trains from scratch): a new final checkpoint.
  const before = fs.statSync(path.join(fold(2), 'model_final_checkpoint.model')).mtimeMs;
  const again = await train(2).done;
  assert.equal(again.code, 0, again.stderr);
  assert.ok(fs.statSync(path.join(fold(2), 'model_final_checkpoint.model')).mtimeMs > before, 'trained again from scratch');
  assert.match(fs.readFileSync(path.join(fold(2), 'start_over.json'), 'utf8'), /"token"/);
});
