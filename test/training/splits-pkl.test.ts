/**
 * nnU-Net's splits_final.pkl: used when present (it wins over splits_final.json, docs/interop.md), validated
 * like the JSON, and a custom one changes the cases a fold trains and validates on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError } from '../../activities/common/errors';
import { splitsFile, splitsPklFile } from '../../activities/io/layout';
import { writeSplitsPkl } from '../../activities/io/nnunet-pickles';
import { createDefaultSplits, loadOrCreateSplits, writeSplitsFile } from '../../activities/training/splits';
import { runTrainingFold } from '../../activities/training/train-fold';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

test('splits_final.pkl wins over splits_final.json and is validated against the cases', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splits-pkl-'));
  try {
    const cases = ['a', 'b', 'c', 'd', 'e', 'f'];
    const json = splitsFile({ preprocessedDir: dir });
    const pkl = splitsPklFile({ preprocessedDir: dir });
    writeSplitsFile(json, createDefaultSplits(cases));
    const custom = [{ train: ['a', 'b', 'c'], val: ['d'] }, { train: ['d', 'e'], val: ['f', 'a'] }];
    writeSplitsPkl(pkl, custom);
    assert.deepEqual(loadOrCreateSplits(json, cases), custom);
    fs.rmSync(json);
    assert.deepEqual(loadOrCreateSplits(json, cases), custom);
    assert.ok(!fs.existsSync(json), 'no JSON default is written while the .pkl decides');
    writeSplitsPkl(pkl, [{ train: ['a', 'zz'], val: ['d'] }]);
    assert.throws(() => loadOrCreateSplits(json, cases), (e: unknown) => e instanceof BadInputError && e.message.startsWith(`${pkl}: fold 0 train lists unknown case 'zz'`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

test('a custom splits_final.pkl changes the cases fold 0 trains and validates on', async () => {
  const ids = caseIdsOf(task);
  const defaultVal = createDefaultSplits(ids)[0]!.val;
  const val = ids.filter((id) => !defaultVal.includes(id)).slice(0, 2);
  writeSplitsPkl(splitsPklFile(task.paths), [{ train: ids.filter((id) => !val.includes(id)), val }]);
  const r = await runTrainingFold({
    paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer: 'nnUNetTrainerV2',
    epochs: 1, iterationsPerEpoch: 1, runtime: { seed: 7, validationTta: false },
  });
  assert.equal(r.status, 'done');
  if (r.status !== 'done') return;
  const predicted = fs.readdirSync(path.join(r.foldDir, 'validation_raw')).filter((f) => f.endsWith('.nii.gz')).sort();
  assert.deepEqual(predicted, val.map((id) => `${id}.nii.gz`).sort());
});

/** The preprocessed case ids of the tiny task (the <case>.npy files of its 3D stage folder, as training lists them). */
function caseIdsOf(t: TinyTask): string[] {
  const dataDir = fs.readdirSync(t.paths.preprocessedDir, { withFileTypes: true }).find((e) => e.isDirectory() && e.name.endsWith('_stage0'));
  assert.ok(dataDir, 'the tiny task has a 3D stage folder');
  return fs.readdirSync(path.join(t.paths.preprocessedDir, dataDir.name)).filter((f) => f.endsWith('.npy')).map((f) => f.slice(0, -4)).sort();
}
