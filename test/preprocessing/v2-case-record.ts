/**
 * The per-case records nnunetv2's run_case results are stored as (scripts/parity/v2_fingerprint_preprocess.py's
 * case_record) and the comparison of our run_case with one: crop boxes, shapes, seg and class locations identical,
 * data within 1e-4 (sums, range, 64 sampled voxels).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LabelsJsonV2 } from '../../activities/preprocessing/v2/labels';
import type { PreprocessedCaseV2 } from '../../activities/preprocessing/v2/run-case';

export interface ChannelRecord { sum: number; abs_sum: number; min: number; max: number; sampled_index: number[]; sampled: number[] }
export interface CaseRecord {
  bbox_used_for_cropping: number[][]; shape_before_cropping: number[]; shape_after_cropping_and_before_resampling: number[];
  spacing: number[]; shape: number[]; seg_sha256: string; seg_counts: Record<string, number>; channels: ChannelRecord[];
  class_locations: Record<string, { count: number; sha256: string }>;
}
export interface VariantRecord { normalization_schemes: string[]; use_mask_for_norm: boolean[]; labels: LabelsJsonV2; cases: Record<string, CaseRecord> }

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function assertCase(label: string, got: PreprocessedCaseV2, want: CaseRecord): void {
  assert.deepEqual(got.properties.bbox_used_for_cropping, want.bbox_used_for_cropping, `${label} bbox`);
  assert.deepEqual(got.properties.shape_before_cropping, want.shape_before_cropping, `${label} shape before cropping`);
  assert.deepEqual(got.properties.shape_after_cropping_and_before_resampling, want.shape_after_cropping_and_before_resampling, `${label} cropped shape`);
  assert.deepEqual(got.properties.spacing, want.spacing, `${label} spacing`);
  assert.deepEqual([...got.shape], want.shape, `${label} shape`);
  assert.equal(sha256(Array.from(got.seg).join(',')), want.seg_sha256, `${label} seg`);
  const locations = got.properties.class_locations ?? {};
  assert.deepEqual(Object.keys(locations).sort(), Object.keys(want.class_locations).sort(), `${label} location keys`);
  for (const [k, w] of Object.entries(want.class_locations)) {
    const coords = locations[k]!;
    assert.equal(coords.length, w.count, `${label} class ${k} count`);
    assert.equal(sha256(coords.map((c) => c.slice(1).join(',')).join(';')), w.sha256, `${label} class ${k} locations`);
  }
  const m = got.shape[0] * got.shape[1] * got.shape[2];
  want.channels.forEach((w, c) => {
    const x = got.data.subarray(c * m, (c + 1) * m);
    let sum = 0, min = Infinity, max = -Infinity;
    for (const v of x) { sum += v; min = Math.min(min, v); max = Math.max(max, v); }
    assert.ok(Math.abs(sum - w.sum) <= 1e-4 * Math.max(1, w.abs_sum), `${label} channel ${c} sum ${sum} vs ${w.sum}`);
    assert.ok(Math.abs(min - w.min) <= 1e-4 && Math.abs(max - w.max) <= 1e-4, `${label} channel ${c} range`);
    w.sampled_index.forEach((i, k) => assert.ok(Math.abs(x[i]! - w.sampled[k]!) <= 1e-4, `${label} channel ${c} voxel ${i}: ${x[i]} vs ${w.sampled[k]}`));
  });
}
