/**
 * nnU-Net v2 model folders made by nnunetv2 / dynamic_network_architectures' own code
 * (test/fixtures/nnunet-v2-model, scripts/parity/make_v2_model.py): PlainConvUNet and ResidualEncoderUNet, 2d and
 * 3d_fullres, random weights. Loaded here, each gives PyTorch's raw logits for the same input within 1e-4.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { repoRoot } from '../../../config';
import { BadInputError } from '../../../activities/common/errors';
import { readNpySync } from '../../../activities/io/npy';
import { loadV2Model } from '../../../activities/network/v2/model-folder';

const FIXTURE = path.join(repoRoot(), 'test', 'fixtures', 'nnunet-v2-model');
const DATASET = path.join(FIXTURE, 'Dataset999_V2Tiny');
const MODELS = [
  { plans: 'nnUNetPlans', cfg: '2d', cls: 'PlainConvUNet', folds: [0, 1] },
  { plans: 'nnUNetPlans', cfg: '3d_fullres', cls: 'PlainConvUNet', folds: [0] },
  { plans: 'nnUNetResEncUNetMPlans', cfg: '2d', cls: 'ResidualEncoderUNet', folds: [0] },
  { plans: 'nnUNetResEncUNetMPlans', cfg: '3d_fullres', cls: 'ResidualEncoderUNet', folds: [0] },
];

before(async () => {
  await tf.setBackend('cpu');
});

/** Channels-first [1, C, ...spatial] ↔ channels-last [1, ...spatial, C]. */
const toChannelsLast = (t: tf.Tensor): tf.Tensor => tf.transpose(t, [0, ...Array.from({ length: t.rank - 2 }, (_, i) => i + 2), 1]);
const toChannelsFirst = (t: tf.Tensor): tf.Tensor => tf.transpose(t, [0, t.rank - 1, ...Array.from({ length: t.rank - 2 }, (_, i) => i + 1)]);

for (const m of MODELS) {
  test(`${m.cls} ${m.cfg} (${m.plans}) gives PyTorch's logits within 1e-4`, () => {
    const model = loadV2Model(path.join(DATASET, `nnUNetTrainer__${m.plans}__${m.cfg}`));
    try {
      assert.equal(model.description.spec.networkClass, m.cls);
      assert.equal(model.configurationName, m.cfg);
      assert.equal(model.trainerName, 'nnUNetTrainer');
      assert.deepEqual(model.folds, m.folds, 'every fold_N with checkpoint_final.pth');
      assert.deepEqual(model.mirrorAxes, m.cfg === '2d' ? [0, 1] : [0, 1, 2]);
      const expected = path.join(FIXTURE, 'expected', `${m.plans}__${m.cfg}`);
      const input = readNpySync(path.join(expected, 'input.npy'));
      const logits = readNpySync(path.join(expected, 'logits.npy'));
      const ours = tf.tidy(() => toChannelsFirst(model.networks[0]!.predict(toChannelsLast(tf.tensor(input.data as Float32Array, input.shape)))));
      assert.deepEqual(ours.shape, logits.shape);
      const got = ours.dataSync() as Float32Array;
      ours.dispose();
      let maxDiff = 0;
      let maxAbs = 0;
      (logits.data as Float32Array).forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - got[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(v));
      });
      assert.ok(maxAbs > 0.1, `the reference logits are not trivial (max |logit| ${maxAbs})`);
      assert.ok(maxDiff <= 1e-4, `max |ours - torch| = ${maxDiff}`);
    } finally {
      model.dispose();
    }
  });
}

test('a model folder whose checkpoint does not fit its plans is refused naming the file and the parameter', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v2-model-'));
  try {
    // the 2d PlainConvUNet's checkpoint beside the ResEnc plans: another network
    const model = path.join(dir, 'nnUNetTrainer__x__2d');
    fs.cpSync(path.join(DATASET, 'nnUNetTrainer__nnUNetResEncUNetMPlans__2d'), model, { recursive: true });
    fs.copyFileSync(path.join(DATASET, 'nnUNetTrainer__nnUNetPlans__2d', 'fold_0', 'checkpoint_final.pth'), path.join(model, 'fold_0', 'checkpoint_final.pth'));
    assert.throws(() => loadV2Model(model), (e: Error) => e instanceof BadInputError && /checkpoint_final\.pth: the network_weights lack encoder\.stem\.convs\.0\.conv\.weight/.test(e.message));
    assert.throws(() => loadV2Model(model, { checkpointName: 'checkpoint_best.pth' }), /no fold_N folder holds checkpoint_best\.pth/);
    fs.rmSync(path.join(model, 'plans.json'));
    assert.throws(() => loadV2Model(model), /plans\.json: missing; an nnU-Net v2 model folder holds plans\.json/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fold_all is loaded when asked for and left out of the automatic fold list, as nnUNetPredictor does', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v2-model-'));
  try {
    const model = path.join(dir, 'nnUNetTrainer__nnUNetPlans__3d_fullres');
    fs.cpSync(path.join(DATASET, 'nnUNetTrainer__nnUNetPlans__3d_fullres'), model, { recursive: true });
    fs.cpSync(path.join(model, 'fold_0'), path.join(model, 'fold_all'), { recursive: true });
    const all = loadV2Model(model, { folds: ['all'] });
    assert.deepEqual(all.checkpoints, [path.join(model, 'fold_all', 'checkpoint_final.pth')]);
    all.dispose();
    const auto = loadV2Model(model);
    assert.deepEqual(auto.folds, [0]);
    auto.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
