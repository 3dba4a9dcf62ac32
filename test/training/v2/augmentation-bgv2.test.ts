// nnU-Net v2's augmentation (activities/training/v2/augmentation/) against batchgeneratorsv2's own outputs for
// the same parameters (test/fixtures/bgv2, scripts/parity/make_bgv2_fixtures.py), plus the parameter draws.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applySpatialV2, asDummy2D, sampleSpatialV2 } from '../../../activities/training/v2/augmentation/spatial';
import { toFloat16 } from '../../../activities/training/v2/augmentation/grid-sample';
import { Rng } from '../../../activities/training/augmentation/random';
import { channels, loadBgv2, maxDiff, mismatches, values, type StoredArray } from './bgv2-fixtures';

interface SpatialCase {
  name: string; patch: number[]; angles: number[] | null; scale: number | null; dummy2D?: boolean;
  image: StoredArray; seg: StoredArray; outImage: StoredArray; outSeg: StoredArray;
}

test('SpatialTransform (grid_sample image, per-label seg with pad -1, centre crop, dummy 2D) equals batchgeneratorsv2', () => {
  const { cases } = loadBgv2<{ cases: SpatialCase[] }>('spatial');
  assert.ok(cases.length >= 8);
  for (const c of cases) {
    const dims = c.dummy2D ? 2 : c.patch.length;
    const params = c.angles === null && c.scale === null ? null
      : { angles: c.angles ?? new Array<number>(dims).fill(0), scale: c.scale ?? 1 };
    const run = c.dummy2D
      ? asDummy2D(channels(c.image), channels(c.seg), (i, s) => applySpatialV2(i, s, c.patch.slice(1), params))
      : applySpatialV2(channels(c.image), channels(c.seg), c.patch, params);
    assert.deepEqual(run.image.shape, c.outImage.shape.slice(1), c.name);
    const d = maxDiff(run.image.data, values(c.outImage), c.name);
    assert.ok(d <= 1e-5, `${c.name}: image max diff ${d}`);
    const bad = mismatches(run.seg.data, values(c.outSeg));
    assert.equal(bad, 0, `${c.name}: ${bad} seg voxels differ`);
  }
});

test('SpatialTransform draws: p 0.2 rotation and scaling, one synchronised scale in (0.7, 1.4)', () => {
  const rng = Rng.seeded(3);
  let rot = 0, scaled = 0, crop = 0;
  const cfg = { pRotation: 0.2, rotation: [-0.5, 0.5] as const, pScaling: 0.2, scaling: [0.7, 1.4] as const };
  for (let i = 0; i < 4000; i++) {
    const p = sampleSpatialV2(cfg, 3, rng);
    if (p === null) { crop++; continue; }
    if (p.angles.some((a) => a !== 0)) { rot++; p.angles.forEach((a) => assert.ok(a >= -0.5 && a <= 0.5)); }
    if (p.scale !== 1) { scaled++; assert.ok(p.scale >= 0.7 && p.scale < 1.4); }
  }
  assert.ok(Math.abs(rot / 4000 - 0.2) < 0.03 && Math.abs(scaled / 4000 - 0.2) < 0.03, `${rot} ${scaled}`);
  assert.ok(Math.abs(crop / 4000 - 0.64) < 0.03);
});

test('float16 rounding: ties to even, subnormals', () => {
  assert.equal(toFloat16(500.1), 500);
  assert.equal(toFloat16(500.125), 500);
  assert.equal(toFloat16(500.375), 500.5);
  assert.equal(toFloat16(1000.2), 1000);
  assert.equal(toFloat16(-3.0001), -3);
  assert.equal(toFloat16(1e-7), 2 ** -24 * Math.round(1e-7 / 2 ** -24));
});
