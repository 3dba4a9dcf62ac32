/**
 * nnU-Net v2's predictor from raw images (inference/v2/predict-files.ts, export.ts) against nnunetv2's own
 * prediction of the same raw two-channel case through the same model folders (test/fixtures/nnunet-v2-model/predict,
 * scripts/parity/make_v2_prediction.py): preprocessing with the model's plans (transpose, crop, resampling), the
 * sliding window, the logits resampled back, the crop and transpose reverted, the raw geometry kept.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { repoRoot } from '../../config';
import { readNiftiSync } from '../../activities/io/nifti';
import { readNpzArray } from '../../activities/io/npz';
import { readPickle } from '../../activities/io/pickle';
import { loadV2Model } from '../../activities/network/v2/model-folder';
import { predictFilesV2, rawCasesInFolder } from '../../activities/inference/v2/predict-files';
import { inferenceNonlin, segmentationOf } from '../../activities/inference/v2/export';
import { doubleToHalf, toHalf } from '../../activities/inference/v2/half';

const FIXTURE = path.join(repoRoot(), 'test', 'fixtures', 'nnunet-v2-model');
const PREDICT = path.join(FIXTURE, 'predict');

before(async () => {
  await tf.setBackend('cpu');
});

test('softmax, sigmoid regions and argmax as LabelManager', () => {
  const logits = Float32Array.from([0, 2, 1, 1, 0, 3]); // 3 classes x 2 voxels
  const p = inferenceNonlin(logits, 3, false);
  assert.ok(Math.abs(p[0]! + p[2]! + p[4]! - 1) < 1e-6);
  assert.deepEqual([...segmentationOf(logits, 3)], [1, 2]);
  assert.deepEqual([...segmentationOf(Float32Array.from([1, 1, 1, 1]), 2)], [0, 0], 'ties: the first class');
  // regions (whole, core): a voxel in both gets the later region's label
  const regions = inferenceNonlin(Float32Array.from([3, 3, -3, 3]), 2, true);
  assert.deepEqual([...segmentationOf(regions, 2, [1, 2])], [1, 2]);
});

test('float64 -> float16 rounds once, as numpy\'s astype (values from numpy 1.24)', () => {
  const cases: Array<[number, number]> = [
    [1 + 2 ** -11, 1], [1 + 3 * 2 ** -11, 1.001953125], [65519, 65504], [65520, Infinity], [2 ** -25, 0],
    [3 * 2 ** -25, 1.1920928955078125e-7], [-2.5e-5, -2.4974346160888672e-5], [1e-8, 0], [3.14159265358979, 3.140625],
  ];
  for (const [x, half] of cases) assert.equal(doubleToHalf(x), half, String(x));
  const x = 1 + 2 ** -11 + 2 ** -40; // float32 drops 2^-40, leaving a tie that rounds down
  assert.equal(doubleToHalf(x), 1.0009765625);
  assert.equal(toHalf(x), 1);
});

/** v2's pickled properties with tuples as arrays and floats as numbers. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_, x) => (x instanceof Map ? Object.fromEntries(x) : typeof x === 'object' && x !== null && 'value' in x ? x.value : x)));

for (const c of [
  { model: 'nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres', probabilities: true },
  { model: 'nnUNetTrainer__nnUNetPlans__2d', probabilities: false },
  // region-based: sigmoid outputs (whole = 1|2, core = 2), regions_class_order [1, 2]; made by make_v2_prediction.py
  { model: 'nnUNetTrainer__nnUNetPlans__3d_fullres_regions', probabilities: true, root: PREDICT },
]) {
  test(`${c.model}: a raw case predicted as nnunetv2's nnUNetPredictor does`, async (t) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'v2-predict-'));
    const model = loadV2Model(path.join(c.root ?? FIXTURE, 'Dataset999_V2Tiny', c.model));
    try {
      const cases = rawCasesInFolder(path.join(PREDICT, 'raw'), '.nii.gz', 2);
      assert.deepEqual(cases.map((k) => k.caseId), ['case_001']);
      await predictFilesV2(model, cases, out, { saveProbabilities: c.probabilities });
      const expectedDir = path.join(PREDICT, 'expected', c.model);
      const ours = readNiftiSync(path.join(out, 'case_001.nii.gz'));
      const theirs = readNiftiSync(path.join(expectedDir, 'case_001.nii.gz'));
      assert.deepEqual(ours.shape, theirs.shape);
      assert.equal(ours.dtype, 'uint8');
      assert.deepEqual(ours.geometry, theirs.geometry);
      const differing = [...theirs.data].filter((v, i) => ours.data[i] !== v).length;
      assert.equal(differing, 0, `${differing} labels differ`);
      if (!c.probabilities) return;
      const p = readNpzArray(path.join(out, 'case_001.npz'), 'probabilities');
      const q = readNpzArray(path.join(expectedDir, 'case_001.npz'), 'probabilities');
      assert.deepEqual(p.shape, q.shape);
      let worst = 0;
      q.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(Number(v) - Number(p.data[i]))); });
      t.diagnostic(`largest probability difference ${worst.toExponential(2)} over ${q.data.length} values`);
      assert.ok(worst <= 1e-3, `largest probability difference ${worst}`);
      assert.deepEqual(plain(readPickle(path.join(out, 'case_001.pkl'))), plain(readPickle(path.join(expectedDir, 'case_001.pkl'))));
    } finally {
      model.dispose();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
}

test('a cascade stage: the previous stage\'s segmentation cropped and resampled with the case, one-hot on the image, as nnunetv2', async () => {
  const cascade = 'nnUNetTrainer__nnUNetPlans__3d_cascade_fullres';
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'v2-cascade-'));
  const model = loadV2Model(path.join(PREDICT, 'Dataset999_V2Tiny', cascade));
  try {
    assert.equal(model.description.inChannels, 4, 'two channels + two foreground labels');
    const [rawCase] = rawCasesInFolder(path.join(PREDICT, 'raw'), '.nii.gz', 2);
    await assert.rejects(predictFilesV2(model, [rawCase!], out), /cascade stage .*-prev_stage_predictions/);
    const previousStage = path.join(PREDICT, 'expected', 'nnUNetTrainer__nnUNetResEncUNetMPlans__3d_fullres', 'case_001.nii.gz');
    await predictFilesV2(model, [{ ...rawCase!, previousStage }], out);
    const ours = readNiftiSync(path.join(out, 'case_001.nii.gz'));
    const theirs = readNiftiSync(path.join(PREDICT, 'expected', cascade, 'case_001.nii.gz'));
    assert.deepEqual([...ours.data], [...theirs.data]);
  } finally {
    model.dispose();
    fs.rmSync(out, { recursive: true, force: true });
  }
});
