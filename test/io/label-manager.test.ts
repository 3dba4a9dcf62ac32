import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelManager, specialLabelSpec } from '../../activities/io/label-manager';
import { BadInputError } from '../../activities/common/errors';

const regions = new LabelManager({ labels: { background: 0, organ: [1, 2], lesion: [2], ignore: 3 }, regions_class_order: [1, 2] });
const plain = new LabelManager({ labels: { background: 0, organ: 1, lesion: 2, ignore: 3 } });

test('regions: one sigmoid head per foreground region, the ignore label apart', () => {
  assert.equal(regions.hasRegions, true);
  assert.equal(regions.hasIgnoreLabel, true);
  assert.equal(regions.ignoreLabel, 3);
  assert.deepEqual(regions.allLabels, [0, 1, 2]);
  assert.deepEqual(regions.foregroundRegions, [[1, 2], [2]]);
  assert.equal(regions.numSegmentationHeads, 2);
  assert.deepEqual(regions.labelsOrRegions, [[1, 2], [2]]);
  assert.deepEqual(regions.regionMembership().map((t) => Array.from(t)), [[0, 1, 1, 0], [0, 0, 1, 0]]);
});

test('plain labels with an ignore label: softmax over background + labels, ignore not a head', () => {
  assert.equal(plain.hasRegions, false);
  assert.equal(plain.numSegmentationHeads, 3);
  assert.deepEqual(plain.foregroundLabels, [1, 2]);
});

test('region probabilities are painted in regions_class_order (later over earlier), plain ones argmaxed', () => {
  // Two voxels: organ only; organ + lesion. Channel-first.
  assert.deepEqual(Array.from(regions.convertProbabilitiesToSegmentation(Float32Array.from([0.9, 0.8, 0.1, 0.7]), 2)), [1, 2]);
  assert.deepEqual(Array.from(regions.convertLogitsToSegmentation(Float32Array.from([-1, 2, -3, 0.5]), 2)), [0, 2]);
  assert.deepEqual(Array.from(plain.convertLogitsToSegmentation(Float32Array.from([0, 5, 1, 9, 2, 0]), 3)), [2, 1]);
});

test('inference nonlinearity: sigmoid for regions, softmax over channels for labels', () => {
  const s = regions.applyInferenceNonlin(Float32Array.from([0, 0]), 2);
  assert.deepEqual(Array.from(s), [0.5, 0.5]);
  const p = plain.applyInferenceNonlin(Float32Array.from([0, 0, 0]), 3);
  for (const v of p) assert.ok(Math.abs(v - 1 / 3) < 1e-6);
});

test('bad label definitions name the file and the fix', () => {
  const bad = (spec: ConstructorParameters<typeof LabelManager>[0], re: RegExp) =>
    assert.throws(() => new LabelManager(spec, 'x/dataset.json'), (e: unknown) => e instanceof BadInputError && re.test(e.message) && e.message.startsWith('x/dataset.json'));
  bad({ labels: { background: 0, a: [1, 2] } }, /regions_class_order is missing/);
  bad({ labels: { background: 0, a: [1, 2], b: 2 }, regions_class_order: [1] }, /1 entries but labels define 2/);
  bad({ labels: { background: 0, a: 1, ignore: 1 } }, /must be the highest integer label/);
  bad({ labels: { background: 0, a: 1, ignore: [4, 5] } }, /one integer/);
  bad({ labels: { a: 1 } }, /"background": 0/);
});

test('only regions or an ignore label make a label spec worth carrying into the plans', () => {
  assert.equal(specialLabelSpec({ background: 0, a: 1 }, undefined, 'd.json'), undefined);
  assert.ok(specialLabelSpec({ background: 0, a: 1, ignore: 2 }, undefined, 'd.json'));
  assert.ok(specialLabelSpec({ background: 0, a: [1, 2] }, [1], 'd.json'));
});
