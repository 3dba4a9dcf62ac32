/**
 * Export and cascade helpers on hand-checkable arrays: anisotropic export resamples the low-resolution axis
 * separately (order 0 there, linear in-plane), uncropping fills background 1, argmax ties go to the lower class,
 * and the cascade input is the lowres map cropped, transposed, resized per label and one-hot encoded.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { argmaxClasses, meanProbabilities, toCroppedOriginal, uncropProbabilities, type ExportProperties } from '../../activities/inference/export';
import { lowresToPreprocessedGrid, oneHotForeground } from '../../activities/inference/cascade';

const base: Omit<ExportProperties, 'size_after_cropping' | 'original_spacing' | 'spacing_after_resampling'> = {
  original_size_of_raw_data: [4, 4, 4], crop_bbox: [[0, 4], [0, 4], [0, 4]], itk_spacing: [1, 1, 1], itk_origin: [0, 0, 0], itk_direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
};

test('anisotropic export: nearest along the thick axis, linear in-plane', () => {
  // preprocessed grid 2 x 2 x 2 (one class), back to 4 x 4 x 2 with spacing (5, 1, 1) -> separate z on axis 0
  const props: ExportProperties = { ...base, original_size_of_raw_data: [4, 4, 2], size_after_cropping: [4, 4, 2], crop_bbox: [[0, 4], [0, 4], [0, 2]], original_spacing: [5, 1, 1], spacing_after_resampling: [10, 2, 1] };
  const data = Float32Array.from([0, 0, 1, 1, 10, 10, 11, 11]); // z0: y0 = 0, y1 = 1; z1: y0 = 10, y1 = 11
  const r = toCroppedOriginal({ data, numClasses: 1, shape: [2, 2, 2] }, [0, 1, 2], props);
  assert.deepEqual(r.shape, [4, 4, 2]);
  const at = (z: number, y: number) => r.data[(z * 4 + y) * 2];
  // z: nearest (no value between 1 and 10 appears); y: linear between 0 and 1 (skimage's half-pixel grid)
  assert.deepEqual([0, 1, 2, 3].map((y) => at(0, y)), [0, 0.25, 0.75, 1]);
  assert.deepEqual([0, 1, 2, 3].map((y) => at(3, y)), [10, 10.25, 10.75, 11]);
  assert.deepEqual([0, 1, 2, 3].map((z) => at(z, 0)), [0, 0, 10, 10]);
});

test('transpose back happens before resampling, uncrop fills background 1, argmax takes the first maximum', () => {
  const props: ExportProperties = { ...base, original_size_of_raw_data: [3, 2, 2], size_after_cropping: [1, 2, 2], crop_bbox: [[1, 2], [0, 2], [0, 2]], original_spacing: [1, 1, 1], spacing_after_resampling: [1, 1, 1] };
  // transposed grid (y, x, z) = (2, 2, 1); class 1 = 1 at (y=1, x=0)
  const p = { data: Float32Array.from([1, 1, 0, 1, 0, 0, 1, 0]), numClasses: 2, shape: [2, 2, 1] as [number, number, number] };
  const back = toCroppedOriginal(p, [2, 0, 1], props);
  assert.deepEqual(back.shape, [1, 2, 2]);
  const full = uncropProbabilities(back, props);
  assert.deepEqual(full.shape, [3, 2, 2]);
  assert.deepEqual(Array.from(full.data.subarray(0, 12)), [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(argmaxClasses(full)), [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  const tie = argmaxClasses({ data: Float32Array.from([0.5, 0.5]), numClasses: 2, shape: [1, 1, 1] });
  assert.equal(tie[0], 0);
  assert.deepEqual(Array.from(meanProbabilities([p, { ...p, data: new Float32Array(8) }]).data), [0.5, 0.5, 0, 0.5, 0, 0, 0.5, 0]);
});

test('cascade input: crop, transpose, per-label resize, one-hot for labels 1..K-1', () => {
  // raw 2 x 2 x 4 lowres map; crop x 1..3 -> 2 x 2 x 2; transpose (x, y, z); no resize
  const seg = Uint8Array.from([0, 1, 2, 0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 0, 1, 0]);
  const grid = lowresToPreprocessedGrid(seg, [2, 2, 4], [[0, 2], [0, 2], [1, 3]], [2, 1, 0], [2, 2, 2]);
  // cropped [z][y][x]: z0 = [[1,2],[1,1]], z1 = [[2,2],[0,1]]; transposed t[x][y][z] = c[z][y][x]
  assert.deepEqual(Array.from(grid), [1, 2, 1, 0, 2, 2, 1, 1]);
  const up = lowresToPreprocessedGrid(seg, [2, 2, 4], [[0, 2], [0, 2], [1, 3]], [2, 1, 0], [4, 2, 2]);
  assert.deepEqual(up.length, 16);
  assert.deepEqual(Array.from(oneHotForeground(grid, 3)), [1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0]);
});
