import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CHECKPOINT_FILES, newestValidCheckpoint, readCheckpoint, writeCheckpoint, type Checkpoint,
} from '../../activities/training/checkpoint';
import { CorruptCheckpointError } from '../../activities/network/checkpoint-file';
import { MT19937 } from '../../activities/common/mt19937';

function sampleCheckpoint(epoch: number): Checkpoint {
  const rng = new MT19937(epoch).getState();
  const lane = { loader: rng, augment: rng };
  return {
    meta: {
      trainer: 'nnUNetTrainerV2', epoch, maxEpochs: 10, iterationsPerEpoch: 3,
      optimizer: { learningRate: 0.007, momentum: 0.99, steps: epoch * 3 },
      rng: { train: { workers: [lane], nextWorker: 0 }, val: { workers: [lane], nextWorker: 0 } },
      history: { trainLosses: [0.5, 0.25], valLosses: [0.4, 0.3], evalMetrics: [0.1, NaN], pseudoDicePerClass: [[0.1, null]], learningRates: [0.01, 0.009], epochSeconds: [1, 1] },
      best: { trainLossMA: 0.3, valEvalCriterionMA: 0.1, bestValEvalCriterionMA: 0.1, bestEpoch: 1 },
      info: { fold: 0 },
    },
    weights: [Float32Array.from([1.5, -2, 3e-8]), Float32Array.from([Math.PI])],
    weightNames: ['conv_blocks_context.0.blocks.0.conv.weight', 'seg_outputs.0.weight'],
    weightShapes: [[3], [1]],
    momentum: [Float32Array.from([0.1, 0.2, 0.3]), Float32Array.from([-1])],
  };
}

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-ckpt-'));

test('a checkpoint round-trips weights, momentum, RNG states and histories exactly', () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, CHECKPOINT_FILES.latest);
    const c = sampleCheckpoint(2);
    writeCheckpoint(file, c);
    const back = readCheckpoint(file);
    assert.deepEqual(back.weights, c.weights);
    assert.deepEqual(back.momentum, c.momentum);
    assert.deepEqual(back.weightNames, c.weightNames);
    assert.deepEqual(back.weightShapes, c.weightShapes);
    assert.deepEqual(back.meta.rng, c.meta.rng);
    assert.equal(back.meta.epoch, 2);
    assert.deepEqual(back.meta.history.trainLosses, [0.5, 0.25]);
    assert.ok(fs.readFileSync(file).subarray(0, 8).toString('latin1') === 'NNUTSCK1');
    assert.deepEqual(fs.readdirSync(dir), [CHECKPOINT_FILES.latest], 'no temporary files left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn, truncated or altered checkpoint is refused and skipped for the newest valid one', () => {
  const dir = tmpDir();
  try {
    const latest = path.join(dir, CHECKPOINT_FILES.latest);
    const best = path.join(dir, CHECKPOINT_FILES.best);
    writeCheckpoint(best, sampleCheckpoint(3));
    writeCheckpoint(latest, sampleCheckpoint(5));
    assert.equal(newestValidCheckpoint(dir)!.checkpoint.meta.epoch, 5, 'the valid checkpoint with most epochs wins');

    const bytes = fs.readFileSync(latest);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 40] ^= 0x01; // one payload bit
    fs.writeFileSync(latest, flipped);
    assert.throws(() => readCheckpoint(latest), (e: unknown) => e instanceof CorruptCheckpointError && /SHA-256/.test((e as Error).message));
    const warnings: string[] = [];
    const chosen = newestValidCheckpoint(dir, (w) => warnings.push(w));
    assert.equal(chosen!.kind, 'best');
    assert.equal(chosen!.checkpoint.meta.epoch, 3);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /model_latest\.model/);

    fs.writeFileSync(latest, bytes.subarray(0, Math.floor(bytes.length / 2))); // truncated mid-write
    assert.throws(() => readCheckpoint(latest), CorruptCheckpointError);
    assert.equal(newestValidCheckpoint(dir)!.kind, 'best');

    fs.writeFileSync(best, 'not a checkpoint');
    fs.rmSync(latest);
    assert.equal(newestValidCheckpoint(dir), undefined, 'nothing valid: start over rather than load garbage');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
