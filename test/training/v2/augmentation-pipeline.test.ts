// The v2 training transforms as a whole (activities/training/v2/augmentation/pipeline.ts) and in the batch workers.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../../activities/io/npy';
import { segFromPrevStageFile } from '../../../activities/io/layout';
import { augmentSampleV2, toAugmentationV2, type AugmentationV2 } from '../../../activities/training/v2/augmentation/pipeline';
import { applySpatialV2, asDummy2D, sampleSpatialV2 } from '../../../activities/training/v2/augmentation/spatial';
import { Rng } from '../../../activities/training/augmentation/random';
import { moveSegAsOneHotToData } from '../../../activities/training/augmentation/pipeline';
import { CASCADE_AUGMENTATION_V2, cascadeAugmentationV2 } from '../../../activities/training/v2/cascade-transforms';
import { BatchProducer } from '../../../activities/training/batch-worker';
import { setupAugmentationParams } from '../../../activities/training/patch-size';
import type { Channels } from '../../../activities/training/augmentation/spatial';

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function config(patch: number[], dummy2D = false, all = false): AugmentationV2 {
  const params = setupAugmentationParams({ patch_size: patch, do_dummy_2D_data_aug: dummy2D, pool_op_kernel_sizes: [patch.map(() => 2)] });
  const cfg = toAugmentationV2(params);
  return all ? { ...cfg, spatial: { ...cfg.spatial, pRotation: 1, pScaling: 1 } } : cfg;
}

/** Image channel 0: the slice index + 1 everywhere in its slice; seg: labels -1..2 in blocks. */
function sample(shape: number[], channels = 2): { image: Channels; seg: Channels } {
  const n = shape.reduce((a, b) => a * b, 1);
  const plane = n / shape[0]!;
  const image = Float32Array.from({ length: channels * n }, (_, i) => (i < n ? Math.floor(i / plane) + 1 : Math.sin(i)));
  const seg = Float32Array.from({ length: n }, (_, i) => (Math.floor(i / 7) % 4) - 1);
  return { image: { data: image, channels, shape }, seg: { data: seg, channels: 1, shape } };
}

test('v2 transforms: network patch out, labels ≥ 0 from the input, same seed ⇒ same sample', () => {
  const cfg = config([8, 10, 6], false, true);
  const run = (seed: number) => {
    const rng = Rng.seeded(seed);
    return Array.from({ length: 6 }, () => { const s = sample([14, 16, 12]); return augmentSampleV2(s.image, s.seg, cfg, rng); });
  };
  const a = run(1), b = run(1);
  for (const [k, r] of a.entries()) {
    assert.deepEqual(r.image.shape, [8, 10, 6]);
    assert.equal(r.image.data.length, 2 * 480);
    assert.ok(r.seg.data.every((v) => [0, 1, 2].includes(v)));
    assert.ok(r.image.data.every(Number.isFinite));
    assert.deepEqual(r.image.data, b[k]!.image.data);
  }
});

test('v2 dummy 2D: the first axis is kept (never mixed by the 2D rotation), any spatial draw', () => {
  const cfg = config([4, 16, 14], true, true);
  assert.equal(cfg.dummy2D, true);
  const rng = Rng.seeded(2);
  const plane = 16 * 14;
  for (let k = 0; k < 8; k++) {
    const s = sample([4, 20, 18], 1);
    const params = sampleSpatialV2(cfg.spatial, 2, rng);
    assert.notEqual(params, null);
    const r = asDummy2D(s.image, s.seg, (i, g) => applySpatialV2(i, g, [16, 14], params));
    assert.deepEqual(r.image.shape, [4, 16, 14]);
    for (let z = 0; z < 4; z++) {
      const v = r.image.data.subarray(z * plane, (z + 1) * plane);
      // slice z holds z + 1 (zeros padding may blend in at the rim), never another slice's value
      assert.ok(v.every((x) => x >= 0 && x <= z + 1 + 1e-6));
      assert.ok(v.some((x) => Math.abs(x - (z + 1)) < 1e-6));
    }
  }
});

/** A cascade sample: seg channel 1 is the previous stage's seg (blobs of labels 1 and 2, -1 in the loader's padding). */
function cascadeSample(shape: number[]): { image: Channels; seg: Channels } {
  const s = sample(shape, 1);
  const n = s.seg.data.length;
  const [, Y, X] = shape as [number, number, number];
  const prev = Float32Array.from({ length: n }, (_, i) => {
    const [z, y, x] = [Math.floor(i / (Y * X)), Math.floor(i / X) % Y, i % X];
    if (z === 0) return -1;
    return (Math.floor(y / 4) + Math.floor(x / 5)) % 3;
  });
  const seg = new Float32Array(2 * n);
  seg.set(s.seg.data);
  seg.set(prev, n);
  return { image: s.image, seg: { data: seg, channels: 2, shape } };
}

