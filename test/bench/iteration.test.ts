// `npm run bench -- iteration` on a tiny preprocessed task: every part is measured and both producer modes run.
// Runs from dist/ (spawns dist/bench/index.js).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { stageDataFolder } from '../../activities/io/layout';
import { readPlansFile } from '../../activities/planning/plans-file';
import { stages } from '../../activities/planning/plans';
import { tinyTrainingTask, type TinyTask } from '../training/trainer-fixture';

const BENCH_MAIN = path.join(__dirname, '..', '..', 'bench', 'index.js');
let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

test('iteration: batch parts, the step alone, and whole iterations in-thread and with a worker', () => {
  const plans = readPlansFile(task.plansFile);
  const dir = stageDataFolder(task.paths.preprocessedDir, plans.data_identifier, stages(plans).length - 1);
  const r = spawnSync(process.execPath, [BENCH_MAIN, 'iteration', task.plansFile, dir, '--iterations', '2', '--rounds', '1', '--threads', '1'],
    { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /3d_fullres patch 16x16x16 batch 2/);
  assert.match(r.stdout, /batch \(CPU ms\): load\+oversample +\d+ +augment +\d+ +layout\+DS targets +\d+/);
  assert.match(r.stdout, /step alone: tensor copy +\d+ ms +step +\d+ ms wall/);
  assert.match(r.stdout, /iteration, in-thread +: +\d+ ms wall/);
  assert.match(r.stdout, /iteration, 1 worker\(s\) : +\d+ ms wall .* waiting for the batch +\d+ ms/);
});
