/**
 * nnU-Net v1 resampling (preprocessing.py resample_patient / resample_data_or_seg):
 * - data: skimage resize with order 3, edge mode, no anti-aliasing, output clipped to the input's range;
 * - segmentations: one label at a time (ascending), linear resize of the binary mask, label where >= 0.5;
 * - anisotropic spacing (max/min > 3): every slice across the low-resolution axis is resized in-plane (data
 *   order 3 clipped per slice, seg per label order 1), then that axis is resampled with nearest neighbour.
 * Volumes are C-order typed arrays of one channel.
 * See docs/preprocessing.md, 'Resampling'.
 */
import { roundHalfEven } from '../common/numeric';
import { resampleAxis, zoom, type Order } from './spline';

export type Shape3 = [number, number, number];
type NumericArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** nnU-Net's RESAMPLING_SEPARATE_Z_ANISO_THRESHOLD. */
export const SEPARATE_Z_ANISOTROPY_THRESHOLD = 3;

function range(a: ArrayLike<number>, start = 0, end = a.length): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < end; i++) {
    const v = a[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function clipInPlace(a: Float64Array, lo: number, hi: number, start = 0, end = a.length): void {
  for (let i = start; i < end; i++) {
    const v = a[i]!;
    a[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** skimage.transform.resize(data, outShape, order, mode='edge', anti_aliasing=False, clip=True) for any rank. */
export function resizeData(data: ArrayLike<number>, shape: readonly number[], outShape: readonly number[], order: Order = 3): Float64Array {
  const out = zoom(data, shape, outShape, order);
  const [lo, hi] = range(data);
  if (data.length > 0) clipInPlace(out, lo, hi);
  return out;
}

/** Sorted distinct values (np.unique). */
export function uniqueValues(a: ArrayLike<number>): number[] {
  return [...new Set(Array.from(a))].sort((x, y) => x - y);
}

/**
 * nnU-Net's resize_segmentation: order 0 resizes the label map directly; otherwise each label's binary mask is
 * resized with `order` and the label written where the result is >= 0.5 (later labels overwrite earlier ones).
 */
export function resizeSegmentation<T extends NumericArray>(seg: T, shape: readonly number[], outShape: readonly number[], order: Order = 1, axes?: readonly number[]): T {
  const n = outShape.reduce((p, s) => p * s, 1);
  const out = new (seg.constructor as new (n: number) => T)(n);
  if (order === 0) {
    const r = zoom(seg, shape, outShape, 0, axes);
    for (let i = 0; i < n; i++) out[i] = r[i]!;
    return out;
  }
  const mask = new Float64Array(seg.length);
  for (const label of uniqueValues(seg)) {
    for (let i = 0; i < seg.length; i++) mask[i] = seg[i] === label ? 1 : 0;
    const r = zoom(mask, shape, outShape, order, axes);
    for (let i = 0; i < n; i++) if (r[i]! >= 0.5) out[i] = label;
  }
  return out;
}

/** Separate-z decision of resample_patient: the single low-resolution axis, or undefined (no separate z). */
export function separateZAxis(originalSpacing: readonly number[], targetSpacing: readonly number[],
  threshold = SEPARATE_Z_ANISOTROPY_THRESHOLD): number | undefined {
  const aniso = (s: readonly number[]) => Math.max(...s) / Math.min(...s) > threshold;
  const lowresAxes = (s: readonly number[]) => s.map((v, i) => (Math.max(...s) / v === 1 ? i : -1)).filter((i) => i >= 0);
  const axes = aniso(originalSpacing) ? lowresAxes(originalSpacing) : aniso(targetSpacing) ? lowresAxes(targetSpacing) : [];
  return axes.length === 1 ? axes[0] : undefined;
}

/** new_shape = round(original_spacing / target_spacing · shape), half-even. */
export function resampledShape(shape: readonly number[], originalSpacing: readonly number[], targetSpacing: readonly number[]): Shape3 {
  return shape.map((s, i) => roundHalfEven((originalSpacing[i]! / targetSpacing[i]!) * s)) as Shape3;
}

export interface ResampleOptions {
  isSeg: boolean;
  /** Low-resolution axis for the separate-z path, or undefined for a plain 3D resize. */
  axis?: number;
  /** In-plane / 3D order (data 3, seg 1 by default). */
  order?: Order;
  /** Order along the separate-z axis (0). */
  orderZ?: Order;
}

/** Clip every slice across `axis` of a resized volume to the range of the corresponding input slice. */
function clipSlices(out: Float64Array, outShape: Shape3, src: ArrayLike<number>, shape: Shape3, axis: number): void {
  const strides = (s: Shape3) => [s[1] * s[2], s[2], 1] as const;
  const [si, so] = [strides(shape), strides(outShape)];
  const others = [0, 1, 2].filter((a) => a !== axis);
  for (let z = 0; z < shape[axis]!; z++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let u = 0; u < shape[others[0]!]!; u++) for (let v = 0; v < shape[others[1]!]!; v++) {
      const x = src[z * si[axis]! + u * si[others[0]!]! + v * si[others[1]!]!]!;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    for (let u = 0; u < outShape[others[0]!]!; u++) for (let v = 0; v < outShape[others[1]!]!; v++) {
      const i = z * so[axis]! + u * so[others[0]!]! + v * so[others[1]!]!;
      const x = out[i]!;
      out[i] = x < lo ? lo : x > hi ? hi : x;
    }
  }
}

/**
 * resample_data_or_seg for one channel. Data comes back as Float64Array; a segmentation keeps its array type.
 * Nothing is resampled when the shape already matches (a copy is returned).
 */
export function resampleChannel<T extends NumericArray>(src: T, shape: Shape3, newShape: Shape3, opts: ResampleOptions): Float64Array | T {
  const order = opts.order ?? (opts.isSeg ? 1 : 3);
  const orderZ = opts.orderZ ?? 0;
  if (shape.every((s, i) => s === newShape[i])) return opts.isSeg ? (src.slice() as T) : Float64Array.from(src);
  if (opts.axis === undefined) return opts.isSeg ? resizeSegmentation(src, shape, newShape, order) : resizeData(src, shape, newShape, order);
  const axis = opts.axis;
  const inPlane = [0, 1, 2].filter((a) => a !== axis);
  const midShape = [...newShape] as Shape3;
  midShape[axis] = shape[axis]!;
  if (opts.isSeg) {
    const mid = resizeSegmentation(src, shape, midShape, order, inPlane);
    if (midShape[axis] === newShape[axis]) return mid;
    // order_z 0 resamples the label map directly; otherwise nnU-Net rounds each label's resampled mask
    if (orderZ === 0) return resizeSegmentation(mid, midShape, newShape, 0, [axis]);
    const out = new (src.constructor as new (n: number) => T)(newShape[0] * newShape[1] * newShape[2]);
    const mask = new Float64Array(mid.length);
    for (const label of uniqueValues(mid)) {
      for (let i = 0; i < mid.length; i++) mask[i] = mid[i] === label ? 1 : 0;
      const r = resampleAxis(mask, midShape, axis, newShape[axis]!, orderZ);
      for (let i = 0; i < r.length; i++) if (roundHalfEven(r[i]!) > 0.5) out[i] = label;
    }
    return out;
  }
  const mid = zoom(src, shape, midShape, order, inPlane);
  clipSlices(mid, midShape, src, shape, axis);
  if (midShape[axis] === newShape[axis]) return mid;
  return resampleAxis(mid, midShape, axis, newShape[axis]!, orderZ);
}
