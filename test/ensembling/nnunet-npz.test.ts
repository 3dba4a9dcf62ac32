/**
 * nnU-Net v1's softmax folders (.npz float16 on the cropped grid + .pkl), written by nnU-Net's own code
 * (scripts/parity/make_npz_fixtures.py): we read them, ensemble them to nnU-Net's own ensemble, mix them with
 * ours, and nnU-Net's ensembling reads what we write (when /usr/bin/python3 has numpy and nnU-Net v1).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensembleFolders } from '../../activities/ensembling/ensemble';
import { findBest } from '../../activities/ensembling/find-best';
import { argmaxClasses, type Probabilities } from '../../activities/inference/export';
import { readSoftmax, segmentationFile, writeSoftmax } from '../../activities/inference/write-prediction';
import { foldFolder, modelFolder } from '../../activities/io/layout';
import { readNifti } from '../../activities/io/nifti';
import { floatToHalf, halfToFloat, readNpzArray } from '../../activities/io/npz';
import { readCasePropertiesPkl, writeCasePropertiesPkl } from '../../activities/io/nnunet-pickles';
import { repoRoot } from '../../config';
import { pythonLacks, runPython } from '../io/python-check';

const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'nnunet-npz');
const MODELS = ['model_a', 'model_b'].map((m) => path.join(FIXTURES, m));
const CASES = ['case_a', 'case_b'];
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-npz-'));

/** Voxels whose label differs, leaving out near-ties of the top two classes (float16 rounding decides those). */
function labelDifferences(ours: ArrayLike<number>, theirs: ArrayLike<number>, p: Probabilities): number[] {
  const n = p.shape[0] * p.shape[1] * p.shape[2];
  const bad: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ours[i] === theirs[i]) continue;
    const gap = Math.abs(p.data[ours[i] * n + i] - p.data[theirs[i] * n + i]);
    if (gap > 1e-3) bad.push(i);
  }
  return bad;
}

async function assertSameAsNnunet(outDir: string, expectedDir: string, mean: (id: string) => Probabilities): Promise<void> {
  for (const id of CASES) {
    const ours = await readNifti(segmentationFile(outDir, id));
    const theirs = await readNifti(segmentationFile(expectedDir, id));
    assert.deepEqual(ours.shape, theirs.shape, `${id}: shape`);
    assert.deepEqual(ours.geometry.origin, theirs.geometry.origin, `${id}: origin`);
    assert.deepEqual(ours.geometry.direction.map((v) => v + 0), theirs.geometry.direction.map((v) => v + 0), `${id}: direction`);
    ours.geometry.spacing.forEach((s, i) => assert.ok(Math.abs(s - theirs.geometry.spacing[i]) < 1e-6, `${id}: spacing`));
    assert.deepEqual(labelDifferences(ours.data as Uint8Array, theirs.data as Uint8Array, mean(id)), [], `${id}: labels as nnU-Net's`);
  }
}

function meanOf(folders: string[]): (id: string) => Probabilities {
  return (id) => {
    const ps = folders.map((d) => readSoftmax(d, id).probabilities);
    const data = ps[0].data.map((v, i) => ps.reduce((s, p) => s + p.data[i], 0) / ps.length);
    return { ...ps[0], data };
  };
}

test("nnU-Net's softmax .npz + .pkl read as probabilities on the image grid: its own label map comes back", async () => {
  for (const id of CASES) {
    const { probabilities, properties } = readSoftmax(MODELS[0], id);
    const seg = await readNifti(segmentationFile(MODELS[0], id));
    assert.deepEqual(probabilities.shape, seg.shape);
    assert.deepEqual(properties.original_size_of_raw_data, seg.shape);
    assert.notDeepEqual(properties.size_after_cropping, properties.original_size_of_raw_data, 'the fixture is cropped');
    assert.equal(probabilities.data[0], 1, 'background 1 outside the crop box');
    assert.deepEqual(labelDifferences(argmaxClasses(probabilities), seg.data as Uint8Array, probabilities), []);
  }
});

test("ensembling nnU-Net's folders gives nnU-Net's ensemble; a folder of ours mixes with one of nnU-Net's", async () => {
  const dir = tmp();
  const out = path.join(dir, 'out');
  const r = await ensembleFolders(MODELS, out, { saveNpz: true });
  assert.deepEqual(r.cases, CASES);
  await assertSameAsNnunet(out, path.join(FIXTURES, 'expected'), meanOf(MODELS));
  assert.ok(fs.existsSync(path.join(out, 'case_a.pkl')), 'the averaged softmax comes with its .pkl');

  // model_b rewritten by us (float16 on the cropped grid again: the same numbers), ensembled with nnU-Net's model_a
  const ours = path.join(dir, 'ours_b');
  fs.mkdirSync(ours);
  for (const id of CASES) {
    const { probabilities, properties } = readSoftmax(MODELS[1], id);
    writeSoftmax(ours, id, probabilities, properties);
    assert.deepEqual(Array.from(readNpzArray(path.join(ours, `${id}.npz`), 'softmax').data), Array.from(readNpzArray(path.join(MODELS[1], `${id}.npz`), 'softmax').data));
  }
  const mixed = path.join(dir, 'mixed');
  await ensembleFolders([MODELS[0], ours], mixed);
  await assertSameAsNnunet(mixed, path.join(FIXTURES, 'expected'), meanOf(MODELS));
});

