/**
 * batchgenerators' SpatialTransform as nnUNetTrainerV2 configures it: the output patch's
 * centred grid (row vectors) times Rx·Ry·Rz (2D: R) times the scale factor, shifted to the input centre
 * D/2 - 0.5, sampled as scipy's map_coordinates in 'constant' mode (image cval 0, seg cval -1): points outside
 * the input take cval, points inside interpolate (mirrored taps past the edges). Without rotation or scaling
 * it is a plain centre crop at (D - P)//2. The image uses cubic B-splines (order 3, prefiltered) like nnU-Net,
 * or linear (order 1) when asked for speed. Segmentations are interpolated per label (order 1, ≥ 0.5 wins,
 * higher labels overwrite on ties); a voxel no label reaches stays 0, as in batchgenerators'
 * interpolate_img (so points outside the loaded patch become background, not -1).
 * See docs/augmentation.md, 'Pipeline'.
 */
import { matMul, rotation2d, rotationX, rotationY, rotationZ, type AugmentationParams } from '../patch-size';
import type { Rng } from './random';

/** A channel-first block of volumes: `channels` × spatial `shape` (2 or 3 axes), C order. */
export interface Channels {
  data: Float32Array;
  channels: number;
  shape: number[];
}

/** 3×3 matrix applied to centred output coordinates (rotation and scale), or null for a centre crop. */
export type SpatialMatrix = number[][] | null;

/** Draws rotation and scaling as augment_spatial does; `dim` is the dimensionality of the spatial op. */
export function drawSpatialMatrix(params: AugmentationParams, dim: 2 | 3, rng: Rng): SpatialMatrix {
  let m: number[][] | null = null;
  const { rotation, scaling } = params;
  if (rng.chance(rotation.pPerSample)) {
    const angle = (r: readonly [number, number]) => (rng.random() <= rotation.pPerAxis ? rng.uniform(r[0], r[1]) : 0);
    if (dim === 3) {
      const ax = angle(rotation.x), ay = angle(rotation.y), az = angle(rotation.z);
      m = matMul(matMul(rotationX(ax), rotationY(ay)), rotationZ(az));
    } else {
      m = embed2d(rotation2d(angle(rotation.x)));
    }
  }
  if (rng.chance(scaling.pPerSample)) {
    // Independent factors: p_independent_scale_per_axis (1) is drawn, then one factor per axis scales its column.
    const factors = scaling.independentPerAxis && rng.chance(1)
      ? Array.from({ length: dim }, () => rng.aroundOne(scaling.range))
      : new Array<number>(dim).fill(rng.aroundOne(scaling.range));
    const offset = 3 - dim;
    m = (m ?? [[1, 0, 0], [0, 1, 0], [0, 0, 1]]).map((row) => row.map((v, j) => (j < offset ? v : v * factors[j - offset]!)));
    if (dim === 2) m[0] = [1, 0, 0];
  }
  return m;
}

/** A 2D matrix acting on (y, x) of a [1, y, x] volume. */
export function embed2d(r: readonly (readonly number[])[]): number[][] {
  return [[1, 0, 0], [0, r[0]![0]!, r[0]![1]!], [0, r[1]![0]!, r[1]![1]!]];
}

const as3 = (s: readonly number[]): [number, number, number] => (s.length === 3 ? [s[0]!, s[1]!, s[2]!] : [1, s[0]!, s[1]!]);

/** Centre crop (no padding needed: P ≤ D on every axis). */
export function centerCrop(src: Channels, out: readonly number[]): Channels {
  const [Z, Y, X] = as3(src.shape);
  const [pz, py, px] = as3(out);
  const [lz, ly, lx] = [(Z - pz) >> 1, (Y - py) >> 1, (X - px) >> 1];
  if (lz < 0 || ly < 0 || lx < 0) throw new RangeError(`centerCrop: patch [${out.join(', ')}] exceeds [${src.shape.join(', ')}]`);
  const res = new Float32Array(src.channels * pz * py * px);
  let o = 0;
  for (let c = 0; c < src.channels; c++) {
    for (let z = 0; z < pz; z++) {
      for (let y = 0; y < py; y++) {
        const start = ((c * Z + lz + z) * Y + ly + y) * X + lx;
        res.set(src.data.subarray(start, start + px), o);
        o += px;
      }
    }
  }
  return { data: res, channels: src.channels, shape: [...out] };
}

