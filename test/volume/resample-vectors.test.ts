/**
 * Resampling against nnU-Net v1's own calls (test/fixtures/vectors/resample_nnunet_v1.json, scipy.ndimage as
 * skimage's resize drives it): data within 1e-4 of the data range, segmentations label-exact.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readVector } from '../helpers/vectors';
import { resampleChannel, resizeData, resizeSegmentation, type Shape3 } from '../../activities/volume/resample';

interface Case { kind: string; input_shape: Shape3; output_shape: Shape3; input: number[]; expected: number[]; axis?: number }

const cases = readVector<{ cases: Case[] }>('resample_nnunet_v1.json').cases;

function run(c: Case): ArrayLike<number> {
  switch (c.kind) {
    case 'data_order3': return resizeData(Float64Array.from(c.input), c.input_shape, c.output_shape, 3);
    case 'seg_order1_per_label': return resizeSegmentation(Int16Array.from(c.input), c.input_shape, c.output_shape, 1);
    case 'data_separate_z': return resampleChannel(Float64Array.from(c.input), c.input_shape, c.output_shape, { isSeg: false, axis: c.axis });
    case 'seg_separate_z': return resampleChannel(Int16Array.from(c.input), c.input_shape, c.output_shape, { isSeg: true, axis: c.axis });
    default: throw new Error(`unknown vector kind ${c.kind}`);
  }
}

test('resampling matches nnU-Net v1 on every reference vector', () => {
  let worst = 0;
  for (const [i, c] of cases.entries()) {
    const got = run(c);
    assert.equal(got.length, c.expected.length, `#${i} ${c.kind} size`);
    const lo = Math.min(...c.input);
    const hi = Math.max(...c.input);
    const tol = 1e-4 * Math.max(hi - lo, 1e-12);
    let maxErr = 0;
    for (let k = 0; k < got.length; k++) maxErr = Math.max(maxErr, Math.abs(got[k]! - c.expected[k]!));
    if (c.kind.startsWith('seg')) assert.equal(maxErr, 0, `#${i} ${c.kind}: labels differ`);
    else assert.ok(maxErr <= tol, `#${i} ${c.kind}: max error ${maxErr} > ${tol}`);
    worst = Math.max(worst, maxErr / Math.max(hi - lo, 1e-12));
  }
  console.log(`resample vectors: ${cases.length}/${cases.length} within tolerance; worst error ${worst.toExponential(2)} of the data range`);
});
