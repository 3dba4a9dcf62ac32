/**
 * nnU-Net's crop_to_nonzero on typed arrays, in array axis order (z, y, x):
 * nonzero mask = OR over channels of (value != 0), 3D hole filling (scipy binary_fill_holes with face
 * connectivity), bounding box [min, max + 1) per axis, crop every channel and the seg, and mark background
 * outside the cropped mask as -1 in the seg.
 * See docs/preprocessing.md, 'Loading and cropping'.
 */

export type Shape3 = readonly [number, number, number];
/** Per axis [start, stop): nnU-Net's `crop_bbox` form. */
export type BBox3 = readonly [readonly [number, number], readonly [number, number], readonly [number, number]];

/** Numeric volumes we accept as input (whatever the NIfTI held). */
export type VoxelArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Label value nnU-Net gives to background voxels outside the nonzero mask. */
export const OUTSIDE_NONZERO_LABEL = -1;

export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

/** OR over channels of (value != 0). NaN counts as nonzero, as in numpy. */
export function nonzeroMask(channels: readonly VoxelArray[], shape: Shape3): Uint8Array {
  const n = voxelCount(shape);
  const mask = new Uint8Array(n);
  for (const ch of channels) {
    if (ch.length !== n) throw new RangeError(`channel has ${ch.length} voxels, shape ${shape.join('x')} needs ${n}`);
    for (let i = 0; i < n; i++) if (ch[i] !== 0) mask[i] = 1;
  }
  return mask;
}

/**
 * scipy.ndimage.binary_fill_holes with its default (face-connected) structure: background voxels that cannot
 * reach the volume border through face-connected background are holes and become 1. In place; returns mask.
 * A volume with a singleton axis (pseudo-2D) has every voxel on the border, so nothing is filled — as in nnU-Net.
 */
export function fillHoles(mask: Uint8Array, shape: Shape3): Uint8Array {
  const [nz, ny, nx] = shape;
  const sy = nx;
  const sz = ny * nx;
  const n = mask.length;
  // 0 = background not yet reached, 1 = foreground, 2 = background reached from the border.
  const REACHED = 2;
  const queue = new GrowingQueue(Math.min(n, 1 << 20));
  const seed = (i: number): void => {
    if (mask[i] === 0) { mask[i] = REACHED; queue.push(i); }
  };
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const onFace = z === 0 || z === nz - 1 || y === 0 || y === ny - 1;
      const row = z * sz + y * sy;
      if (onFace) { for (let x = 0; x < nx; x++) seed(row + x); }
      else { seed(row); seed(row + nx - 1); }
    }
  }
  while (queue.size > 0) {
    const i = queue.shift();
    const x = i % nx;
    const y = ((i - x) / nx) % ny;
    const z = (i - x - y * sy) / sz;
    if (x > 0) seed(i - 1);
    if (x < nx - 1) seed(i + 1);
    if (y > 0) seed(i - sy);
    if (y < ny - 1) seed(i + sy);
    if (z > 0) seed(i - sz);
    if (z < nz - 1) seed(i + sz);
  }
  for (let i = 0; i < n; i++) mask[i] = mask[i] === REACHED ? 0 : 1;
  return mask;
}

/** FIFO ring buffer of voxel indices that doubles when full: a flood fill's frontier is far smaller than the volume. */
class GrowingQueue {
  private buf: Int32Array;
  private head = 0;
  size = 0;
  constructor(capacity: number) {
    this.buf = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.size === this.buf.length) {
      const next = new Int32Array(this.buf.length * 2);
      const tail = this.buf.subarray(this.head);
      next.set(tail);
      next.set(this.buf.subarray(0, this.head), tail.length);
      this.buf = next;
      this.head = 0;
    }
    this.buf[(this.head + this.size++) % this.buf.length] = v;
  }
  shift(): number {
    const v = this.buf[this.head];
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    return v;
  }
}

