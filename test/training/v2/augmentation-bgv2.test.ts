// nnU-Net v2's augmentation (activities/training/v2/augmentation/) against batchgeneratorsv2's own outputs for
// the same parameters (test/fixtures/bgv2, scripts/parity/make_bgv2_fixtures.py), plus the parameter draws.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applySpatialV2, asDummy2D, sampleSpatialV2 } from '../../../activities/training/v2/augmentation/spatial';
import { toFloat16 } from '../../../activities/training/v2/augmentation/grid-sample';
import { applyBlur, applyBrightness, applyContrast, applyGamma, applyLowRes, blurKernel, blurKernelSize, sampleBlur, sampleGamma, sampleLowRes } from '../../../activities/training/v2/augmentation/intensity';
import { convertToRegions, downsampleSegForDS } from '../../../activities/training/v2/augmentation/targets';
import { Rng } from '../../../activities/training/augmentation/random';
import { downsampleSegmentation } from '../../../activities/network/deep-supervision';
import { channels, loadBgv2, maxDiff, mismatches, values, type StoredArray } from './bgv2-fixtures';

interface SpatialCase {
  name: string; patch: number[]; angles: number[] | null; scale: number | null; dummy2D?: boolean;
  image: StoredArray; seg: StoredArray; outImage: StoredArray; outSeg: StoredArray;
}

test('SpatialTransform (grid_sample image, per-label seg with pad -1, centre crop, dummy 2D, the cascade\'s 2 seg channels) equals batchgeneratorsv2', () => {
  const { cases } = loadBgv2<{ cases: SpatialCase[] }>('spatial');
  assert.ok(cases.length >= 12);
  assert.equal(cases.filter((c) => c.seg.shape[0] === 2).length, 4, 'cascade cases: target + previous-stage seg');
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

interface IntensityCase {
  name: string; transform: 'blur' | 'brightness' | 'contrast' | 'gamma' | 'lowres';
  params: { channels: number[]; sigmas?: number[][]; multipliers?: number[]; gammas?: number[]; invert?: boolean; scales?: number[][] };
  input: StoredArray; output: StoredArray;
}

function applyCase(c: IntensityCase): Float32Array {
  const x = channels(c.input);
  const p = c.params;
  if (c.transform === 'blur') applyBlur(x, { channels: p.channels, sigmas: p.sigmas! });
  else if (c.transform === 'brightness') applyBrightness(x, { channels: p.channels, factors: p.multipliers! });
  else if (c.transform === 'contrast') applyContrast(x, { channels: p.channels, factors: p.multipliers! });
  else if (c.transform === 'lowres') applyLowRes(x, { channels: p.channels, scales: p.scales! });
  else applyGamma(x, { channels: p.channels, gammas: p.gammas!, invert: p.channels.map(() => p.invert!), retainStats: p.channels.map(() => true) });
  return x.data;
}

test('blur, brightness, contrast, low resolution, gamma (inverted and not) equal batchgeneratorsv2 in 3D and 2D', () => {
  const { cases } = loadBgv2<{ cases: IntensityCase[] }>('intensity');
  assert.equal(cases.length, 14);
  for (const c of cases) {
    const d = maxDiff(applyCase(c), values(c.output), c.name);
    assert.ok(d <= 1e-5, `${c.name}: max diff ${d}`);
  }
});

test('blur kernel sizes: round_to_nearest_odd(6σ + 0.5) with Python rounding', () => {
  assert.equal(blurKernelSize(0.5), 3);
  assert.equal(blurKernelSize(1), 7);
  assert.equal(blurKernelSize(0.75), 5);
  const k = blurKernel(0.8);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.equal(k[0], k[k.length - 1]);
});

interface TargetsFixture {
  seg: StoredArray; scales: number[][]; downsampled: StoredArray[];
  regions: (number | number[])[]; regionSeg: StoredArray; regionDownsampled: StoredArray[];
}

test('DownsampleSegForDSTransform (nearest-exact) and ConvertSegmentationToRegionsTransform equal batchgeneratorsv2', () => {
  const t = loadBgv2<TargetsFixture>('targets');
  const seg = channels(t.seg);
  t.scales.forEach((s, k) => {
    const r = downsampleSegForDS(seg, s);
    assert.deepEqual(r.shape, t.downsampled[k]!.shape.slice(1), `scale ${s}`);
    assert.equal(mismatches(r.data, values(t.downsampled[k]!)), 0, `scale ${s}`);
  });
  // The batch worker's deep-supervision targets (v1's order-0 zoom) follow the same index rule.
  t.scales.forEach((s, k) => {
    const r = downsampleSegmentation(values(t.seg), t.seg.shape, s);
    assert.equal(mismatches(r.data, values(t.downsampled[k]!)), 0, `worker targets, scale ${s}`);
  });
  const regions = convertToRegions(seg, t.regions.map((r) => (Array.isArray(r) ? r : [r])));
  assert.equal(mismatches(regions.data, values(t.regionSeg)), 0);
  assert.equal(mismatches(downsampleSegForDS(regions, [0.5, 0.5, 0.5]).data, values(t.regionDownsampled[1]!)), 0);
});

test('intensity draws: BGContrast half below 1, blur σ per axis, low-res zoom shared by the axes (axis 0 kept for dummy 2D)', () => {
  const rng = Rng.seeded(9);
  const x = { data: new Float32Array(2 * 60), channels: 2, shape: [3, 4, 5] };
  let below = 0, n = 0;
  for (let i = 0; i < 2000; i++) {
    const g = sampleGamma(rng, 2, 0);
    for (const v of g.gammas) { n++; if (v < 1) below++; assert.ok(v >= 0.7 && v <= 1.5); }
    assert.deepEqual(g.invert, [false, false]);
    const b = sampleBlur(rng, x);
    b.sigmas.forEach((s) => { assert.equal(s.length, 3); s.forEach((v) => assert.ok(v >= 0.5 && v < 1)); });
    const l = sampleLowRes(rng, x, [0]);
    l.scales.forEach((s) => { assert.equal(s[0], 1); assert.equal(s[1], s[2]); assert.ok(s[1]! >= 0.5 && s[1]! < 1); });
  }
  assert.ok(Math.abs(below / n - 0.5) < 0.03);
});
