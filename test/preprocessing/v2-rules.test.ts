/**
 * nnU-Net v2 preprocessing rules on tiny arrays: which labels or regions are sampled, the order of a region's
 * voxels, the coverage rule, normalization edge cases, configuration inheritance and the separate-z decision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadInputError } from '../../activities/common/errors';
import { MT19937 } from '../../activities/common/mt19937';
import { numSamplesV2, sampleClassLocationsV2 } from '../../activities/preprocessing/v2/class-locations';
import { locationClassesV2 } from '../../activities/preprocessing/v2/labels';
import { normalizeChannelV2 } from '../../activities/preprocessing/v2/normalization';
import { resolveConfigurationV2, type PlansJsonV2 } from '../../activities/preprocessing/v2/plans';
import { separateAxisV2 } from '../../activities/preprocessing/v2/resampling';
import { sumFloat32 } from '../../activities/common/float32-reductions';
import { caseForeground, pooledForegroundStats, replayDraws } from '../../activities/fingerprint/v2/foreground-intensities';

test('LabelManager: foreground labels sorted, regions in dataset.json order, the ignore label adds (-1, all labels)', () => {
  assert.deepEqual(locationClassesV2({ background: 0, b: 2, a: 1 }, 'd'), [1, 2]);
  assert.deepEqual(locationClassesV2({ background: 0, whole: [1, 2, 3], core: [2, 3], enh: 3 }, 'd'), [[1, 2, 3], [2, 3], 3]);
  assert.deepEqual(locationClassesV2({ background: 0, a: 1, ignore: 2 }, 'd'), [1, [-1, 0, 1]]);
  assert.throws(() => locationClassesV2({ a: 1 }, 'dataset.json'), (e: Error) => e instanceof BadInputError && /background/.test(e.message));
});

test('class locations: a region takes its labels block by block, then the first n of one permutation', () => {
  // labels 2 at flat 0 and 3, label 1 at flat 1 and 2 (shape 1x2x2)
  const seg = Float32Array.from([2, 1, 1, 2]);
  const got = sampleClassLocationsV2(seg, [1, 2, 2], [[2, 1]], 1234);
  const union = [0, 3, 1, 2]; // label 2's voxels, then label 1's, each in C order
  const order = new MT19937(1234).permutation(4);
  const toCoord = (i: number) => [0, 0, Math.floor(i / 2), i % 2];
  assert.deepEqual(got['2,1'], order.map((k) => toCoord(union[k]!)));
  assert.deepEqual(sampleClassLocationsV2(seg, [1, 2, 2], [5]), { 5: [] });
  assert.equal(numSamplesV2(5), 5);
  assert.equal(numSamplesV2(2_000_000), 20_000);
});

test('ZScore with the mask leaves voxels outside it as they were (v1 zeroed them); RGB refuses values above 255', () => {
  const x = Float32Array.from([1, 3, 100]);
  normalizeChannelV2(x, [0, 1, -1], { scheme: 'ZScoreNormalization', useMaskForNorm: true }, 'case');
  assert.deepEqual(Array.from(x), [-1, 1, 100]);
  assert.throws(() => normalizeChannelV2(Float32Array.from([0, 300]), [0, 0], { scheme: 'RGBTo01Normalization', useMaskForNorm: false }, 'case_0000.png'),
    (e: Error) => e instanceof BadInputError && /case_0000.png/.test(e.message));
  assert.throws(() => normalizeChannelV2(new Float32Array(1), [0], { scheme: 'MyNorm', useMaskForNorm: false }, 'plans.json'), /unknown normalization scheme "MyNorm"/);
});

test('a configuration inherits its parent keys (3d_cascade_fullres from 3d_fullres)', () => {
  const base = {
    data_identifier: 'nnUNetPlans_3d_fullres', preprocessor_name: 'DefaultPreprocessor', spacing: [1, 1, 1],
    normalization_schemes: ['ZScoreNormalization'], use_mask_for_norm: [false],
    resampling_fn_data: 'resample_data_or_seg_to_shape', resampling_fn_seg: 'resample_data_or_seg_to_shape',
    resampling_fn_data_kwargs: { is_seg: false, order: 3, order_z: 0, force_separate_z: null },
    resampling_fn_seg_kwargs: { is_seg: true, order: 1, order_z: 0, force_separate_z: null },
  };
  const plans: PlansJsonV2 = { transpose_forward: [0, 1, 2], foreground_intensity_properties_per_channel: {},
    configurations: { '3d_fullres': base, '3d_cascade_fullres': { inherits_from: '3d_fullres', spacing: [2, 2, 2] } } };
  const c = resolveConfigurationV2(plans, '3d_cascade_fullres', 'plans.json');
  assert.equal(c.dataIdentifier, 'nnUNetPlans_3d_fullres');
  assert.deepEqual(c.spacing, [2, 2, 2]);
  assert.throws(() => resolveConfigurationV2(plans, '3d_lowres', 'plans.json'), /no configuration "3d_lowres"/);
});

test('separate z: forced, from the current spacing, else from the target; never for two low-resolution axes', () => {
  assert.equal(separateAxisV2(null, [5, 1, 1], [1, 1, 1]), 0);
  assert.equal(separateAxisV2(null, [1, 1, 1], [1, 4, 1]), 1);
  assert.equal(separateAxisV2(null, [4, 4, 1], [1, 1, 1]), undefined);
  assert.equal(separateAxisV2(true, [2, 1, 1], [1, 1, 1]), 0);
  assert.equal(separateAxisV2(false, [5, 1, 1], [1, 1, 1]), undefined);
});

test('float32 sums and the replayed draws', () => {
  // 2^24 + 1 is not a float32: adding 1s one at a time to 2^24 stays at 2^24 in float32
  assert.equal(sumFloat32(Float32Array.from([16777216, 1, 1, 1])), 16777216);
  const draws: number[] = [];
  replayDraws(5, 4, 0, (i) => draws.push(i));
  const rng = new MT19937(1234);
  assert.deepEqual(draws, [0, 1, 2, 3].map(() => rng.randomInterval(4)));
  const single: number[] = [];
  replayDraws(1, 3, 0, (i) => single.push(i));
  assert.deepEqual(single, [0, 0, 0]);
});

test('a case with more foreground voxels than draws keeps its drawn samples: same statistics as replaying them', () => {
  const rng = new MT19937(7);
  const channels = [0, 1].map(() => Float32Array.from({ length: 50 }, () => rng.randomSample() * 100));
  const drawn = caseForeground(channels, 20);
  assert.ok(drawn.drawn && !drawn.values);
  const replayed = { numForeground: 50, numSamples: 20, values: channels };
  const small = caseForeground([Float32Array.from([3, 4])], 20);
  assert.ok(small.values && !small.drawn);
  for (const c of [0, 1]) assert.deepEqual(pooledForegroundStats([drawn, replayed], c), pooledForegroundStats([replayed, replayed], c));
});