/** Bounding box of the nonzero voxels; null when the mask is empty. */
export function bboxOfMask(mask: Uint8Array, shape: Shape3): BBox3 | null {
  const [nz, ny, nx] = shape;
  let z0 = nz, z1 = -1, y0 = ny, y1 = -1, x0 = nx, x1 = -1;
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (mask[i] === 0) continue;
        if (z < z0) z0 = z;
        if (z > z1) z1 = z;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  if (z1 < 0) return null;
  return [[z0, z1 + 1], [y0, y1 + 1], [x0, x1 + 1]];
}

export function bboxShape(bbox: BBox3): Shape3 {
  return [bbox[0][1] - bbox[0][0], bbox[1][1] - bbox[1][0], bbox[2][1] - bbox[2][0]];
}

/** Copies the box out of `src` (shape `shape`) into `dst` starting at `dstOffset`, converting to dst's type. */
export function cropInto(
  src: ArrayLike<number>, shape: Shape3, bbox: BBox3, dst: { [i: number]: number }, dstOffset = 0,
): void {
  const [, ny, nx] = shape;
  const [[z0, z1], [y0, y1], [x0, x1]] = bbox;
  let o = dstOffset;
  for (let z = z0; z < z1; z++) {
    for (let y = y0; y < y1; y++) {
      const row = (z * ny + y) * nx;
      for (let x = x0; x < x1; x++) dst[o++] = src[row + x];
    }
  }
}

export interface CroppedCase {
  /** (C + 1, z, y, x) float32, C-order: the cropped channels, then the seg as the last channel (nnU-Net's npz). */
  data: Float32Array;
  numChannels: number;
  /** Spatial shape after cropping. */
  shape: Shape3;
  bbox: BBox3;
  /** Sorted unique seg values after cropping, before values < -1 are reset (nnU-Net's `classes`; includes -1). */
  classes: number[];
  /** False when every channel is all zero (nnU-Net would crash): nothing was cropped and the seg is all -1/labels. */
  hadNonzeroVoxels: boolean;
}

/**
 * crop_to_nonzero + ImageCropper.crop: crops channels and seg to the hole-filled nonzero box, sets seg
 * background outside the mask to -1 (or synthesises a 0/-1 seg when there is none, as at test time),
 * records `classes`, then resets values < -1 to 0.
 */
export function cropToNonzero(channels: readonly VoxelArray[], seg: VoxelArray | null, shape: Shape3): CroppedCase {
  const mask = fillHoles(nonzeroMask(channels, shape), shape);
  const found = bboxOfMask(mask, shape);
  const bbox: BBox3 = found ?? [[0, shape[0]], [0, shape[1]], [0, shape[2]]];
  const cshape = bboxShape(bbox);
  const n = voxelCount(cshape);
  const c = channels.length;
  const data = new Float32Array((c + 1) * n);
  channels.forEach((ch, k) => cropInto(ch, shape, bbox, data, k * n));

  const segOffset = c * n;
  const croppedMask = new Uint8Array(n);
  cropInto(mask, shape, bbox, croppedMask);
  if (seg) {
    if (seg.length !== mask.length) throw new RangeError(`seg has ${seg.length} voxels, shape ${shape.join('x')} needs ${mask.length}`);
    cropInto(seg, shape, bbox, data, segOffset);
    for (let i = 0; i < n; i++) if (croppedMask[i] === 0 && data[segOffset + i] === 0) data[segOffset + i] = OUTSIDE_NONZERO_LABEL;
  } else {
    for (let i = 0; i < n; i++) data[segOffset + i] = croppedMask[i] ? 0 : OUTSIDE_NONZERO_LABEL;
  }
  const classes = uniqueSorted(data.subarray(segOffset));
  for (let i = segOffset; i < data.length; i++) if (data[i] < OUTSIDE_NONZERO_LABEL) data[i] = 0;
  return { data, numChannels: c, shape: cshape, bbox, classes, hadNonzeroVoxels: found !== null };
}

/** Sorted distinct values (NaN last), without allocating per voxel: labels are few. */
export function uniqueSorted(values: Float32Array): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < values.length; i++) seen.add(values[i]);
  return [...seen].sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
}
