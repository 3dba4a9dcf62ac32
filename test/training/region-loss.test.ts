/**
 * Region (Dice+BCE) and ignore-label losses against nnunetv2's own DC_and_BCE_loss / DC_and_CE_loss(ignore_label)
 * on a fixed batch; the expected values come from scripts/parity/region-loss.py (nnunetv2 2.8.1, torch 1.13).
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { diceBceLoss, diceCeLoss, regionTargets, segmentationLoss } from '../../activities/training/loss';
import { LabelManager } from '../../activities/io/label-manager';

before(async () => {
  await tf.setBackend('cpu');
});

const [B, H, W] = [2, 4, 5];
const n = B * H * W;
const IGNORE = 3;
const rawLabels = Array.from({ length: n }, (_, i) => (i * 7 + 3) % 4);
const logits = (channels: number) => tf.tensor(Array.from({ length: n * channels }, (_, i) => Math.fround(Math.sin(0.37 * i + 0.5) * 2)), [B, H, W, channels]);
const labels = (withIgnore: boolean) => tf.tensor(rawLabels.map((l) => (!withIgnore && l === IGNORE ? 0 : l)), [B, H, W], 'int32');

// regions (1, 2) and (2,), ignore label 3.
const manager = new LabelManager({ labels: { background: 0, a: [1, 2], b: [2], ignore: IGNORE }, regions_class_order: [1, 2] });
const regions = manager.regionMembership();

const EXPECTED = {
  regions: [0.48293736577033997, 0.4821792244911194],
  regionsIgnore: [1.331444501876831, 1.330583095550537],
  softmaxIgnore: [0.8417625427246094, 0.842096745967865],
};

for (const batchDice of [false, true]) {
  const i = Number(batchDice);
  test(`Dice+BCE over regions equals nnunetv2's DC_and_BCE_loss (batch Dice ${batchDice})`, () => {
    const value = diceBceLoss(logits(2), labels(false), { batchDice, regions }).dataSync()[0]!;
    assert.ok(Math.abs(value - EXPECTED.regions[i]!) < 1e-5, `${value} vs ${EXPECTED.regions[i]}`);
  });
  test(`Dice+BCE with the ignore label equals nnunetv2's use_ignore_label (batch Dice ${batchDice})`, () => {
    const value = segmentationLoss(logits(2), labels(true), { batchDice, regions, ignoreLabel: IGNORE }).dataSync()[0]!;
    assert.ok(Math.abs(value - EXPECTED.regionsIgnore[i]!) < 1e-5, `${value} vs ${EXPECTED.regionsIgnore[i]}`);
  });
  test(`Dice+CE with the ignore label equals nnunetv2's DC_and_CE_loss(ignore_label) (batch Dice ${batchDice})`, () => {
    const value = diceCeLoss(logits(3), labels(true), { batchDice, ignoreLabel: IGNORE }).dataSync()[0]!;
    assert.ok(Math.abs(value - EXPECTED.softmaxIgnore[i]!) < 1e-5, `${value} vs ${EXPECTED.softmaxIgnore[i]}`);
  });
}

test('region targets are np.isin(seg, region) per channel', () => {
  const t = regionTargets(tf.tensor([0, 1, 2, 3], [4], 'int32'), regions);
  assert.deepEqual(Array.from(t.dataSync()), [0, 0, 1, 0, 1, 1, 0, 0]);
});

test('ignore-label voxels do not change the loss, whatever the network says there', () => {
  const x = logits(3).arraySync() as number[][][][];
  const lab = rawLabels;
  let k = 0;
  for (const a of x) for (const b of a) for (const c of b) { if (lab[k++] === IGNORE) c.fill(37); }
  const before = diceCeLoss(logits(3), labels(true), { batchDice: false, ignoreLabel: IGNORE }).dataSync()[0]!;
  const after = diceCeLoss(tf.tensor(x), labels(true), { batchDice: false, ignoreLabel: IGNORE }).dataSync()[0]!;
  assert.ok(Math.abs(before - after) < 1e-6);
});

test('the gradient of the region loss reaches the logits and is zero on ignored voxels', () => {
  const x = logits(2);
  const g = tf.grad((v: tf.Tensor) => diceBceLoss(v, labels(true), { batchDice: true, regions, ignoreLabel: IGNORE }))(x);
  const grads = g.dataSync();
  rawLabels.forEach((l, v) => {
    for (let c = 0; c < 2; c++) if (l === IGNORE) assert.equal(grads[v * 2 + c], 0);
  });
  assert.ok(Array.from(grads).some((v) => v !== 0));
});
