/**
 * batchgenerators' SpatialTransform as nnUNetTrainerV2 configures it (spec §5.6 step 2): the output patch's
 * centred grid (row vectors) times Rx·Ry·Rz (2D: R) times the scale factor, shifted to the input centre
 * D/2 - 0.5, sampled with constant borders (image 0, seg -1). Without rotation or scaling it is a plain
 * centre crop at (D - P)//2. Image interpolation is trilinear (order 1), a documented deviation from order 3.
 * Segmentations are interpolated per label (order 1, ≥ 0.5 wins, later labels in order of appearance
 * overwrite); a voxel no label reaches stays 0, as in batchgenerators' interpolate_img.
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
    const s = rng.aroundOne(scaling.range);
    m = (m ?? [[1, 0, 0], [0, 1, 0], [0, 0, 1]]).map((row) => row.map((v) => v * s));
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

/** Trilinear taps of one coordinate: 8 flat indices (-1 outside) and weights, reused across channels. */
class Taps {
  readonly index = new Int32Array(8);
  readonly weight = new Float64Array(8);
  constructor(private readonly shape: [number, number, number]) {}

  set(z: number, y: number, x: number): void {
    const [Z, Y, X] = this.shape;
    const z0 = Math.floor(z), y0 = Math.floor(y), x0 = Math.floor(x);
    const tz = z - z0, ty = y - y0, tx = x - x0;
    let t = 0;
    for (let dz = 0; dz < 2; dz++) {
      const zz = z0 + dz;
      const wz = dz ? tz : 1 - tz;
      for (let dy = 0; dy < 2; dy++) {
        const yy = y0 + dy;
        const wy = dy ? ty : 1 - ty;
        for (let dx = 0; dx < 2; dx++) {
          const xx = x0 + dx;
          this.weight[t] = wz * wy * (dx ? tx : 1 - tx);
          this.index[t] = zz >= 0 && zz < Z && yy >= 0 && yy < Y && xx >= 0 && xx < X ? (zz * Y + yy) * X + xx : -1;
          t++;
        }
      }
    }
  }
}

/** Resamples image channels (linear, border 0) through `m` into an output patch. */
export function transformImage(src: Channels, out: readonly number[], m: number[][], cval = 0): Channels {
  const inShape = as3(src.shape);
  const outShape = as3(out);
  const nIn = inShape[0] * inShape[1] * inShape[2];
  const nOut = outShape[0] * outShape[1] * outShape[2];
  const res = new Float32Array(src.channels * nOut);
  const taps = new Taps(inShape);
  forEachSource(inShape, outShape, m, (o, z, y, x) => {
    taps.set(z, y, x);
    for (let c = 0; c < src.channels; c++) {
      const base = c * nIn;
      let v = 0;
      for (let t = 0; t < 8; t++) {
        const w = taps.weight[t]!;
        if (w === 0) continue;
        const i = taps.index[t]!;
        v += w * (i >= 0 ? src.data[base + i]! : cval);
      }
      res[c * nOut + o] = v;
    }
  });
  return { data: res, channels: src.channels, shape: [...out] };
}

/** Distinct values of one channel in order of first appearance (pd.unique) as integers. */
function labelsInOrder(a: Float32Array, start: number, end: number): number[] {
  const seen = new Set<number>();
  for (let i = start; i < end; i++) seen.add(a[i]!);
  return [...seen];
}

/** Per-label linear resampling of label channels (border -1 for every label mask, like interpolate_img). */
export function transformSegmentation(src: Channels, out: readonly number[], m: number[][], cval = -1): Channels {
  const inShape = as3(src.shape);
  const outShape = as3(out);
  const nIn = inShape[0] * inShape[1] * inShape[2];
  const nOut = outShape[0] * outShape[1] * outShape[2];
  const res = new Float32Array(src.channels * nOut);
  const taps = new Taps(inShape);
  for (let c = 0; c < src.channels; c++) {
    const base = c * nIn;
    const labels = labelsInOrder(src.data, base, base + nIn);
    const slot = new Map(labels.map((l, i) => [l, i]));
    const acc = new Float64Array(labels.length);
    forEachSource(inShape, outShape, m, (o, z, y, x) => {
      taps.set(z, y, x);
      acc.fill(0);
      let outside = 0;
      for (let t = 0; t < 8; t++) {
        const w = taps.weight[t]!;
        if (w === 0) continue;
        const i = taps.index[t]!;
        if (i < 0) outside += w;
        else acc[slot.get(src.data[base + i]!)!]! += w;
      }
      let label = 0;
      // mask value = (weight of this label) + cval · (weight outside the volume)
      for (let l = 0; l < labels.length; l++) if (acc[l]! + cval * outside >= 0.5) label = labels[l]!;
      res[c * nOut + o] = label;
    });
  }
  return { data: res, channels: src.channels, shape: [...out] };
}

/** The spatial step for one sample: image and seg to the patch through `m`, or centre-cropped. */
export function spatialTransform(image: Channels, seg: Channels, patch: readonly number[], m: SpatialMatrix): { image: Channels; seg: Channels } {
  if (!m) return { image: centerCrop(image, patch), seg: centerCrop(seg, patch) };
  return { image: transformImage(image, patch, m), seg: transformSegmentation(seg, patch, m) };
}
