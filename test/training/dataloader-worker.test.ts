import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../activities/io/npy';
import { BatchProducer, producerOptionsForStage, toChannelsLast, type BatchProducerOptions } from '../../activities/training/batch-worker';
import { setupAugmentationParams } from '../../activities/training/patch-size';
import { BadInputError } from '../../activities/common/errors';

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function stage(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-bw-'));
  dirs.push(dir);
  for (const [id, s] of [['a', 3], ['b', 5]] as const) {
    const [Z, Y, X] = [16, 20, 18];
    const n = Z * Y * X;
    const data = new Float32Array(2 * n);
    const locs: number[][] = [];
    for (let i = 0; i < n; i++) {
      data[i] = Math.sin(i * s);
      const z = Math.floor(i / (Y * X));
      data[n + i] = z >= 6 && z < 9 ? 1 : 0;
      if (data[n + i]) locs.push([z, Math.floor(i / X) % Y, i % X]);
    }
    fs.writeFileSync(path.join(dir, `${id}.npy`), encodeNpy({ data, shape: [2, Z, Y, X], dtype: 'float32' }));
    fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({ class_locations: { '1': locs } }));
  }
  return dir;
}

function options(dir: string, extra: Partial<BatchProducerOptions> = {}): BatchProducerOptions {
  const params = setupAugmentationParams({ patch_size: [8, 12, 8], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2]] });
  return {
    loader: { dir, caseIds: ['a', 'b'], patchSize: params.generatorPatchSize, finalPatchSize: params.patchSize, batchSize: 2 },
    augmentation: params,
    deepSupervisionScales: params.deepSupervisionScales,
    seed: 5,
    queueSize: 2,
    ...extra,
  };
}

test('channels-last layout', () => {
  const r = toChannelsLast(Float32Array.of(1, 2, 3, 10, 20, 30), [1, 2, 3]);
  assert.deepEqual([...r.data], [1, 10, 2, 20, 3, 30]);
  assert.deepEqual(r.shape, [1, 3, 2]);
});

test('worker producer delivers N batches (network layout, deep-supervision targets), resumes from state, shuts down', async () => {
  const dir = stage();
  const p = new BatchProducer(options(dir));
  const got = [];
  let resumeState;
  for (let i = 0; i < 4; i++) {
    if (i === 2) resumeState = JSON.parse(JSON.stringify(p.state()));
    got.push(await p.next());
  }
  await p.close();
  for (const b of got) {
    assert.deepEqual(b.dataShape, [2, 8, 12, 8, 1]);
    assert.deepEqual(b.targets.map((t) => t.shape), [[2, 8, 12, 8], [2, 4, 6, 4]]);
    assert.ok(b.targets[0]!.data.every((v) => v === 0 || v === 1));
    assert.equal(b.data.length, 2 * 8 * 12 * 8);
  }
  // Same seed, same stream; the saved state resumes at batch 3.
  const again = new BatchProducer(options(dir));
  const first = await again.next();
  await again.close();
  assert.deepEqual(first.data, got[0]!.data);
  const resumed = new BatchProducer(options(dir, { state: resumeState }));
  const third = await resumed.next();
  await resumed.close();
  assert.deepEqual(third.data, got[2]!.data);
  assert.deepEqual(third.targets[1]!.data, got[2]!.targets[1]!.data);
  await assert.rejects(() => p.next(), /closed/);
});

test('validation producer (no augmentation) with two workers taken round-robin', async () => {
  const dir = stage();
  const opts = producerOptionsForStage({
    stage: { patch_size: [8, 12, 8], batch_size: 2, do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2]] },
    useMaskForNorm: {}, dir, caseIds: ['a', 'b'], purpose: 'validation', seed: 9, numWorkers: 2, queueSize: 4,
  });
  assert.deepEqual(opts.loader.patchSize, [8, 12, 8]);
  assert.equal(opts.augmentation, null);
  const p = new BatchProducer(opts);
  const a = [await p.next(), await p.next(), await p.next()];
  await p.close();
  const q = new BatchProducer(opts);
  const b = [await q.next(), await q.next(), await q.next()];
  await q.close();
  a.forEach((x, i) => assert.deepEqual(x.data, b[i]!.data));
  assert.notDeepEqual(a[0]!.data, a[1]!.data);
});

test('a bad case reaches the caller as BadInputError', async () => {
  const dir = stage();
  const opts = options(dir);
  opts.loader = { ...opts.loader, caseIds: ['missing'] };
  const p = new BatchProducer(opts);
  await assert.rejects(() => p.next(), (e: Error) => e instanceof BadInputError && /missing\.npy/.test(e.message));
  await p.close();
});

test('producerOptionsForStage wires the cascade (previous-stage folder, one-hot labels) into train and validation', () => {
  const stage = { patch_size: [8, 12, 8], batch_size: 2, do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2]] };
  const common = { stage, useMaskForNorm: {}, dir: '/x', caseIds: ['a'], cascade: { previousStageDir: '/prev', labels: [1, 2] } };
  const train = producerOptionsForStage({ ...common, purpose: 'train' });
  const val = producerOptionsForStage({ ...common, purpose: 'validation' });
  assert.equal(train.loader.previousStageDir, '/prev');
  assert.deepEqual(train.augmentation!.cascadeLabels, [1, 2]);
  assert.deepEqual(val.cascadeLabels, [1, 2]);
  assert.equal(val.loader.previousStageDir, '/prev');
  assert.deepEqual(val.loader.patchSize, [8, 12, 8]);
});

test('a background worker makes the same batches and states as the in-thread producer (numWorkers 0) for a seed', async () => {
  const dir = stage();
  const inThread = new BatchProducer(options(dir, { numWorkers: 0 }));
  const worker = new BatchProducer(options(dir, { numWorkers: 1, queueSize: 3 }));
  for (let i = 0; i < 5; i++) {
    const [a, b] = [await inThread.next(), await worker.next()];
    assert.deepEqual(a.data, b.data);
    assert.deepEqual(a.targets, b.targets);
    assert.deepEqual(a.keys, b.keys);
    assert.deepEqual(inThread.state(), worker.state());
  }
  // The in-thread state resumes a worker's stream (and back): one stream, two ways to make it.
  const resumed = new BatchProducer(options(dir, { numWorkers: 1, state: inThread.state() }));
  assert.deepEqual((await resumed.next()).data, (await inThread.next()).data);
  await Promise.all([inThread.close(), worker.close(), resumed.close()]);
});
