/**
 * nnU-Net v2's cascade transforms (activities/training/v2/cascade-transforms.ts) against batchgeneratorsv2: the
 * expected values come from scripts/parity/v2_cascade_transforms.py (batchgeneratorsv2's transforms applied with
 * the same fixed parameters to the same label map): per one-hot channel [number of ones, sum of their flat indices].
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BINARY_OPERATORS } from '../../activities/training/augmentation/morphology';
import { moveSegAsOneHotToData } from '../../activities/training/augmentation/pipeline';
import { Rng } from '../../activities/training/augmentation/random';
import type { Channels } from '../../activities/training/augmentation/spatial';
import {
  applyBinaryOperationsV2, CASCADE_AUGMENTATION_V2, cascadeAugmentationV2, drawBinaryOperationsV2, removeRandomComponentV2,
} from '../../activities/training/v2/cascade-transforms';

const EXPECTED = {"onehot": [[308, 321741], [84, 104298]], "seg_channels": 1, "binary": {"1/dilation": [[918, 984111], [79, 102864]], "1/erosion": [[81, 81162], [84, 104298]], "1/closing": [[329, 346385], [84, 104298]], "1/opening": [[171, 171342], [84, 104298]], "1.6/dilation": [[890, 902700], [82, 103666]], "1.6/erosion": [[82, 74643], [84, 104298]], "1.6/closing": [[333, 314023], [84, 104298]], "1.6/opening": [[174, 141168], [84, 104298]], "2.5/dilation": [[1850, 1947326], [44, 72343]], "2.5/erosion": [[8, 7228], [84, 104298]], "2.5/closing": [[561, 512034], [84, 104298]], "2.5/opening": [[117, 94185], [84, 104298]], "3.7/dilation": [[2142, 2319094], [12, 23733]], "3.7/erosion": [[0, 0], [84, 104298]], "3.7/closing": [[1567, 1612755], [48, 90096]], "3.7/opening": [[0, 0], [84, 104298]]}, "remove": {"0/0": [[295, 320607], [84, 104298]], "0/1": [[80, 95082], [84, 104298]], "0/2": [[307, 321364], [84, 104298]], "0/3": [[297, 316634], [84, 104298]], "0/4": [[304, 318695], [84, 104298]], "0/5": [[300, 314953], [84, 104298]], "0/6": [[303, 315577], [84, 104298]], "0/7": [[295, 299306], [84, 104298]], "0/8": [[295, 296856], [84, 104298]], "0/9": [[296, 296595], [84, 104298]], "1/0": [[308, 321741], [48, 90096]], "1/1": [[308, 321741], [36, 14202]]}} as { onehot: number[][]; seg_channels: number; binary: Record<string, number[][]>; remove: Record<string, number[][]> };

const SHAPE = [12, 13, 14];
const N = SHAPE[0]! * SHAPE[1]! * SHAPE[2]!;

/** The parity script's label map: scattered points and a ball of label 1, two boxes of label 2. */
function labelMap(): Float32Array {
  const [Z, Y, X] = SHAPE as [number, number, number];
  const seg = new Float32Array(N);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    const i = (z * Y + y) * X + x;
    if ((i * 7919) % 29 < 2 || (z - 5) ** 2 + (y - 6) ** 2 + (x - 8) ** 2 < 12) seg[i] = 1;
    if ((z >= 1 && z < 4 && y >= 1 && y < 4 && x >= 1 && x < 5) || (z >= 8 && y >= 9 && x < 3)) seg[i] = 2;
  }
  return seg;
}

/** MoveSegAsOneHotToData(1, [1, 2]) of the label map (seg channel 1) onto one zero image channel; the one-hot part. */
function oneHot(): Channels {
  const seg = labelMap();
  const both = new Float32Array(2 * N);
  both.set(seg);
  both.set(seg, N);
  const moved = moveSegAsOneHotToData({ data: new Float32Array(N), channels: 1, shape: SHAPE }, { data: both, channels: 2, shape: SHAPE }, [1, 2]);
  assert.equal(moved.seg.channels, EXPECTED.seg_channels);
  return { data: moved.image.data.slice(N), channels: 2, shape: SHAPE };
}

function summary(img: Channels): number[][] {
  return [0, 1].map((c) => {
    let count = 0, sum = 0;
    for (let i = 0; i < N; i++) if (img.data[c * N + i] !== 0) { count++; sum += i; }
    return [count, sum];
  });
}

const copy = (img: Channels): Channels => ({ ...img, data: img.data.slice() });

test('MoveSegAsOneHotToDataTransform: one channel per foreground label, the source seg channel removed', () => {
  assert.deepEqual(summary(oneHot()), EXPECTED.onehot);
});

test('ApplyRandomBinaryOperatorTransform: each operator and ball size as batchgeneratorsv2 (erosion keeps the patch border)', () => {
  const img = oneHot();
  for (const [key, want] of Object.entries(EXPECTED.binary)) {
    const [r, op] = key.split('/') as [string, (typeof BINARY_OPERATORS)[number]];
    const out = copy(img);
    applyBinaryOperationsV2(out, [0, 1], [{ channel: 0, operator: op, strelSize: Number(r) }]);
    assert.deepEqual(summary(out), want, key);
  }
});

test('RemoveRandomConnectedComponentFromOneHotEncodingTransform: the chosen 26-connected component (< 15 %) is cleared', () => {
  const img = oneHot();
  for (const [key, want] of Object.entries(EXPECTED.remove)) {
    const [c, k] = key.split('/').map(Number) as [number, number];
    const out = copy(img);
    let eligible = 0;
    removeRandomComponentV2(out, c, 0.15, (n) => { eligible = n; return k; }, () => undefined);
    assert.deepEqual(summary(out), want, key);
    assert.equal(eligible, Object.keys(EXPECTED.remove).filter((x) => x.startsWith(`${c}/`)).length);
  }
});

test('cascade augmentation: seeded draws repeat; probability 0 leaves the one-hot channels, v2 parameters', () => {
  assert.deepEqual(CASCADE_AUGMENTATION_V2, {
    binaryOperator: { pPerSample: 0.4, strelSize: [1, 8], pPerLabel: 0.5 },
    removeComponent: { pPerSample: 0.2, maxFraction: 0.15, pPerLabel: 0.5, fillWithOtherClassP: 0 },
  });
  const base = oneHot();
  const image: Channels = { data: new Float32Array(3 * N), channels: 3, shape: SHAPE };
  image.data.set(base.data, N);
  const always = { binaryOperator: { ...CASCADE_AUGMENTATION_V2.binaryOperator, pPerSample: 1, pPerLabel: 1 }, removeComponent: { ...CASCADE_AUGMENTATION_V2.removeComponent, pPerSample: 1, pPerLabel: 1 } };
  const a = copy(image), b = copy(image);
  cascadeAugmentationV2(a, 2, always, Rng.seeded(3));
  cascadeAugmentationV2(b, 2, always, Rng.seeded(3));
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, image.data);
  const never = copy(image);
  cascadeAugmentationV2(never, 2, { ...always, binaryOperator: { ...always.binaryOperator, pPerSample: 0 }, removeComponent: { ...always.removeComponent, pPerSample: 0 } }, Rng.seeded(3));
  assert.deepEqual(never.data, image.data);
  const ops = drawBinaryOperationsV2([1, 2], always.binaryOperator, Rng.seeded(5));
  assert.deepEqual(ops.map((o) => o.channel).sort(), [1, 2]);
  for (const o of ops) assert.ok(o.strelSize >= 1 && o.strelSize < 8 && BINARY_OPERATORS.includes(o.operator));
});
