/**
 * numpy .npy files (format 1.0 written; 1.0/2.0/3.0 read), C order, so preprocessed arrays open with np.load.
 * Header: magic "\x93NUMPY", version, little-endian header length, then a Python dict literal padded with spaces
 * and a newline so that the data starts at a multiple of 64 bytes.
 */
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { readBytes, readBytesSync } from './read-bytes';
import { arrayConstructor, bytesPerVoxel, numVoxels, type DType, type VoxelArrays } from './volume';

export interface NdArray<D extends DType = DType> {
  data: VoxelArrays[D];
  shape: number[];
  dtype: D;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const DESCR: Record<DType, string> = {
  uint8: '|u1', int8: '|i1', int16: '<i2', uint16: '<u2', int32: '<i4', uint32: '<u4', float32: '<f4', float64: '<f8',
};
const FROM_KIND: Record<string, DType> = {
  u1: 'uint8', i1: 'int8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', f4: 'float32', f8: 'float64',
};

export function encodeNpy(arr: NdArray): Buffer {
  if (arr.data.length !== numVoxels(arr.shape)) throw new RangeError(`data length ${arr.data.length} does not match shape ${arr.shape.join('x')}`);
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[arr.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const header = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(dict.length, 8);
  const data = Buffer.from(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  return Buffer.concat([header, Buffer.from(dict, 'latin1'), data]);
}

export function decodeNpy(bytes: Buffer, file = '<buffer>'): NdArray {
  const bad = (why: string) => new BadInputError(`${file}: not a readable .npy file (${why})`, file);
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw bad('no \\x93NUMPY magic');
  const major = bytes[6];
  const lenBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3) throw bad(`format version ${major}`);
  const headerLen = lenBytes === 2 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = 8 + lenBytes + headerLen;
  if (start > bytes.length) throw bad('header runs past the end of the file');
  const dict = bytes.subarray(8 + lenBytes, start).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(dict);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict);
  if (!descr || !fortran || !shapeMatch) throw bad(`header ${JSON.stringify(dict.trim())}`);
  const dtype = FROM_KIND[descr[2]];
  if (!dtype) throw new BadInputError(`${file}: .npy dtype '${descr[1]}${descr[2]}' is not supported (use float32, int8, uint8, int16, ...)`, file);
  if (fortran[1] === 'True') throw new BadInputError(`${file}: Fortran-order .npy arrays are not supported; save with np.ascontiguousarray`, file);
  const shape = shapeMatch[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw bad(`shape (${shapeMatch[1]})`);
  const n = numVoxels(shape);
  const bpv = bytesPerVoxel(dtype);
  if (start + n * bpv > bytes.length) {
    throw new BadInputError(`${file}: .npy header promises ${shape.join('x')} ${dtype} values but the file is truncated (${bytes.length - start} of ${n * bpv} data bytes)`, file);
  }
  const raw = new Uint8Array(n * bpv);
  raw.set(bytes.subarray(start, start + n * bpv));
  if (descr[1] === '>' && bpv > 1) {
    for (let i = 0; i < raw.length; i += bpv) raw.subarray(i, i + bpv).reverse();
  }
  return { data: new (arrayConstructor(dtype))(raw.buffer), shape, dtype };
}

export function readNpySync(file: string): NdArray {
  return decodeNpy(readBytesSync(file), file);
}

export async function readNpy(file: string): Promise<NdArray> {
  return decodeNpy(await readBytes(file), file);
}

/** Writes atomically (temporary sibling + rename). */
export function writeNpy(file: string, arr: NdArray): void {
  writeFileAtomic(file, encodeNpy(arr));
}