/** Visits every output voxel with its source coordinate (affine in the output index). */
function forEachSource(inShape: [number, number, number], outShape: [number, number, number], m: number[][],
  visit: (o: number, z: number, y: number, x: number) => void): void {
  const [pz, py, px] = outShape;
  const ctrIn = inShape.map((d) => d / 2 - 0.5);
  const ctrOut = outShape.map((p) => (p - 1) / 2);
  let o = 0;
  for (let i = 0; i < pz; i++) {
    const ci = i - ctrOut[0]!;
    for (let j = 0; j < py; j++) {
      const cj = j - ctrOut[1]!;
      // src_d = c·M[:, d] + ctr_d, with c = (ci, cj, ck).
      const bz = ci * m[0]![0]! + cj * m[1]![0]! + ctrIn[0]!;
      const by = ci * m[0]![1]! + cj * m[1]![1]! + ctrIn[1]!;
      const bx = ci * m[0]![2]! + cj * m[1]![2]! + ctrIn[2]!;
      for (let k = 0; k < px; k++) {
        const ck = k - ctrOut[2]!;
        visit(o++, bz + ck * m[2]![0]!, by + ck * m[2]![1]!, bx + ck * m[2]![2]!);
      }
    }
  }
}

/** Interpolation order of the image: 3 (cubic B-spline, nnU-Net's default) or 1 (linear, faster). */
export type ImageOrder = 1 | 3;

/** Coordinates this close outside [0, n-1] count as inside (rotation matrices are not exactly integral). */
const EDGE_TOLERANCE = 1e-6;

/** Whole-sample mirror of an index into [0, n) (scipy's 'mirror' extension: -1 -> 1, n -> n-2). */
function mirrorIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  const j = ((i % period) + period) % period;
  return j < n ? j : period - j;
}

/**
 * Taps of one sample point for scipy map_coordinates in 'constant' mode: a point outside [0, n-1] on any axis
 * is cval (no interpolation beyond the edges); inside, order 1 uses 8 taps, order 3 uses 64 taps of the
 * B-spline coefficients with mirrored indices past the edges.
 */
class Taps {
  private readonly width: number;
  /** Per axis: 4 weights and 4 indices (flat, axis-major). */
  private readonly w = new Float64Array(12);
  private readonly ix = new Int32Array(12);

  constructor(private readonly shape: [number, number, number], private readonly order: 1 | 3) {
    this.width = order === 3 ? 4 : 2;
  }

  private axis(a: number, coordinate: number): boolean {
    const n = this.shape[a]!;
    if (coordinate < -EDGE_TOLERANCE || coordinate > n - 1 + EDGE_TOLERANCE) return false;
    const v = coordinate < 0 ? 0 : coordinate > n - 1 ? n - 1 : coordinate;
    const f = Math.floor(v);
    const t = v - f;
    const o = 4 * a;
    const w = this.w;
    const ix = this.ix;
    if (this.order === 1) {
      w[o] = 1 - t; w[o + 1] = t;
      ix[o] = f; ix[o + 1] = f + 1 < n ? f + 1 : n - 1;
    } else {
      const t2 = t * t, t3 = t2 * t, u = 1 - t;
      w[o] = (u * u * u) / 6;
      w[o + 1] = (4 - 6 * t2 + 3 * t3) / 6;
      w[o + 2] = (1 + 3 * t + 3 * t2 - 3 * t3) / 6;
      w[o + 3] = t3 / 6;
      if (f >= 1 && f + 2 < n) { ix[o] = f - 1; ix[o + 1] = f; ix[o + 2] = f + 1; ix[o + 3] = f + 2; } // no mirrored tap
      else for (let j = 0; j < 4; j++) ix[o + j] = mirrorIndex(f - 1 + j, n);
    }
    return true;
  }

