/** Region outputs on the raw grid: outside the crop box no region is present, and the painted label map is background there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uncropProbabilities, type ExportProperties } from '../../activities/inference/export';
import { LabelManager } from '../../activities/io/label-manager';

const props = {
  original_size_of_raw_data: [1, 1, 4], size_after_cropping: [1, 1, 2], crop_bbox: [[0, 1], [0, 1], [1, 3]],
} as unknown as ExportProperties;

test('uncropped region probabilities are 0 outside the crop box (softmax keeps background 1 there)', () => {
  const cropped = { data: Float32Array.from([0.9, 0.2, 0.8, 0.7]), numClasses: 2, shape: [1, 1, 2] as [number, number, number] };
  const regions = uncropProbabilities(cropped, props, false);
  assert.deepEqual(Array.from(regions.data), [0, 0.9, 0.2, 0, 0, 0.8, 0.7, 0].map(Math.fround));
  assert.deepEqual(Array.from(uncropProbabilities(cropped, props).data.subarray(0, 4)), [1, 0.9, 0.2, 1].map(Math.fround));
  const labels = new LabelManager({ labels: { background: 0, a: [1, 2], b: [2] }, regions_class_order: [1, 2] });
  assert.deepEqual(Array.from(labels.convertProbabilitiesToSegmentation(regions.data, 2)), [0, 2, 2, 0]);
});
