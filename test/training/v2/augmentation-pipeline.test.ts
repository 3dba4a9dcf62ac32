// The v2 training transforms as a whole (activities/training/v2/augmentation/pipeline.ts) and in the batch workers.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../../activities/io/npy';
import { augmentSampleV2, toAugmentationV2, type AugmentationV2 } from '../../../activities/training/v2/augmentation/pipeline';
import { applySpatialV2, asDummy2D, sampleSpatialV2 } from '../../../activities/training/v2/augmentation/spatial';
import { Rng } from '../../../activities/training/augmentation/random';
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

test('the batch workers run the v2 transforms (thread and in-process give the same batches)', async () => {
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
  const params = setupAugmentationParams({ patch_size: [8, 12, 8], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2]] });
  const opts = (numWorkers: number) => ({
    loader: { dir, caseIds: ['a'], patchSize: params.generatorPatchSize, finalPatchSize: params.patchSize, batchSize: 2 },
    augmentation: toAugmentationV2(params), deepSupervisionScales: params.deepSupervisionScales, seed: 5, queueSize: 2, numWorkers,
  });
  const threaded = new BatchProducer(opts(1));
  const inline = new BatchProducer(opts(0));
  for (let i = 0; i < 3; i++) {
    const a = await threaded.next(), b = await inline.next();
    assert.deepEqual(a.dataShape, [2, 8, 12, 8, 1]);
    assert.deepEqual(a.targets.map((t) => t.shape), [[2, 8, 12, 8], [2, 4, 6, 4]]);
    assert.deepEqual(a.data, b.data);
    assert.deepEqual(a.targets[0]!.data, b.targets[0]!.data);
  }
  await threaded.close();
  await inline.close();
});