test("find-best ensembles folds whose validation_raw nnU-Net wrote (.npz + .pkl, no .json)", async () => {
  const root = tmp();
  const rawDir = path.join(root, 'raw', 'Task097_Npz');
  fs.mkdirSync(rawDir, { recursive: true });
  fs.writeFileSync(path.join(rawDir, 'dataset.json'), JSON.stringify({ name: 'Npz', modality: { '0': 'MR' }, labels: { '0': 'background', '1': 'a', '2': 'b' }, numTraining: 0, training: [], test: [] }));
  const paths = { taskName: 'Task097_Npz', rawDir, croppedDir: path.join(root, 'cropped'), preprocessedDir: path.join(root, 'pp'), resultsDir: path.join(root, 'results') };
  // references: nnU-Net's own ensemble, so the ensemble candidate scores Dice 1 exactly when it matches nnU-Net's
  fs.cpSync(path.join(FIXTURES, 'expected'), path.join(paths.preprocessedDir, 'gt_segmentations'), { recursive: true });
  const configurations = ['2d', '3d_fullres'] as const;
  configurations.forEach((c, k) => fs.cpSync(MODELS[k], path.join(foldFolder(modelFolder(paths, c, 'nnUNetTrainerV2', 'nnUNetPlansv2.1'), 0), 'validation_raw'), { recursive: true }));
  const r = await findBest({ paths, trainer: 'nnUNetTrainerV2', plansIdentifier: 'nnUNetPlansv2.1', configurations: [...configurations], folds: [0], strict: true });
  const ensemble = r.candidates.find((c) => c.configurations.length === 2);
  assert.ok(ensemble, `an ensemble candidate (skipped: ${r.skipped.join('; ')})`);
  assert.deepEqual(ensemble.dicePerClass, { '1': 1, '2': 1 });
});

test('a folder without properties, or a region-based .pkl beside softmax ones, is refused naming the file', async () => {
  const dir = tmp();
  const [a, b] = ['a', 'b'].map((d) => path.join(dir, d));
  for (const d of [a, b]) fs.cpSync(MODELS[0], d, { recursive: true });
  fs.rmSync(path.join(b, 'case_a.pkl'));
  await assert.rejects(ensembleFolders([a, b], path.join(dir, 'out')), /b\/case_a\.pkl: missing .*--save_npz/);
  writeCasePropertiesPkl(path.join(b, 'case_a.pkl'), { ...readCasePropertiesPkl(path.join(a, 'case_a.pkl')), regions_class_order: [1, 2] });
  await assert.rejects(ensembleFolders([a, b], path.join(dir, 'out')), /b\/case_a\.pkl: a region-based prediction or not \(regions_class_order \[1,2\]\) unlike/);
});

test('floatToHalf rounds to nearest even like numpy (ties, subnormals, overflow, NaN)', () => {
  const cases: Array<[number, number]> = [
    [0, 0], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -26, 0x0001], [2 ** -14, 0x0400],
  ];
  for (const [x, bits] of cases) assert.equal(floatToHalf(x), bits, `${x}`);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  for (let i = 0; i < 2000; i++) {
    const x = Math.fround((i / 2000) ** 3);
    const back = halfToFloat(floatToHalf(x));
    assert.ok(Math.abs(back - x) <= Math.max(x * 2 ** -11, 2 ** -25), `${x} -> ${back}`);
  }
});

const lacks = pythonLacks(['numpy', 'nnunet.inference.ensemble_predictions']);
test("nnU-Net's ensembling reads the softmax folders we write and agrees with ours", { skip: lacks }, async () => {
  const dir = tmp();
  const folders = ['ours_a', 'ours_b'].map((d) => path.join(dir, d));
  for (const [k, d] of folders.entries()) {
    fs.mkdirSync(d);
    for (const id of CASES) {
      const { probabilities, properties } = readSoftmax(MODELS[k], id);
      writeSoftmax(d, id, probabilities, properties);
    }
  }
  const ours = path.join(dir, 'ours_ensemble');
  await ensembleFolders(folders, ours);
  const theirs = path.join(dir, 'nnunet_ensemble');
  const report = runPython(`
import sys, pickle, collections, numpy as np
from nnunet.inference.ensemble_predictions import merge
a, b, out = sys.argv[1:4]
sm = np.load(a + '/case_a.npz')['softmax']
props = pickle.load(open(a + '/case_a.pkl', 'rb'))
print('KINDS', sm.dtype, sm.shape, tuple(props['size_after_cropping']), type(props).__name__, type(props['itk_origin']).__name__)
import hashlib
x = np.arange(0x33000000, 0x47800000, 997, dtype=np.uint32).view(np.float32)
print('HALF', hashlib.sha256(x.astype(np.float16).tobytes()).hexdigest())
merge([a, b], out, 1, override=True, postprocessing_file=None, store_npz=False)
`, [...folders, theirs]);
  const line = (tag: string) => report.split('\n').find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1);
  assert.equal(line('KINDS'), 'float16 (3, 6, 8, 9) (6, 8, 9) OrderedDict tuple');
  const bits = Uint32Array.from({ length: Math.ceil((0x47800000 - 0x33000000) / 997) }, (_, i) => 0x33000000 + 997 * i);
  const halves = Uint16Array.from(new Float32Array(bits.buffer), floatToHalf);
  assert.equal(line('HALF'), createHash('sha256').update(new Uint8Array(halves.buffer)).digest('hex'), "numpy's float16 rounding of the same floats");
  await assertSameAsNnunet(ours, theirs, meanOf(folders));
});
