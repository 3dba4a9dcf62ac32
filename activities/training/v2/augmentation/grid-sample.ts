/**
 * batchgeneratorsv2's SpatialTransform grid and torch's grid_sample (align_corners=False, zeros padding), image
 * and segmentation, with torch's float32 arithmetic step by step (Math.fround) so outputs agree to the last bits:
 * - grid: the output patch's centred pixel coordinates p (linspace((1-P)/2, (P-1)/2, P)) times the affine A
 *   (row vectors times A^T), divided by S/2 (S the input size), axes reversed for grid_sample;
 * - grid_sample unnormalises to pixel coordinates ((g+1)·S−1)/2 (3D kernel) or (g+1)·S/2−0.5 (2D kernel), i.e.
 *   A·p + (S−1)/2, and interpolates (bi/tri)linearly, corners outside the input counting 0;
 * - segmentations as SpatialTransform's mode_seg 'bilinear' with padding label `pad` (nnU-Net: -1): each label's
 *   indicator ×1000 is sampled, the score rounded to float16, the argmax wins (lowest label on ties, labels
 *   sorted), and where the nearest neighbour's label shares the top score it wins (seg_tiebreak 'nearest'); two
 *   labels decide by the higher one's score against 500. Outside the input counts as the pad label, which takes
 *   part only when some sample's kernel may reach outside (as _may_reach_outside decides).
 * See docs/augmentation.md, 'nnU-Net v2 (batchgeneratorsv2)'.
 */
import { roundHalfEven } from '../../../common/numeric';
import type { Channels } from '../../augmentation/spatial';

const f = Math.fround;

/** The sampling grid of one spatial transform: pixel coordinates in the input, per output voxel (C order). */
export interface SampleGrid {
  /** Output spatial shape (2 or 3 axes). */
  outShape: number[];
  /** Input spatial shape the coordinates refer to. */
  inShape: number[];
  /** grid_sample's normalised grid, `dims` values per output voxel, in spatial-axis order (not reversed). */
  normalised: Float32Array;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Rounds a float32 to the nearest float16 (ties to even), as torch's .to(torch.float16). */
export function toFloat16(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 2 ** -14 && a < 65520) {
    // Normal half: keep 10 of float32's 23 mantissa bits, rounding to nearest even on the bits.
    F32[0] = x;
    const b = U32[0]!;
    U32[0] = (b + 0xfff + ((b >>> 13) & 1)) & ~0x1fff;
    return F32[0]!;
  }
  if (a >= 65520) return x < 0 ? -Infinity : Infinity;
  const ulp = 2 ** -24; // subnormal halves
  const r = roundHalfEven(a / ulp) * ulp;
  return x < 0 ? -r : r;
}

/**
 * SpatialTransform.get_parameters' grid for an affine A (dims×dims, acting on column vectors in spatial-axis
 * order) and a centre at the input's middle: A·p / (S/2) in float32.
 */
export function affineGrid(affine: readonly (readonly number[])[], outShape: readonly number[], inShape: readonly number[]): SampleGrid {
  const dims = outShape.length;
  const A = affine.map((row) => row.map((v) => f(v)));
  const n = outShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * dims);
  const half = inShape.map((s) => s / 2);
  const p = new Array<number>(dims).fill(0);
  const idx = new Array<number>(dims).fill(0);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dims; d++) p[d] = idx[d]! - (outShape[d]! - 1) / 2;
    for (let d = 0; d < dims; d++) {
      // The sgemm behind torch.matmul: fused multiply-adds left to right (float32 products are exact in doubles).
      let q = f(p[0]! * A[d]![0]!);
      for (let j = 1; j < dims; j++) q = f(p[j]! * A[d]![j]! + q);
      out[i * dims + d] = f(q / half[d]!);
    }
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return { outShape: [...outShape], inShape: [...inShape], normalised: out };
}

/** grid_sample's pixel coordinate of normalised `g` on an axis of size `s` (align_corners=False). */
function unnormalise(g: number, s: number, dims: number): number {
  // The 3D CPU kernel computes ((g + 1)·s − 1)/2; the vectorised 2D kernel (g + 1)·(s/2) − 0.5, fused.
  return dims === 3 ? f(f(f(g + 1) * s) - 1) / 2 : f(f(g + 1) * (s / 2) - 0.5);
}

