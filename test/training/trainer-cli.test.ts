import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { assertBuilt, runCliAsync } from '../client/cli-helpers';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
let env: Record<string, string>;
before(async () => {
  assertBuilt();
  task = await tinyTrainingTask();
  env = { nnUNet_raw_data_base: path.join(task.root, 'raw'), nnUNet_preprocessed: path.join(task.root, 'preprocessed'), RESULTS_FOLDER: path.join(task.root, 'results') };
});
after(() => task?.cleanup());

test('nnunet train: usage errors exit 2 before any work', async () => {
  const badFold = await runCliAsync(['train', '3d_fullres', 'nnUNetTrainerV2', '990', '7'], { env });
  assert.equal(badFold.code, 2);
  assert.match(badFold.stderr, /FOLD must be 0-4 or 'all'/);
  const badConfig = await runCliAsync(['train', '3d_full', 'nnUNetTrainerV2', '990', '0'], { env });
  assert.equal(badConfig.code, 2);
  assert.match(badConfig.stderr, /unknown configuration '3d_full'/);
  const noPlans = await runCliAsync(['train', '3d_fullres', 'nnUNetTrainerV2', '990', '0', '--plans-identifier', 'nnUNetPlansOther'], { env });
  assert.equal(noPlans.code, 2);
  assert.match(noPlans.stderr, /nnUNetPlansOther_plans_3D\.json: no such plans file/);
});

test('nnunet train trains a fold (JSON result), and the same command again returns the finished fold', async () => {
  const args = ['train', '3d_fullres', 'nnUNetTrainerV2', '990', '1', '--epochs', '2', '--iters', '2', '--json'];
  const r = await runCliAsync(args, { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, 'done');
  assert.equal(out.epochs, 2);
  assert.match(out.foldDir, /3d_fullres[/\\]Task990_Demo[/\\]nnUNetTrainerV2__nnUNetPlansv2\.1[/\\]fold_1$/);
  const again = await runCliAsync(args, { env });
  assert.equal(again.code, 0);
  assert.deepEqual(JSON.parse(again.stdout), out);
});
