/** Rule-level checks of nnU-Net v2's planning pieces: the memory proxy, label heads, normalization, reader/writer. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { convFeatureMapSize } from '../../activities/planning/v2/network-size';
import { foregroundLabelCount, normalizationV2, readerWriterFor, segmentationHeads } from '../../activities/planning/v2/dataset-json';
import { getPoolAndConvPropsV2 } from '../../activities/planning/v2/topology';

const resEnc = (dim: number, stages: number, maxFeatures: number) => ({
  n_stages: stages,
  features_per_stage: Array.from({ length: stages }, (_, i) => Math.min(maxFeatures, 32 * 2 ** i)),
  kernel_sizes: Array.from({ length: stages }, () => new Array<number>(dim).fill(3)),
  strides: Array.from({ length: stages }, (_, i) => new Array<number>(dim).fill(i === 0 ? 1 : 2)),
  n_blocks_per_stage: [1, 3, 4, 6, 6, 6, 6].slice(0, stages),
  n_conv_per_stage_decoder: new Array<number>(stages - 1).fill(1),
  conv_bias: true,
});

test('ResidualEncoderUNet feature-map sizes equal the figures in nnU-Net v2\'s residual_encoder_unet_planners.py', () => {
  assert.equal(convFeatureMapSize('ResidualEncoderUNet', resEnc(3, 6, 320), [128, 128, 128], 3, true), 558319104);
  assert.equal(convFeatureMapSize('ResidualEncoderUNet', resEnc(2, 7, 512), [512, 512], 3, true), 129793792);
});

test('v2 topology: isotropic 128³ pools five times with a stem stride; an anisotropic axis waits', () => {
  const iso = getPoolAndConvPropsV2([1, 1, 1], [128, 128, 128]);
  assert.deepEqual(iso.strides.length, 6);
  assert.deepEqual(iso.strides[0], [1, 1, 1]);
  assert.deepEqual(iso.patchSize, [128, 128, 128]);
  const aniso = getPoolAndConvPropsV2([5, 1, 1], [20, 192, 160]);
  assert.deepEqual(aniso.strides[1], [1, 2, 2]);
  assert.deepEqual(aniso.kernelSizes[0], [1, 3, 3]);
  assert.deepEqual(aniso.kernelSizes.at(-1), [3, 3, 3]);
});

test('label heads, foreground labels and the ignore label follow LabelManager', () => {
  const plain = { labels: { background: 0, a: 1, b: 2, ignore: 3 }, numTraining: 1, file_ending: '.nii.gz' };
  assert.equal(segmentationHeads(plain), 3);
  assert.equal(foregroundLabelCount(plain), 2);
  const regions = { labels: { background: 0, whole: [1, 2, 3], core: [2, 3], enhancing: 3 }, numTraining: 1, file_ending: '.nii.gz' };
  assert.equal(segmentationHeads(regions), 3);
});

test('normalization by channel name, the mask only below 3/4 and only for z-score; reader/writer by file ending', () => {
  const ds = { channel_names: { '0': 'CT', '1': 'T2', '2': 'noNorm' }, labels: { background: 0, a: 1 }, numTraining: 1, file_ending: '.nii.gz' };
  assert.deepEqual(normalizationV2(ds, 0.5), { schemes: ['CTNormalization', 'ZScoreNormalization', 'NoNormalization'], useMask: [false, true, false] });
  assert.deepEqual(normalizationV2(ds, 0.75).useMask, [false, false, false]);
  assert.equal(readerWriterFor(ds), 'SimpleITKIO');
  assert.equal(readerWriterFor({ ...ds, file_ending: '.png' }), 'NaturalImage2DIO');
  assert.equal(readerWriterFor({ ...ds, file_ending: '.nii' }), 'NibabelIO');
  assert.equal(readerWriterFor({ ...ds, overwrite_image_reader_writer: 'NibabelIOWithReorient' }), 'NibabelIOWithReorient');
  assert.throws(() => readerWriterFor({ ...ds, file_ending: '.jpg' }), /no nnU-Net v2 reader\/writer/);
});