/** Per output voxel: up to 8 corners (flat input index or -1 outside) and their float32 weights, in torch's order. */
interface Corners { index: Int32Array; weight: Float32Array; count: number; nearest: number }

/**
 * acc + v·w as the kernel rounds it: the vectorised 2D kernel fuses the multiply-add (v·w of two float32 is exact
 * in a double), the 3D kernel rounds the product first.
 */
function madd(acc: number, v: number, w: number, fused: boolean): number {
  return fused ? f(v * w + acc) : f(acc + f(v * w));
}

function cornersOf(grid: SampleGrid, i: number, c: Corners): void {
  const S = grid.inShape;
  const g = grid.normalised;
  if (grid.outShape.length === 2) {
    const H = S[0]!, W = S[1]!;
    const y = unnormalise(g[i * 2]!, H, 2), x = unnormalise(g[i * 2 + 1]!, W, 2);
    const x0 = Math.floor(x), y0 = Math.floor(y);
    const w = f(x - x0), e = f(1 - w), n = f(y - y0), s = f(1 - n);
    c.weight[0] = f(s * e); c.weight[1] = f(s * w); c.weight[2] = f(n * e); c.weight[3] = f(n * w);
    for (let k = 0; k < 4; k++) {
      const yy = y0 + (k >> 1), xx = x0 + (k & 1);
      c.index[k] = yy >= 0 && yy < H && xx >= 0 && xx < W ? yy * W + xx : -1;
    }
    c.count = 4;
    const ny = roundHalfEven(y), nx = roundHalfEven(x);
    c.nearest = ny >= 0 && ny < H && nx >= 0 && nx < W ? ny * W + nx : -1;
    return;
  }
  const D = S[0]!, H = S[1]!, W = S[2]!;
  const z = unnormalise(g[i * 3]!, D, 3), y = unnormalise(g[i * 3 + 1]!, H, 3), x = unnormalise(g[i * 3 + 2]!, W, 3);
  const x0 = Math.floor(x), y0 = Math.floor(y), z0 = Math.floor(z);
  const wx0 = f(x0 + 1 - x), wx1 = f(x - x0), wy0 = f(y0 + 1 - y), wy1 = f(y - y0), wz0 = f(z0 + 1 - z), wz1 = f(z - z0);
  for (let k = 0; k < 8; k++) {
    const dz = k >> 2, dy = (k >> 1) & 1, dx = k & 1;
    const zz = z0 + dz, yy = y0 + dy, xx = x0 + dx;
    c.index[k] = zz >= 0 && zz < D && yy >= 0 && yy < H && xx >= 0 && xx < W ? (zz * H + yy) * W + xx : -1;
    c.weight[k] = f(f((dx ? wx1 : wx0) * (dy ? wy1 : wy0)) * (dz ? wz1 : wz0));
  }
  c.count = 8;
  const nz = roundHalfEven(z), ny = roundHalfEven(y), nx = roundHalfEven(x);
  c.nearest = nz >= 0 && nz < D && ny >= 0 && ny < H && nx >= 0 && nx < W ? (nz * H + ny) * W + nx : -1;
}

const newCorners = (): Corners => ({ index: new Int32Array(8), weight: new Float32Array(8), count: 0, nearest: -1 });

/** grid_sample(image, grid, 'bilinear', 'zeros', align_corners=False) of every channel. */
export function sampleImage(src: Channels, grid: SampleGrid): Channels {
  const nIn = src.shape.reduce((a, b) => a * b, 1);
  const nOut = grid.outShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(src.channels * nOut);
  const c = newCorners();
  for (let i = 0; i < nOut; i++) {
    cornersOf(grid, i, c);
    for (let ch = 0; ch < src.channels; ch++) {
      const base = ch * nIn;
      let acc = 0;
      for (let k = 0; k < c.count; k++) {
        const idx = c.index[k]!;
        if (idx >= 0) acc = madd(acc, src.data[base + idx]!, c.weight[k]!, c.count === 4);
      }
      out[ch * nOut + i] = acc;
    }
  }
  return { data: out, channels: src.channels, shape: [...grid.outShape] };
}

/**
 * SpatialTransform._may_reach_outside for bilinear sampling: whether any grid value passes 1 − 1/S of the
 * smallest axis (then the pad label takes part in the argmax).
 */
export function mayReachOutside(grid: SampleGrid): boolean {
  const bound = Math.min(...grid.inShape.map((s) => 1 - 1 / s));
  let lo = Infinity, hi = -Infinity;
  for (const v of grid.normalised) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return !(-lo <= bound && hi <= bound);
}

