/**
 * itk-wasm images to and from our Volume (array order (z, y, x) or (c, z, y, x), geometry in ITK order).
 * ITK stores voxels x fastest with a pixel's components innermost, the same C order as our arrays once the
 * components are moved to the front as channels.
 */
import { BadInputError } from '../../common/errors';
import type { Geometry, Mat3, Vec3 } from '../geometry';
import { DTYPES, allocate, arrayConstructor, numVoxels, type DType, type Volume, type VoxelArray } from '../volume';
import type { ItkImage } from './itk-wasm';

/** The voxels of an ITK image as channels first: (components, ...size reversed) flattened, in our dtype. */
export function itkVoxels(image: ItkImage, file: string): { data: VoxelArray; dtype: DType; components: number; spatial: number[] } {
  if (!image.data) throw new BadInputError(`${file}: holds no pixel data`, file);
  const dtype = dtypeOf(image.imageType.componentType, file);
  const components = image.imageType.components;
  const spatial = [...image.size].reverse();
  const source = toDtype(image.data, dtype);
  return { data: components === 1 ? source : deinterleave(source, dtype, components), dtype, components, spatial };
}

function dtypeOf(componentType: string, file: string): DType {
  if ((DTYPES as readonly string[]).includes(componentType)) return componentType as DType;
  if (componentType === 'int64' || componentType === 'uint64') return 'float64';
  throw new BadInputError(`${file}: pixel component type ${componentType} is not supported; store the image as an integer or float type`, file);
}

/** 64-bit integers (BigInt arrays) become float64; values beyond 2^53 are refused rather than rounded. */
function toDtype(data: ArrayLike<number> | ArrayLike<bigint>, dtype: DType): VoxelArray {
  if (!(data instanceof BigInt64Array || data instanceof BigUint64Array)) return data as VoxelArray;
  const out = allocate(dtype, data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isSafeInteger(v)) throw new RangeError(`64-bit voxel value ${data[i]} does not fit a float64 exactly`);
    out[i] = v;
  }
  return out;
}

function deinterleave(src: VoxelArray, dtype: DType, components: number): VoxelArray {
  const n = src.length / components;
  const out = allocate(dtype, src.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < components; c++) out[c * n + i] = src[i * components + c];
  return out;
}

function interleave(src: VoxelArray, dtype: DType, components: number): VoxelArray {
  const n = src.length / components;
  const out = allocate(dtype, src.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < components; c++) out[i * components + c] = src[c * n + i];
  return out;
}

/** Row-major d x d direction → its top-left 3x3 (a 2D direction embedded with z as the third axis). */
export function direction3(direction: ArrayLike<number>, d: number): Mat3 {
  const m: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const k = Math.min(d, 3);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) m[3 * r + c] = direction[d * r + c];
  return m;
}

export function vec3(values: readonly number[], fill: number): Vec3 {
  return [values[0] ?? fill, values[1] ?? fill, values[2] ?? fill];
}

export interface ItkImageSpec {
  dimension: 2 | 3;
  /** Channels become the pixel's components (an RGB PNG); 1 for a scalar image. */
  components: number;
  geometry: Geometry;
}

/** An itk-wasm image of a volume: a 2D image takes the volume's single slice, its geometry's x and y. */
export function itkImageOf(volume: Volume, spec: ItkImageSpec): ItkImage {
  const spatial = volume.shape.length === 4 ? volume.shape.slice(1) : volume.shape;
  const { dimension: d, components, geometry: g } = spec;
  if (d === 2 && spatial[0] !== 1) throw new RangeError(`a 2D image needs one slice, got shape ${volume.shape.join('x')}`);
  const size = [spatial[2], spatial[1], spatial[0]].slice(0, d);
  const direction = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) direction[d * r + c] = g.direction[3 * r + c];
  const data = components === 1 ? volume.data : interleave(volume.data, volume.dtype, components);
  if (data.length !== numVoxels(size) * components) throw new RangeError(`data length ${data.length} does not match ${size.join('x')}x${components}`);
  return {
    imageType: { dimension: d, componentType: volume.dtype, pixelType: pixelTypeOf(components), components },
    name: 'image',
    origin: g.origin.slice(0, d),
    spacing: g.spacing.slice(0, d),
    direction,
    size,
    metadata: new Map(),
    data: copyOf(data, volume.dtype),
  };
}

function pixelTypeOf(components: number): string {
  if (components === 1) return 'Scalar';
  if (components === 3) return 'RGB';
  if (components === 4) return 'RGBA';
  return 'VariableLengthVector';
}

/** itk-wasm may transfer the buffer to its module: hand it a copy, never the caller's array. */
function copyOf(data: VoxelArray, dtype: DType): VoxelArray {
  const out = new (arrayConstructor(dtype))(data.length);
  out.set(data as never);
  return out;
}
