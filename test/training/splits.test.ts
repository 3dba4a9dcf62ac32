import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MT19937 } from '../../activities/common/mt19937';
import { createDefaultSplits, kFoldSizes, loadOrCreateSplits, readSplitsFile, selectFold, writeSplitsFile } from '../../activities/training/splits';
import { BadInputError } from '../../activities/common/errors';
import { readVector } from '../helpers/vectors';


// Reference values printed by numpy 2.4 (np.random.RandomState), the legacy stream nnU-Net relies on.
test('MT19937 reproduces numpy legacy RandomState', () => {
  const r = new MT19937(12345);
  assert.deepEqual(r.getState().key.slice(0, 3), [12345, 2003863422, 2690739229]);
  assert.deepEqual([r.randomSample(), r.randomSample(), r.randomSample()], [0.9296160928171479, 0.3163755545817859, 0.18391881167709445]);
  assert.deepEqual(r.permutation(10), [0, 4, 7, 8, 3, 6, 1, 9, 2, 5]);
  const a = new MT19937([1, 2, 3]);
  assert.deepEqual(a.getState().key.slice(0, 3), [2147483648, 188977461, 1294596893]);
  assert.deepEqual([a.randomSample(), a.randomSample()], [0.6098612722867289, 0.8866970434146851]);
  assert.deepEqual(new MT19937(12350).choiceWithoutReplacement(30, 24), [9, 23, 4, 14, 13, 1, 26, 27, 28, 0, 10, 6, 3, 15, 20, 25, 5, 12, 19, 21, 7, 24, 8, 11]);
  const g = new MT19937(12345);
  assert.deepEqual([g.standardNormal(), g.standardNormal(), g.standardNormal()], [-0.20470765948471295, 0.47894333805754824, -0.5194387150567381]);
  const big = Array.from({ length: 1000 }, (_, i) => i);
  new MT19937(7).shuffle(big);
  assert.deepEqual(big.slice(0, 10), [778, 334, 271, 802, 216, 408, 812, 94, 487, 170]);
  assert.deepEqual(big.slice(-5), [579, 502, 537, 196, 175]);
});

test('MT19937 state round-trips (checkpointable)', () => {
  const r = new MT19937(3);
  r.randomSample();
  const copy = MT19937.fromState(JSON.parse(JSON.stringify(r.getState())));
  assert.equal(copy.nextUint32(), r.nextUint32());
});

test('KFold chunk sizes follow sklearn', () => {
  assert.deepEqual(kFoldSizes(30, 5), [6, 6, 6, 6, 6]);
  assert.deepEqual(kFoldSizes(13, 5), [3, 3, 3, 2, 2]);
  assert.throws(() => kFoldSizes(4, 5), BadInputError);
});

test('default split equals nnU-Net for the 30 Hippocampus cases', () => {
  const expected = readVector<{ train: string[]; val: string[] }[]>('splits_Task04_Hippocampus_30.json');
  const cases = [...expected[0]!.train, ...expected[0]!.val].reverse(); // input order must not matter
  assert.deepEqual(createDefaultSplits(cases), expected);
  assert.deepEqual(selectFold(expected, 2, cases), expected[2]);
});

test('fold "all" and folds beyond the splits', () => {
  const cases = Array.from({ length: 30 }, (_, i) => `c${String(i).padStart(2, '0')}`);
  const splits = createDefaultSplits(cases);
  assert.deepEqual(selectFold(splits, 'all', cases), { train: cases, val: cases });
  const f5 = selectFold(splits, 5, cases); // RandomState(12350).choice(30, 24, replace=False), see above
  const idx = [9, 23, 4, 14, 13, 1, 26, 27, 28, 0, 10, 6, 3, 15, 20, 25, 5, 12, 19, 21, 7, 24, 8, 11].sort((a, b) => a - b);
  assert.deepEqual(f5.train, idx.map((i) => cases[i]));
  assert.deepEqual(f5.val, cases.filter((_, i) => !idx.includes(i)));
});

test('splits_final.json: written, respected, validated', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'splits-'));
  try {
    const cases = ['a', 'b', 'c', 'd', 'e', 'f'];
    const file = path.join(dir, 'splits_final.json');
    const created = loadOrCreateSplits(file, cases);
    assert.equal(created.length, 5);
    assert.deepEqual(readSplitsFile(file, cases), created);
    const edited = [{ train: ['a', 'b', 'c'], val: ['d'] }];
    writeSplitsFile(file, edited);
    assert.deepEqual(loadOrCreateSplits(file, cases), edited);
    writeSplitsFile(file, [{ train: ['a', 'zz'], val: ['d'] }]);
    assert.throws(() => readSplitsFile(file, cases), (e: unknown) => e instanceof BadInputError && /unknown case 'zz'/.test(e.message));
    writeSplitsFile(file, [{ train: ['a', 'b'], val: ['b'] }]);
    assert.throws(() => readSplitsFile(file, cases), (e: unknown) => e instanceof BadInputError && /'b' more than once/.test(e.message));
    fs.writeFileSync(file, '[{"train": "a"}]');
    assert.throws(() => readSplitsFile(file, cases), BadInputError);
    fs.writeFileSync(file, '{not json');
    assert.throws(() => readSplitsFile(file, cases), BadInputError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