test('v2 cascade: both seg channels through the transforms, then one-hot of the previous stage and the two random cascade transforms', () => {
  const cfg = { ...config([8, 10, 6], false, true), cascadeLabels: [1, 2] };
  const rng = Rng.seeded(7), ref = Rng.seeded(7);
  let altered = 0;
  for (let k = 0; k < 12; k++) {
    const r = augmentSampleV2(cascadeSample([14, 16, 12]).image, cascadeSample([14, 16, 12]).seg, cfg, rng);
    // the same draws step by step: the transforms without the cascade (2 seg channels kept), then its steps
    const plain = augmentSampleV2(cascadeSample([14, 16, 12]).image, cascadeSample([14, 16, 12]).seg, { ...cfg, cascadeLabels: [] }, ref);
    assert.equal(plain.seg.channels, 2);
    assert.ok(plain.seg.data.every((v) => [0, 1, 2].includes(v)), 'RemoveLabel clears -1 in both channels');
    const oneHot = moveSegAsOneHotToData(plain.image, plain.seg, [1, 2]);
    const unaugmented = Float32Array.from(oneHot.image.data);
    cascadeAugmentationV2(oneHot.image, 2, CASCADE_AUGMENTATION_V2, ref);
    assert.deepEqual(r.image.data, oneHot.image.data);
    assert.deepEqual(r.seg.data, oneHot.seg.data);
    assert.deepEqual([r.image.channels, r.seg.channels, r.image.shape], [3, 1, [8, 10, 6]]);
    const n = 480;
    for (let i = 0; i < n; i++) {
      const [a, b] = [r.image.data[n + i]!, r.image.data[2 * n + i]!];
      assert.ok([a, b].every((v) => v === 0 || v === 1) && a + b <= 1, 'one-hot channels stay binary and disjoint');
    }
    if (r.image.data.some((v, i) => v !== unaugmented[i])) altered++;
  }
  assert.ok(altered > 0, 'the random binary operator / component removal changed some sample');
});

for (const cascade of [false, true]) {
  test(`the batch workers run the v2 transforms${cascade ? ' for the cascade' : ''} (thread and in-process give the same batches)`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-bgv2-'));
    dirs.push(dir);
    const [Z, Y, X] = [16, 20, 18];
    const n = Z * Y * X;
    const data = new Float32Array(2 * n);
    const locs: number[][] = [];
    for (let i = 0; i < n; i++) {
      data[i] = Math.sin(i * 0.1);
      const z = Math.floor(i / (Y * X));
      data[n + i] = z >= 6 && z < 9 ? 1 : 0;
      if (data[n + i]) locs.push([z, Math.floor(i / X) % Y, i % X]);
    }
    fs.writeFileSync(path.join(dir, 'a.npy'), encodeNpy({ data, shape: [2, Z, Y, X], dtype: 'float32' }));
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ class_locations: { '1': locs } }));
    // the previous stage: label 1 where the target is, shifted one slice (so it differs from the target)
    const prev = Uint8Array.from({ length: n }, (_, i) => (Math.floor(i / (Y * X)) >= 5 && Math.floor(i / (Y * X)) < 9 ? 1 : 0));
    if (cascade) fs.writeFileSync(segFromPrevStageFile(dir, 'a'), encodeNpy({ data: prev, shape: [Z, Y, X], dtype: 'uint8' }));
    const cascadeLoader = cascade ? { previousStageDir: dir, previousStagePad: -1 as const } : {};
    const params = setupAugmentationParams({ patch_size: [8, 12, 8], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2]] });
    const opts = (numWorkers: number) => ({
      loader: { dir, caseIds: ['a'], patchSize: params.generatorPatchSize, finalPatchSize: params.patchSize, batchSize: 2, ...cascadeLoader },
      augmentation: { ...toAugmentationV2(params), cascadeLabels: cascade ? [1] : [] }, deepSupervisionScales: params.deepSupervisionScales, seed: 5, queueSize: 2, numWorkers,
    });
    const threaded = new BatchProducer(opts(1));
    const inline = new BatchProducer(opts(0));
    let previousStageVoxels = 0;
    for (let i = 0; i < 3; i++) {
      const a = await threaded.next(), b = await inline.next();
      assert.deepEqual(a.dataShape, [2, 8, 12, 8, cascade ? 2 : 1], 'channels last: image (+ one-hot previous stage)');
      assert.deepEqual(a.targets.map((t) => t.shape), [[2, 8, 12, 8], [2, 4, 6, 4]]);
      assert.deepEqual(a.data, b.data);
      assert.deepEqual(a.targets[0]!.data, b.targets[0]!.data);
      if (cascade) previousStageVoxels += a.data.filter((v, k) => k % 2 === 1 && v === 1).length;
    }
    assert.equal(previousStageVoxels > 0, cascade, 'the one-hot previous stage reaches the network input');
    await threaded.close();
    await inline.close();
  });
}