  /** Per-axis weights/indices of a point; false when it lies outside the volume (the caller writes cval). */
  locate(z: number, y: number, x: number): boolean {
    return this.axis(0, z) && this.axis(1, y) && this.axis(2, x);
  }

  /** The located point's value in `data`, summed separably (no tap list). */
  sample(data: Float32Array | Float64Array): number {
    if (this.order === 3) return this.sampleCubic(data);
    const Y = this.shape[1];
    const X = this.shape[2];
    const width = this.width;
    const w = this.w;
    const ix = this.ix;
    let v = 0;
    for (let i = 0; i < width; i++) {
      const wz = w[i]!;
      if (wz === 0) continue;
      const zOff = ix[i]! * Y;
      for (let j = 0; j < width; j++) {
        const wy = w[4 + j]!;
        if (wy === 0) continue;
        const row = (zOff + ix[4 + j]!) * X;
        let sx = 0;
        for (let l = 0; l < width; l++) sx += w[8 + l]! * data[row + ix[8 + l]!]!;
        v += wz * wy * sx;
      }
    }
    return v;
  }

  /**
   * `sample` for order 3 with the x taps unrolled: the same products summed in the same order (0 + a is a), so
   * the same value, without the inner loop.
   */
  private sampleCubic(data: Float32Array | Float64Array): number {
    const Y = this.shape[1];
    const X = this.shape[2];
    const w = this.w;
    const ix = this.ix;
    const w0 = w[8]!, w1 = w[9]!, w2 = w[10]!, w3 = w[11]!;
    const x0 = ix[8]!, x1 = ix[9]!, x2 = ix[10]!, x3 = ix[11]!;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const wz = w[i]!;
      if (wz === 0) continue;
      const zOff = ix[i]! * Y;
      for (let j = 0; j < 4; j++) {
        const wy = w[4 + j]!;
        if (wy === 0) continue;
        const row = (zOff + ix[4 + j]!) * X;
        const sx = w0 * data[row + x0]! + w1 * data[row + x1]! + w2 * data[row + x2]! + w3 * data[row + x3]!;
        v += wz * wy * sx;
      }
    }
    return v;
  }

  /**
   * The label of a located order-1 point (interpolate_img: each label's mask resampled linearly, the highest
   * label reaching 0.5 wins, else 0): tap weights summed per label slot in the tap order of `set`. When every
   * tap that counts carries one label, that label's weights sum to 1 and it wins without the sums.
   */
  label(slotOf: Uint8Array, labels: readonly number[], acc: Float64Array): number {
    const X = this.shape[2];
    const Y = this.shape[1];
    const w = this.w;
    const ix = this.ix;
    let uniform = -1;
    for (let i = 0; i < 2; i++) {
      if (w[i] === 0) continue;
      for (let j = 0; j < 2; j++) {
        if (w[4 + j] === 0) continue;
        const row = (ix[i]! * Y + ix[4 + j]!) * X;
        for (let l = 0; l < 2; l++) {
          if (w[8 + l] === 0) continue;
          const slot = slotOf[row + ix[8 + l]!]!;
          if (uniform === -1) uniform = slot;
          else if (slot !== uniform) return this.mixedLabel(slotOf, labels, acc);
        }
      }
    }
    return labels[uniform]!;
  }

  private mixedLabel(slotOf: Uint8Array, labels: readonly number[], acc: Float64Array): number {
    const X = this.shape[2];
    const Y = this.shape[1];
    const w = this.w;
    const ix = this.ix;
    acc.fill(0);
    for (let i = 0; i < 2; i++) {
      const wz = w[i]!;
      if (wz === 0) continue;
      for (let j = 0; j < 2; j++) {
        const wzy = wz * w[4 + j]!;
        if (wzy === 0) continue;
        const row = (ix[i]! * Y + ix[4 + j]!) * X;
        for (let l = 0; l < 2; l++) {
          const wt = wzy * w[8 + l]!;
          if (wt === 0) continue;
          acc[slotOf[row + ix[8 + l]!]!]! += wt;
        }
      }
    }
    let label = 0;
    for (let l = 0; l < labels.length; l++) if (acc[l]! >= 0.5) label = labels[l]!;
    return label;
  }
}

