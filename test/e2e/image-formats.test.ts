/**
 * Datasets in other image formats through the whole pipeline: the 2D PNG demo and the .mha demo each go through
 * `nnunet run -t ID -c 2d` with a tiny budget (verify → fingerprint → plan → preprocess → 5 folds → find-best →
 * postprocessing → the test set); the run exits 0 and the test case's prediction has the raw image's grid and
 * geometry as the registry reads it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { geometryDifferences } from '../../activities/io/geometry';
import { readImageFile } from '../../activities/io/image-formats/registry';
import { readNifti } from '../../activities/io/nifti';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type DataEnv } from './helpers';

const skip = temporalUnavailable() ?? false;
let data: DataEnv;

before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('image-formats');
});
after(() => data?.remove());

for (const [flag, id, name, ending] of [['--2d-png', '945', 'Task945_Demo2dPng', '.png'], ['--mha', '946', 'Task946_DemoMha', '.mha']] as const) {
  // The .mha run is the long one (3D cases, 5 folds): it runs with the audits (NNUNET_AUDIT=1).
  const long = flag === '--mha' && process.env.NNUNET_AUDIT !== '1' ? 'a long end-to-end run: set NNUNET_AUDIT=1 (with the audits)' : false;
  test(`${flag} demo end to end through nnunet run`, { skip: skip || long, timeout: 480_000 }, async () => {
    const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn', NNUNET_EPOCHS: '1', NNUNET_ITERATIONS_PER_EPOCH: '2' };
    const demo = await startCli(['demo-dataset', '-t', id, flag, '--cases', '5', '--test-cases', '1'], env).done;
    assert.equal(demo.code, 0, demo.stderr);
    const run = await startCli(['run', '-t', id, '-c', '2d'], env, 460_000).done;
    console.log(`nnunet run ${flag}: exit ${run.code} in ${run.ms} ms`);
    assert.equal(run.code, 0, `run exits 0\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`task ${name} completed in [\\d.]+ s`));
    const out = /test set predicted: 1 cases -> (\S+)\n/.exec(run.stdout);
    assert.ok(out, `the test set is predicted\n${run.stdout}`);
    const raw = await readImageFile(path.join(data.env.nnUNet_raw_data_base, 'nnUNet_raw_data', name, 'imagesTs', `demo_test_000_0000${ending}`));
    const predFile = path.join(out[1], 'demo_test_000.nii.gz');
    assert.ok(fs.existsSync(predFile), predFile);
    const pred = await readNifti(predFile);
    assert.deepEqual(pred.shape, raw.shape.slice(-3));
    assert.deepEqual(geometryDifferences(pred.geometry, raw.geometry), []);
  });
}
