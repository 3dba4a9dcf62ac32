/**
 * A volume in memory: one contiguous typed array in C order with nnU-Net's array axis order, (z, y, x) for 3D
 * and (c, z, y, x) for 4D (channels first), plus its physical geometry (ITK order, see geometry.ts).
 */
import type { Geometry } from './geometry';

export const DTYPES = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type DType = (typeof DTYPES)[number];

export interface VoxelArrays {
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  float32: Float32Array;
  float64: Float64Array;
}
export type VoxelArray = VoxelArrays[DType];

/** Any typed array holding integer label values (a segmentation), in the same voxel order as its image. */
export type LabelArray = VoxelArray;

export interface Volume<D extends DType = DType> {
  data: VoxelArrays[D];
  /** Array order: [z, y, x] or [c, z, y, x]. */
  shape: number[];
  dtype: D;
  geometry: Geometry;
}

type Ctor<D extends DType> = { new (n: number): VoxelArrays[D]; new (b: ArrayBufferLike, off?: number, len?: number): VoxelArrays[D]; BYTES_PER_ELEMENT: number };
const CTORS: { [D in DType]: Ctor<D> } = {
  uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
};

export function arrayConstructor<D extends DType>(dtype: D): Ctor<D> {
  return CTORS[dtype];
}

export function bytesPerVoxel(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

export function allocate<D extends DType>(dtype: D, n: number): VoxelArrays[D] {
  return new CTORS[dtype](n);
}

export function isIntegerDtype(dtype: DType): boolean {
  return !dtype.startsWith('float');
}

export function numVoxels(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function numChannels(v: Pick<Volume, 'shape'>): number {
  return v.shape.length === 4 ? v.shape[0] : 1;
}

/** Channel c of a 4D volume as a 3D volume sharing the same buffer (no copy). */
export function channel<D extends DType>(v: Volume<D>, c: number): Volume<D> {
  if (v.shape.length !== 4) {
    if (c === 0) return v;
    throw new RangeError(`channel ${c} of a 3D volume`);
  }
  const n = numVoxels(v.shape.slice(1));
  return { data: v.data.subarray(c * n, (c + 1) * n) as VoxelArrays[D], shape: v.shape.slice(1), dtype: v.dtype, geometry: v.geometry };
}

/** Minimum and maximum over finite values (NaN/Inf ignored); counts of non-finite values. */
export function valueRange(data: VoxelArray): { min: number; max: number; nan: number; inf: number } {
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x !== x) nan++;
    else if (x === Infinity || x === -Infinity) inf++;
    else {
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  return { min, max, nan, inf };
}

/** Sorted distinct values, or undefined when there are more than `limit` of them. */
export function distinctValues(data: VoxelArray, limit = 256): number[] | undefined {
  const seen = new Set<number>();
  for (let i = 0; i < data.length; i++) {
    seen.add(data[i]);
    if (seen.size > limit) return undefined;
  }
  return [...seen].sort((a, b) => a - b);
}
