/**
 * numpy .npy files (format 1.0 written; 1.0/2.0/3.0 read), C order, so preprocessed arrays open with np.load.
 * Header: magic "\x93NUMPY", version, little-endian header length, then a Python dict literal padded with spaces
 * and a newline so that the data starts at a multiple of 64 bytes.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { openRegularSync, readRange, readRangeSync, withRegularFile } from './read-bytes';
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

/** What an .npy header says: the array's shape and dtype, its byte order ('<', '>', '|' or '=') and where the data starts. */
export interface NpyHeader {
  shape: number[];
  dtype: DType;
  byteOrder: string;
  dataOffset: number;
}

/** Enough bytes to know the header's length (magic, version, length field of any version). */
const PRELUDE_BYTES = 12;

const notNpy = (file: string, why: string) => new BadInputError(`${file}: not a readable .npy file (${why})`, file);

/** Checks magic and version; the header's text lies in [textStart, dataOffset). */
function headerBounds(bytes: Buffer, file: string): { major: number; textStart: number; dataOffset: number } {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw notNpy(file, 'no \\x93NUMPY magic');
  const major = bytes[6]!;
  const lenBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3) throw notNpy(file, `format version ${major}`);
  const headerLen = lenBytes === 2 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  return { major, textStart: 8 + lenBytes, dataOffset: 8 + lenBytes + headerLen };
}

/** Parses the header at the start of `bytes` (the whole file, or at least its header). */
export function parseNpyHeader(bytes: Buffer, file = '<buffer>'): NpyHeader {
  const { major, textStart, dataOffset } = headerBounds(bytes, file);
  if (dataOffset > bytes.length) throw notNpy(file, 'header runs past the end of the file');
  const dict = bytes.subarray(textStart, dataOffset).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(dict);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict);
  if (!descr || !fortran || !shapeMatch) throw notNpy(file, `header ${JSON.stringify(dict.trim())}`);
  const dtype = FROM_KIND[descr[2]!];
  if (!dtype) throw new BadInputError(`${file}: .npy dtype '${descr[1]}${descr[2]}' is not supported (use float32, int8, uint8, int16, ...)`, file);
  if (fortran[1] === 'True') throw new BadInputError(`${file}: Fortran-order .npy arrays are not supported; save with np.ascontiguousarray`, file);
  const shape = shapeMatch[1]!.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw notNpy(file, `shape (${shapeMatch[1]})`);
  return { shape, dtype, byteOrder: descr[1]!, dataOffset };
}

/** The header of an open .npy file, read without its data (for callers that read slices of a large array). */
export function readNpyHeader(fd: number, file: string): NpyHeader {
  const prelude = Buffer.alloc(PRELUDE_BYTES);
  const got = fs.readSync(fd, prelude, 0, PRELUDE_BYTES, 0);
  const { dataOffset } = headerBounds(prelude.subarray(0, got), file);
  const head = Buffer.alloc(dataOffset);
  return parseNpyHeader(head.subarray(0, fs.readSync(fd, head, 0, dataOffset, 0)), file);
}

export function decodeNpy(bytes: Buffer, file = '<buffer>'): NdArray {
  const { shape, dtype, byteOrder, dataOffset: start } = parseNpyHeader(bytes, file);
  const n = numVoxels(shape);
  const bpv = bytesPerVoxel(dtype);
  if (start + n * bpv > bytes.length) {
    throw new BadInputError(`${file}: .npy header promises ${shape.join('x')} ${dtype} values but the file is truncated (${bytes.length - start} of ${n * bpv} data bytes)`, file);
  }
  const raw = new Uint8Array(n * bpv);
  raw.set(bytes.subarray(start, start + n * bpv));
  if (byteOrder === '>' && bpv > 1) {
    for (let i = 0; i < raw.length; i += bpv) raw.subarray(i, i + bpv).reverse();
  }
  return { data: new (arrayConstructor(dtype))(raw.buffer), shape, dtype };
}

/** Header plus data bytes: all of the file that is read (trailing bytes are not). */
function promisedBytes(h: NpyHeader, file: string, size: number): number {
  const n = h.dataOffset + numVoxels(h.shape) * bytesPerVoxel(h.dtype);
  if (n > size) {
    throw new BadInputError(`${file}: .npy header promises ${h.shape.join('x')} ${h.dtype} values but the file is truncated (${size - h.dataOffset} of ${n - h.dataOffset} data bytes)`, file);
  }
  return n;
}

/** Reads the header first, then no more than it promises (and never before checking the file holds it). */
export function readNpySync(file: string): NdArray {
  const { fd, size } = openRegularSync(file);
  try {
    return decodeNpy(readRangeSync(fd, 0, promisedBytes(readNpyHeader(fd, file), file, size)), file);
  } finally {
    fs.closeSync(fd);
  }
}

export async function readNpy(file: string): Promise<NdArray> {
  return withRegularFile(file, {}, async (handle, size) => {
    const { dataOffset } = headerBounds(await readRange(handle, 0, PRELUDE_BYTES), file);
    const header = parseNpyHeader(await readRange(handle, 0, dataOffset), file);
    return decodeNpy(await readRange(handle, 0, promisedBytes(header, file, size)), file);
  });
}

/** Writes atomically (temporary sibling + rename). */
export function writeNpy(file: string, arr: NdArray): void {
  writeFileAtomic(file, encodeNpy(arr));
}