const CUBIC_POLE = Math.sqrt(3) - 2;

/**
 * scipy spline_filter1d (order 3, mirror boundary initialisation) along one axis, in place. The recursions run
 * over whole rows of `inner` contiguous values at a time, so every axis reads memory in order.
 */
function prefilterAxis(c: Float64Array, shape: readonly [number, number, number], axis: number): void {
  const n = shape[axis]!;
  if (n === 1) return;
  let inner = 1;
  for (let a = axis + 1; a < 3; a++) inner *= shape[a]!;
  const outer = c.length / (n * inner);
  const z = CUBIC_POLE;
  const zn1 = Math.pow(z, n - 1);
  const first = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const b = o * n * inner;
    const row = (k: number) => b + k * inner;
    for (let i = b; i < b + n * inner; i++) c[i]! *= 6; // gain (1 - z)(1 - 1/z)
    // causal initialisation: c0 = (c[0] + zn1·c[n-1] + Σ_{k=1}^{n-2} z^k (c[k] + zn1·c[n-1-k])) / (1 - zn1²)
    for (let i = 0; i < inner; i++) first[i] = c[row(0) + i]! + zn1 * c[row(n - 1) + i]!;
    let zk = z;
    for (let k = 1; k < n - 1; k++) {
      const r = row(k), q = row(n - 1 - k);
      for (let i = 0; i < inner; i++) first[i]! += zk * (c[r + i]! + zn1 * c[q + i]!);
      zk *= z;
    }
    const norm = 1 / (1 - zn1 * zn1);
    for (let i = 0; i < inner; i++) c[row(0) + i] = first[i]! * norm;
    for (let k = 1; k < n; k++) {
      const r = row(k), p = row(k - 1);
      for (let i = 0; i < inner; i++) c[r + i]! += z * c[p + i]!;
    }
    const last = row(n - 1), prev = row(n - 2);
    const f = z / (z * z - 1);
    for (let i = 0; i < inner; i++) c[last + i] = (z * c[prev + i]! + c[last + i]!) * f;
    for (let k = n - 2; k >= 0; k--) {
      const r = row(k), nx = row(k + 1);
      for (let i = 0; i < inner; i++) c[r + i] = z * (c[nx + i]! - c[r + i]!);
    }
  }
}

/**
 * Cubic B-spline coefficients of one 3D channel (separable prefilter along each axis), written to `into` when
 * given (its first v.length values).
 */
export function splineCoefficients(v: Float32Array | Float64Array, shape: readonly [number, number, number], into?: Float64Array): Float64Array {
  const c = into ? into.subarray(0, v.length) : new Float64Array(v.length);
  c.set(v);
  for (let axis = 0; axis < 3; axis++) prefilterAxis(c, shape, axis);
  return c;
}

/**
 * Coefficient storage reused from one sample to the next in this thread: a fresh multi-megabyte array per
 * channel and sample kept the garbage collector busy (10 % of the batch producer's time).
 */
let coefficientScratch = new Float64Array(0);

function scratchFor(length: number): Float64Array {
  if (coefficientScratch.length < length) coefficientScratch = new Float64Array(length);
  return coefficientScratch;
}