const SCALE = 1000;

/** Sorted distinct labels of one channel (pd.unique + np.sort), with `pad` added when it takes part. */
function labelsOf(data: Float32Array, withPad: number | null): number[] {
  // Integer labels −1..254 are tabled; anything else falls back to a set.
  const seen = new Uint8Array(256);
  let other: Set<number> | undefined;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const k = v + 1;
    if (k >= 0 && k < 256 && Number.isInteger(k)) seen[k] = 1;
    else (other ??= new Set()).add(v);
  }
  const labels = [...(other ?? [])];
  seen.forEach((s, k) => { if (s) labels.push(k - 1); });
  if (withPad !== null && !labels.includes(withPad)) labels.push(withPad);
  return labels.sort((a, b) => a - b);
}

/** One label's float16 score at a voxel: its indicator ×1000 sampled (the pad label: outside counts as it). */
function score(seg: Float32Array, base: number, c: Corners, label: number, isPad: boolean): number {
  let acc = 0;
  if (isPad) {
    // grid_sample((ind − 1)·1000) + 1000: the other labels' corners inside subtract.
    for (let k = 0; k < c.count; k++) {
      const idx = c.index[k]!;
      if (idx >= 0 && seg[base + idx] !== label) acc = madd(acc, -SCALE, c.weight[k]!, c.count === 4);
    }
    return toFloat16(f(acc + SCALE));
  }
  for (let k = 0; k < c.count; k++) {
    const idx = c.index[k]!;
    if (idx >= 0 && seg[base + idx] === label) acc = madd(acc, SCALE, c.weight[k]!, c.count === 4);
  }
  return toFloat16(acc);
}

/** Whether every corner (outside: the pad label) carries `label`. */
function allCornersAre(seg: Float32Array, base: number, c: Corners, label: number, pad: number): boolean {
  for (let k = 0; k < c.count; k++) {
    const idx = c.index[k]!;
    if ((idx >= 0 ? seg[base + idx]! : pad) !== label) return false;
  }
  return true;
}

/** SpatialTransform._apply_to_segmentation (mode_seg 'bilinear', seg_tiebreak 'nearest', constant padding `pad`). */
export function sampleSegmentation(src: Channels, grid: SampleGrid, pad: number): Channels {
  const nIn = src.shape.reduce((a, b) => a * b, 1);
  const nOut = grid.outShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(src.channels * nOut);
  const reach = mayReachOutside(grid);
  const c = newCorners();
  const present: number[] = [];
  for (let ch = 0; ch < src.channels; ch++) {
    const base = ch * nIn;
    const labels = labelsOf(src.data.subarray(base, base + nIn), reach ? pad : null);
    const o = ch * nOut;
    if (labels.length === 1) {
      out.fill(labels[0]!, o, o + nOut);
      continue;
    }
    const isPad = (label: number) => reach && label === pad;
    for (let i = 0; i < nOut; i++) {
      cornersOf(grid, i, c);
      const nearest = c.nearest >= 0 ? src.data[base + c.nearest]! : pad;
      if (allCornersAre(src.data, base, c, nearest, pad)) {
        out[o + i] = nearest; // one label under the kernel: it wins outright, whatever the branch
        continue;
      }
      if (labels.length === 2) {
        const hi = score(src.data, base, c, labels[1]!, isPad(labels[1]!));
        out[o + i] = hi === SCALE / 2 ? nearest : hi > SCALE / 2 ? labels[1]! : labels[0]!;
        continue;
      }
      // Labels absent from the corners score 0 and cannot reach the top score (the weights sum to 1).
      present.length = 0;
      for (let k = 0; k < c.count; k++) {
        const label = c.index[k]! >= 0 ? src.data[base + c.index[k]!]! : pad;
        if (!present.includes(label)) present.push(label);
      }
      present.sort((a, b) => a - b);
      let best = -Infinity, winner = labels[0]!, nearestScore = -Infinity;
      for (const label of present) {
        const s = score(src.data, base, c, label, isPad(label));
        if (s > best) { best = s; winner = label; }
        if (label === nearest) nearestScore = s;
      }
      out[o + i] = nearestScore === best ? nearest : winner;
    }
  }
  return { data: out, channels: src.channels, shape: [...grid.outShape] };
}
