import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeChannel, channelNormalizations } from '../../activities/preprocessing/normalize';
import { numLocationSamples, sampleClassLocations } from '../../activities/preprocessing/class-locations';
import { transposeChannels, transposedShape } from '../../activities/preprocessing/transpose';
import { resampleCase } from '../../activities/preprocessing/resampling';

const near = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('CT normalization clips to the fingerprint percentiles, then z-scores with its mean and sd', () => {
  const x = new Float32Array([-1000, 0, 40, 3000]);
  const seg = new Float32Array([-1, 0, 1, 0]);
  normalizeChannel(x, seg, { scheme: 'CT', useMask: false, ct: { mean: 50, sd: 20, lower: -100, upper: 200 } });
  [(-100 - 50) / 20, (0 - 50) / 20, (40 - 50) / 20, (200 - 50) / 20].forEach((v, i) => near(x[i], v));
  const y = new Float32Array([-1000, 0]);
  normalizeChannel(y, new Float32Array([-1, 0]), { scheme: 'CT', useMask: true, ct: { mean: 50, sd: 20, lower: -100, upper: 200 } });
  assert.deepEqual([...y], [0, -2.5]);
});

test('nonCT with mask: z-score over seg >= 0 (std + 1e-8), zero outside', () => {
  const x = new Float32Array([100, 1, 2, 3, 4, -7]);
  const seg = new Float32Array([-1, 0, 1, 0, 2, -1]);
  normalizeChannel(x, seg, { scheme: 'nonCT', useMask: true });
  const sd = Math.sqrt(1.25); // values 1..4: mean 2.5, population variance 1.25
  assert.equal(x[0], 0);
  assert.equal(x[5], 0);
  [1, 2, 3, 4].forEach((v, k) => near(x[k + 1], (v - 2.5) / (sd + 1e-8)));
});

test('nonCT without mask: z-score over the whole channel; noNorm leaves it alone', () => {
  const x = new Float32Array([2, 4, 4, 4, 5, 5, 7, 9]); // mean 5, population sd 2
  normalizeChannel(x, new Float32Array(8).fill(-1), { scheme: 'nonCT', useMask: false });
  [2, 4, 4, 4, 5, 5, 7, 9].forEach((v, i) => near(x[i], (v - 5) / (2 + 1e-8)));
  const y = new Float32Array([3, -1]);
  normalizeChannel(y, new Float32Array(2), { scheme: 'noNorm' });
  assert.deepEqual([...y], [3, -1]);
});

test('channelNormalizations takes CT statistics from the fingerprint and refuses a CT channel without them', () => {
  const n = channelNormalizations({ '0': 'CT', '1': 'nonCT', '2': 'noNorm' }, { '0': false, '1': true, '2': false },
    { '0': { mean: 1, sd: 2, percentile_00_5: -3, percentile_99_5: 4 } }, 'plans.json');
  assert.deepEqual(n, [
    { scheme: 'CT', useMask: false, ct: { mean: 1, sd: 2, lower: -3, upper: 4 } },
    { scheme: 'nonCT', useMask: true },
    { scheme: 'noNorm' },
  ]);
  assert.throws(() => channelNormalizations({ '0': 'CT' }, { '0': false }, { '0': { mean: null, sd: null, percentile_00_5: null, percentile_99_5: null } }, 'p.json'),
    (e: Error) => e.name === 'BadInput');
});

test('class locations equal numpy RandomState(1234).choice on argwhere (vectors from numpy 2.4)', () => {
  const shape = [3, 4, 5] as const;
  const seg = new Float32Array(60);
  for (const i of [1, 7, 8, 20, 33, 34, 35, 50, 59]) seg[i] = 1;
  for (const i of [2, 3, 40]) seg[i] = 2;
  const locs = sampleClassLocations(seg, shape, [1, 2, 3]);
  assert.deepEqual(locs['1'], [[2, 3, 4], [0, 1, 3], [0, 1, 2], [0, 0, 1], [2, 2, 0], [1, 2, 3], [1, 2, 4], [1, 3, 0], [1, 0, 0]]);
  assert.deepEqual(locs['2'], [[0, 0, 2], [2, 0, 0], [0, 0, 3]]);
  assert.deepEqual(locs['3'], []);
});