/** Resamples image channels through `m` into an output patch (order 3 or 1, constant border `cval`). */
export function transformImage(src: Channels, out: readonly number[], m: number[][], order: ImageOrder = 3, cval = 0): Channels {
  const inShape = as3(src.shape);
  const outShape = as3(out);
  const nIn = inShape[0] * inShape[1] * inShape[2];
  const nOut = outShape[0] * outShape[1] * outShape[2];
  const res = new Float32Array(src.channels * nOut);
  const scratch = order === 3 ? scratchFor(src.channels * nIn) : undefined;
  const coeffs = Array.from({ length: src.channels }, (_, c) => {
    const channel = src.data.subarray(c * nIn, (c + 1) * nIn);
    return scratch ? splineCoefficients(channel, inShape, scratch.subarray(c * nIn)) : channel;
  });
  const taps = new Taps(inShape, order);
  forEachSource(inShape, outShape, m, (o, z, y, x) => {
    const inside = taps.locate(z, y, x);
    for (let c = 0; c < src.channels; c++) res[c * nOut + o] = inside ? taps.sample(coeffs[c]!) : cval;
  });
  return { data: res, channels: src.channels, shape: [...out] };
}

/** Labels that are integers −1..255 (the loader's −1 padding and up to 255 classes) are tabled, not hashed. */
const SMALL_LABELS = 257;

/**
 * Distinct values of one channel, ascending (np.unique, as interpolate_img iterates them), and each voxel's
 * index into them, so the resampling loop indexes typed arrays only.
 */
function labelSlots(a: Float32Array, start: number, end: number): { labels: number[]; slotOf: Uint8Array } {
  const seen = new Uint8Array(SMALL_LABELS);
  let small = true;
  for (let i = start; i < end && small; i++) {
    const k = a[i]! + 1;
    if (k >= 0 && k < SMALL_LABELS && Number.isInteger(k)) seen[k] = 1;
    else small = false;
  }
  const slotOf = new Uint8Array(end - start);
  if (small) {
    const slot = new Uint8Array(SMALL_LABELS);
    const labels: number[] = [];
    seen.forEach((s, k) => { if (s) { slot[k] = labels.length; labels.push(k - 1); } });
    if (labels.length > 255) throw new RangeError(`transformSegmentation: ${labels.length} labels in one channel`);
    for (let i = start; i < end; i++) slotOf[i - start] = slot[a[i]! + 1]!;
    return { labels, slotOf };
  }
  const labels = [...new Set(a.subarray(start, end))].sort((x, y) => x - y);
  if (labels.length > 255) throw new RangeError(`transformSegmentation: ${labels.length} labels in one channel`);
  const slotByLabel = new Map(labels.map((l, i) => [l, i]));
  for (let i = start; i < end; i++) slotOf[i - start] = slotByLabel.get(a[i]!)!;
  return { labels, slotOf };
}

/** Per-label linear resampling of label channels (border -1 for every label mask, like interpolate_img). */
export function transformSegmentation(src: Channels, out: readonly number[], m: number[][], cval = -1): Channels {
  const inShape = as3(src.shape);
  const outShape = as3(out);
  const nIn = inShape[0] * inShape[1] * inShape[2];
  const nOut = outShape[0] * outShape[1] * outShape[2];
  const res = new Float32Array(src.channels * nOut);
  if (cval >= 0.5) throw new RangeError('transformSegmentation: cval must be < 0.5');
  const taps = new Taps(inShape, 1);
  for (let c = 0; c < src.channels; c++) {
    const base = c * nIn;
    const { labels, slotOf } = labelSlots(src.data, base, base + nIn);
    const acc = new Float64Array(labels.length);
    forEachSource(inShape, outShape, m, (o, z, y, x) => {
      if (!taps.locate(z, y, x)) return; // every label mask reads cval (< 0.5) there: the voxel keeps 0
      res[c * nOut + o] = taps.label(slotOf, labels, acc);
    });
  }
  return { data: res, channels: src.channels, shape: [...out] };
}

/** The spatial step for one sample: image and seg to the patch through `m`, or centre-cropped. */
export function spatialTransform(image: Channels, seg: Channels, patch: readonly number[], m: SpatialMatrix, order: ImageOrder = 3): { image: Channels; seg: Channels } {
  if (!m) return { image: centerCrop(image, patch), seg: centerCrop(seg, patch) };
  return { image: transformImage(image, patch, m, order), seg: transformSegmentation(seg, patch, m) };
}