test('class locations cap at 10000 per class and match numpy on a larger class', () => {
  const shape = [20, 30, 40] as const;
  const seg = new Float32Array(24000);
  for (let i = 0; i < seg.length; i += 2) seg[i] = 1;
  const locs = sampleClassLocations(seg, shape, [1])['1'];
  assert.equal(locs.length, 10000);
  assert.deepEqual(locs.slice(0, 3), [[17, 1, 4], [12, 14, 0], [3, 18, 10]]);
  assert.deepEqual(locs[9999], [4, 12, 16]);
  for (const [z, y, x] of locs) assert.equal(seg[(z * 30 + y) * 40 + x], 1);
  assert.equal(numLocationSamples(5), 5);
  assert.equal(numLocationSamples(2_000_001), 20001); // at least 1 % of the class
});

test('transposeChannels moves input axis perm[k] to output axis k, per channel', () => {
  const shape = [2, 3, 4] as const;
  const n = 24;
  const data = new Float32Array(2 * n).map((_, i) => i);
  const perm = [2, 0, 1];
  const out = transposeChannels(data, shape, perm);
  assert.deepEqual(transposedShape(shape, perm), [4, 2, 3]);
  for (let c = 0; c < 2; c++) for (let z = 0; z < 2; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) {
    assert.equal(out[c * n + (x * 2 + z) * 3 + y], data[c * n + (z * 3 + y) * 4 + x]);
  }
  assert.equal(transposeChannels(data, shape, [0, 1, 2]), data);
});

test('resampleCase: unchanged shape is a no-op; a new shape resamples channels and keeps seg labels', () => {
  const shape = [2, 4, 4] as const;
  const channels = new Float32Array(2 * 32).map((_, i) => (i % 32) * 0.5 + (i >= 32 ? 100 : 0));
  const seg = new Float32Array(32).map((_, i) => (i % 4 < 2 ? -1 : 1));
  const same = resampleCase({ channels, numChannels: 2, seg, shape }, [1, 1, 1], [1, 1, 1]);
  assert.equal(same.channels, channels);
  const r = resampleCase({ channels, numChannels: 2, seg, shape }, [1, 1, 1], [1, 0.5, 0.5]); // 2x4x4 -> 2x8x8
  assert.deepEqual(r.shape, [2, 8, 8]);
  assert.equal(r.channels.length, 2 * 128);
  assert.equal(r.seg.length, 128);
  assert.deepEqual([...new Set(r.seg)].sort(), [-1, 1]);
  assert.ok(Math.min(...r.channels.subarray(128)) >= 100, 'channel 1 resampled from its own values');
});

test('stageFor: configuration -> plans stage and nnU-Net folder name', async () => {
  const { stageFor } = await import('../../activities/preprocessing/preprocess');
  const st = { current_spacing: [1, 1, 1] };
  const p3 = { plans_kind: '3d', data_identifier: 'nnUNetData_plans_v2.1', plans_per_stage: { '0': st, '1': st } } as never;
  const p1 = { plans_kind: '3d', data_identifier: 'nnUNetData_plans_v2.1', plans_per_stage: { '0': st } } as never;
  const p2 = { plans_kind: '2d', data_identifier: 'nnUNetData_plans_v2.1_2D', plans_per_stage: { '0': st } } as never;
  assert.deepEqual(stageFor(p3, '3d_lowres', '/pp', 'f'), { stageIndex: 0, dataDir: '/pp/nnUNetData_plans_v2.1_stage0', inPlaneOnly: false });
  assert.deepEqual(stageFor(p3, '3d_fullres', '/pp', 'f').dataDir, '/pp/nnUNetData_plans_v2.1_stage1');
  assert.deepEqual(stageFor(p3, '3d_cascade_fullres', '/pp', 'f').dataDir, '/pp/nnUNetData_plans_v2.1_stage1');
  assert.deepEqual(stageFor(p1, '3d_fullres', '/pp', 'f').dataDir, '/pp/nnUNetData_plans_v2.1_stage0');
  assert.deepEqual(stageFor(p2, '2d', '/pp', 'f'), { stageIndex: 0, dataDir: '/pp/nnUNetData_plans_v2.1_2D_stage0', inPlaneOnly: true });
  assert.throws(() => stageFor(p1, '3d_lowres', '/pp', 'f'), /no lowres stage/);
  assert.throws(() => stageFor(p2, '3d_fullres', '/pp', 'f'), (e: Error) => e.name === 'BadInput');
});
