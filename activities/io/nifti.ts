/**
 * NIfTI-1/NIfTI-2 reading (.nii, .nii.gz) and NIfTI-1 writing. Headers are parsed by nifti-reader-js; gzip is
 * node's native zlib. Geometry follows ITK (see nifti-xform.ts); voxel data lands in one typed array in
 * nnU-Net's array order, (z, y, x) or (c, z, y, x), which is the file's own byte order (x fastest), so no
 * reordering happens. Every problem with a file is a BadInputError naming it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type * as NiftiReaderModule from 'nifti-reader-js';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { openRegularSync, readRange, readRangeSync, withRegularFile } from './read-bytes';
import { dataLimits, formatGb, MAX_IMAGE_MEMORY_SETTING } from './data-limits';
import type { Geometry, Vec3 } from './geometry';
import { geometryFromNifti, niftiXformFromGeometry, type NiftiXformFields, type XformSource } from './nifti-xform';
import { allocate, arrayConstructor, bytesPerVoxel, numVoxels, type DType, type Volume, type VoxelArray } from './volume';

/** NIfTI datatype codes we read, and the array type each becomes. */
const DATATYPES: Record<number, DType | 'int64' | 'uint64'> = {
  2: 'uint8', 4: 'int16', 8: 'int32', 16: 'float32', 64: 'float64', 256: 'int8', 512: 'uint16', 768: 'uint32',
  1024: 'int64', 1280: 'uint64',
};
const REFUSED_DATATYPES: Record<number, string> = {
  1: 'binary (1 bit)', 32: 'complex64', 128: 'RGB24', 1536: 'float128', 1792: 'complex128', 2048: 'complex256', 2304: 'RGBA32',
};
const DTYPE_CODES: Record<DType, number> = {
  uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768,
};

/** What a reader may want to know beyond the voxels. */
export interface NiftiInfo {
  version: 1 | 2;
  /** The datatype stored in the file (before scl_slope/scl_inter). */
  fileDatatype: string;
  qformCode: number;
  sformCode: number;
  /** The transform the geometry came from (ITK's choice). */
  xformSource: XformSource;
  sclSlope: number;
  sclInter: number;
}

export type NiftiVolume = Volume & { nifti: NiftiInfo };

let niftiReader: typeof NiftiReaderModule | undefined;

/**
 * nifti-reader-js ships only as an ES module with an import-only exports map; node >= 20.19 can require() an ES
 * module by file path, which keeps this reader synchronous inside our CommonJS build.
 */
function reader(): typeof NiftiReaderModule {
  if (niftiReader) return niftiReader;
  for (const dir of require.resolve.paths('nifti-reader-js') ?? []) {
    const file = path.join(dir, 'nifti-reader-js', 'dist', 'nifti.js');
    if (fs.existsSync(file)) {
      try {
        niftiReader = require(file) as typeof NiftiReaderModule;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM') throw new Error(`nifti-reader-js is an ES module: Node >= 20.19 is needed to load it (this is ${process.version})`);
        throw err;
      }
      return niftiReader;
    }
  }
  throw new Error('nifti-reader-js is not installed: run npm install');
}

const gunzipAsync = promisify(zlib.gunzip);
const gzipAsync = promisify(zlib.gzip);

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

function gunzipError(file: string, err: unknown, expected: number): BadInputError {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
    return new BadInputError(`${file}: decompresses to more than the ${expected} bytes its header promises (header plus voxels); the header is wrong or the file is corrupt: re-export it`, file);
  }
  return new BadInputError(`${file}: truncated or corrupt gzip data (${(err as Error).message}); re-copy or re-export the file`, file);
}

/** Bytes read first: enough for any header, and for the start of a gzip stream holding one. */
const HEAD_BYTES = 64 * 1024;
/** Bytes a gzip stream may hold beyond the header's promise (padding some writers add) before it is refused. */
const TRAILING_SLACK = 1 << 20;
const NIFTI2_HEADER = 540;

/**
 * The header bytes of a file's first bytes: as they are, or for gzip, inflated from a growing prefix until they
 * hold a NIfTI-2 header, so that a small file promising gigabytes costs kilobytes to look at.
 */
function headerBytes(head: Buffer, file: string): Buffer {
  if (!isGzip(head)) return head;
  for (const prefix of [1024, 4096, 16384, HEAD_BYTES]) {
    const part = head.subarray(0, Math.min(prefix, head.length));
    let out: Buffer;
    try {
      out = zlib.gunzipSync(part, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (err) {
      throw gunzipError(file, err, 0);
    }
    if (out.length >= NIFTI2_HEADER) return out;
    if (part.length === head.length) {
      // The whole (small) stream gave no full header: a strict inflate says whether it is cut short.
      try {
        zlib.gunzipSync(head);
      } catch (err) {
        throw gunzipError(file, err, 0);
      }
      return out;
    }
  }
  throw new BadInputError(`${file}: the first ${HEAD_BYTES} gzip bytes hold no NIfTI header; re-export the file`, file);
}

/** What the header promises, checked before any voxel is read. */
interface NiftiLayout {
  header: ParsedHeader;
  stored: DType | 'int64' | 'uint64';
  shape: number[];
  bytesPerVoxel: number;
  /** Header plus voxel bytes: what the file holds, uncompressed, at least. */
  needed: number;
  gzip: boolean;
}

/** scl_slope/scl_inter that change values (ITK ignores a slope of 0 or NaN). */
function isScaled(slope: number, inter: number): boolean {
  return Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0));
}

/** Memory a read takes at its peak: the compressed bytes, the inflated bytes, the voxel copy, a scaled or narrowed copy. */
function peakReadBytes(l: NiftiLayout, fileSize: number): number {
  const n = numVoxels(l.shape);
  const converted = isScaled(l.header.sclSlope, l.header.sclInter) || l.stored === 'int64' || l.stored === 'uint64' ? n * 8 : 0;
  return (l.gzip ? fileSize : 0) + l.needed + n * l.bytesPerVoxel + converted;
}

function layoutOf(head: Buffer, file: string, fileSize: number): NiftiLayout {
  const header = parseHeader(headerBytes(head, file), file);
  const code = header.datatypeCode;
  const stored = DATATYPES[code];
  if (!stored) {
    const what = REFUSED_DATATYPES[code] ?? `datatype code ${code}`;
    const fix = what.startsWith('RGB') ? 'convert it to one grayscale channel per file (nnU-Net reads scalar images only)' : 'convert it to an integer or float32 image';
    throw new BadInputError(`${file}: ${what} voxels are not supported; ${fix}`, file);
  }
  const shape = shapeFromDims(header.dims, file);
  const bpv = stored === 'int64' || stored === 'uint64' ? 8 : bytesPerVoxel(stored);
  const headerSize = header.version === 1 ? 348 : NIFTI2_HEADER;
  if (!Number.isInteger(header.voxOffset) || header.voxOffset < headerSize) {
    throw new BadInputError(`${file}: corrupt header: vox_offset = ${header.voxOffset}`, file);
  }
  const layout: NiftiLayout = { header, stored, shape, bytesPerVoxel: bpv, needed: header.voxOffset + numVoxels(shape) * bpv, gzip: isGzip(head) };
  const peak = peakReadBytes(layout, fileSize);
  const { maxImageBytes } = dataLimits();
  if (peak > maxImageBytes) {
    throw new BadInputError(
      `${file}: header promises ${shape.join('x')} ${stored} voxels; reading it needs about ${formatGb(peak)} of memory, more than ` +
        `the ${formatGb(maxImageBytes)} allowed; if the image is really that large and this machine has the memory, raise ` +
        `${MAX_IMAGE_MEMORY_SETTING}, otherwise the header is wrong: re-export the file`, file);
  }
  return layout;
}

function truncated(file: string, l: NiftiLayout, got: number): BadInputError {
  const voxelBytes = l.needed - l.header.voxOffset;
  return new BadInputError(
    `${file}: header promises ${l.shape.join('x')} ${l.stored} voxels (${voxelBytes} bytes from offset ${l.header.voxOffset}) but the file holds only ${Math.max(0, got - l.header.voxOffset)} bytes of voxel data: the file is truncated or its header is wrong`,
    file);
}

const IMAGE_CTX = {};

export function readNiftiSync(file: string): NiftiVolume {
  const { fd, size } = openRegularSync(file, IMAGE_CTX);
  let bytes: Buffer;
  let layout: NiftiLayout;
  try {
    layout = layoutOf(readRangeSync(fd, 0, Math.min(size, HEAD_BYTES)), file, size);
    if (layout.gzip) {
      try {
        bytes = zlib.gunzipSync(readRangeSync(fd, 0, size), { maxOutputLength: layout.needed + TRAILING_SLACK });
      } catch (err) {
        throw gunzipError(file, err, layout.needed);
      }
    } else {
      if (size < layout.needed) throw truncated(file, layout, size); // before allocating what the header promises
      bytes = readRangeSync(fd, 0, layout.needed);
    }
  } finally {
    fs.closeSync(fd);
  }
  return decodeNifti(bytes, file, layout);
}

/** The memory reading `file` will take at its peak, from its header alone (the checks of readNifti apply). */
export async function niftiReadCost(file: string): Promise<number> {
  return withRegularFile(file, IMAGE_CTX, async (handle, size) => peakReadBytes(layoutOf(await readRange(handle, 0, Math.min(size, HEAD_BYTES)), file, size), size));
}

export async function readNifti(file: string): Promise<NiftiVolume> {
  return withRegularFile(file, IMAGE_CTX, async (handle, size) => {
    const layout = layoutOf(await readRange(handle, 0, Math.min(size, HEAD_BYTES)), file, size);
    let bytes: Buffer;
    if (layout.gzip) {
      const compressed = await readRange(handle, 0, size);
      try {
        bytes = await gunzipAsync(compressed, { maxOutputLength: layout.needed + TRAILING_SLACK });
      } catch (err) {
        throw gunzipError(file, err, layout.needed);
      }
    } else {
      if (size < layout.needed) throw truncated(file, layout, size);
      bytes = await readRange(handle, 0, layout.needed);
    }
    return decodeNifti(bytes, file, layout);
  });
}

/** Header fields we need, from nifti-reader-js plus the raw srow/quatern values it does not expose as such. */
interface ParsedHeader {
  version: 1 | 2;
  littleEndian: boolean;
  dims: number[];
  datatypeCode: number;
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  xform: NiftiXformFields;
}

const HEADER_PROBE_BYTES = 1 << 20;

function parseHeader(bytes: Buffer, file: string): ParsedHeader {
  const probe = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + Math.min(bytes.byteLength, HEADER_PROBE_BYTES)) as ArrayBuffer;
  const lib = reader();
  let h: ReturnType<typeof lib.readHeader>;
  try {
    if (!lib.isNIFTI(probe)) throw new Error('no NIfTI-1/NIfTI-2 magic');
    h = lib.readHeader(probe);
  } catch (err) {
    throw new BadInputError(`${file}: not a readable NIfTI file (${(err as Error).message}); expected .nii or .nii.gz (NIfTI-1 or NIfTI-2)`, file);
  }
  const version: 1 | 2 = h instanceof lib.NIFTI2 ? 2 : 1;
  const view = new DataView(probe);
  const le = h.littleEndian;
  // Byte offsets of the transform fields (nifti1.h / nifti2.h); the library only exposes a blended `affine`.
  const float = version === 1 ? (o: number) => view.getFloat32(o, le) : (o: number) => view.getFloat64(o, le);
  const at = version === 1
    ? { q: 256, qoff: 268, srow: 280, step: 4 }
    : { q: 352, qoff: 376, srow: 400, step: 8 };
  const srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => float(at.srow + (4 * r + c) * at.step))) as [number[], number[], number[]];
  const vec = (o: number): Vec3 => [float(o), float(o + at.step), float(o + 2 * at.step)];
  return {
    version,
    littleEndian: le,
    dims: Array.from(h.dims, Number),
    datatypeCode: h.datatypeCode,
    voxOffset: Number(h.vox_offset),
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
    xform: {
      qformCode: h.qform_code,
      sformCode: h.sform_code,
      quatern: vec(at.q),
      qoffset: vec(at.qoff),
      pixdim0: h.pixDims[0],
      pixdim: [h.pixDims[1], h.pixDims[2], h.pixDims[3]],
      srow,
      xyztUnits: h.xyzt_units,
    },
  };
}

/** Array-order shape from NIfTI dims: [z, y, x] or [c, z, y, x]. */
function shapeFromDims(dims: number[], file: string): number[] {
  const ndim = dims[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new BadInputError(`${file}: corrupt header: dim[0] = ${ndim} (must be 1..7)`, file);
  const d = (i: number) => (i <= ndim ? dims[i] : 1);
  for (let i = 1; i <= ndim; i++) {
    if (!Number.isInteger(dims[i]) || dims[i] < 1) throw new BadInputError(`${file}: corrupt header: dim[${i}] = ${dims[i]}`, file);
  }
  for (let i = 5; i <= ndim; i++) {
    if (dims[i] > 1) throw new BadInputError(`${file}: ${ndim}-D NIfTI (dim = ${dims.slice(1, ndim + 1).join('x')}) is not supported; use 3D files, or 4D with channels on the 4th axis`, file);
  }
  const spatial = [d(3), d(2), d(1)];
  return d(4) > 1 ? [d(4), ...spatial] : spatial;
}

function decodeNifti(bytes: Buffer, file: string, layout: NiftiLayout): NiftiVolume {
  const { header: h, stored, shape, bytesPerVoxel: bpv, needed } = layout;
  const n = numVoxels(shape);
  if (needed > bytes.byteLength) throw truncated(file, layout, bytes.byteLength);
  const raw = new Uint8Array(n * bpv);
  raw.set(bytes.subarray(h.voxOffset, needed));
  if (!h.littleEndian && bpv > 1) swapBytes(raw, bpv);
  let data: VoxelArray = stored === 'int64' || stored === 'uint64' ? narrow64(raw, stored, file) : new (arrayConstructor(stored))(raw.buffer);
  let dtype: DType = stored === 'int64' || stored === 'uint64' ? 'int32' : stored;
  const slope = h.sclSlope;
  const inter = h.sclInter;
  if (isScaled(slope, inter)) {
    // As ITK: scaled data becomes float (double for double input).
    dtype = dtype === 'float64' ? 'float64' : 'float32';
    const out = allocate(dtype, n);
    const b = Number.isFinite(inter) ? inter : 0;
    for (let i = 0; i < n; i++) out[i] = data[i] * slope + b;
    data = out;
  }
  let geometry: Geometry;
  let xformSource: XformSource;
  try {
    ({ geometry, source: xformSource } = geometryFromNifti(h.xform));
  } catch (err) {
    throw new BadInputError(`${file}: ${(err as Error).message}`, file);
  }
  return {
    data, shape, dtype, geometry,
    nifti: {
      version: h.version, fileDatatype: stored, qformCode: h.xform.qformCode, sformCode: h.xform.sformCode, xformSource,
      sclSlope: slope, sclInter: inter,
    },
  };
}

function swapBytes(raw: Uint8Array, width: number): void {
  for (let i = 0; i < raw.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = raw[a]; raw[a] = raw[b]; raw[b] = t;
    }
  }
}

/** 64-bit integer images (nibabel's default for int64 arrays) become int32 when every value fits. */
function narrow64(raw: Uint8Array, kind: 'int64' | 'uint64', file: string): Int32Array {
  const src = kind === 'int64' ? new BigInt64Array(raw.buffer) : new BigUint64Array(raw.buffer);
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v > 2147483647n || v < -2147483648n) {
      throw new BadInputError(`${file}: ${kind} voxel value ${v} does not fit in int32; store the image as int32 or float32`, file);
    }
    out[i] = Number(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

const NIFTI1_VOX_OFFSET = 352;

export interface WriteNiftiOptions {
  /** gzip level 0..9 (default 1: fast, and label maps still shrink 20-100x). Ignored for .nii. */
  gzipLevel?: number;
  description?: string;
}

/** NIfTI-1 bytes for a volume: sform and qform both set (code 1, scanner anatomical) from its geometry. */
export function encodeNifti1(volume: Volume, options: WriteNiftiOptions = {}): Buffer {
  const { shape, dtype, geometry } = volume;
  if (shape.length !== 3 && shape.length !== 4) throw new RangeError(`cannot write a ${shape.length}-D array as NIfTI`);
  if (volume.data.length !== numVoxels(shape)) throw new RangeError(`data length ${volume.data.length} does not match shape ${shape.join('x')}`);
  const bpv = bytesPerVoxel(dtype);
  const out = Buffer.alloc(NIFTI1_VOX_OFFSET + volume.data.length * bpv);
  const v = new DataView(out.buffer, out.byteOffset, NIFTI1_VOX_OFFSET);
  const [nz, ny, nx] = shape.slice(-3);
  const nc = shape.length === 4 ? shape[0] : 1;
  const x = niftiXformFromGeometry(geometry);
  v.setInt32(0, 348, true);
  out[38] = 'r'.charCodeAt(0);
  const dim = shape.length === 4 ? [4, nx, ny, nz, nc, 1, 1, 1] : [3, nx, ny, nz, 1, 1, 1, 1];
  dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, DTYPE_CODES[dtype], true);
  v.setInt16(72, bpv * 8, true);
  const pixdim = [x.qfac, geometry.spacing[0], geometry.spacing[1], geometry.spacing[2], 1, 1, 1, 1];
  pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, NIFTI1_VOX_OFFSET, true);
  v.setFloat32(112, 1, true); // scl_slope: values are stored as they are
  v.setFloat32(116, 0, true);
  out[123] = 2 | 8; // xyzt_units: mm, s
  out.write((options.description ?? 'nnunet-ts').slice(0, 79), 148, 'latin1');
  v.setInt16(252, 1, true); // qform_code: scanner anatomical
  v.setInt16(254, 1, true); // sform_code: scanner anatomical
  x.quatern.forEach((q, i) => v.setFloat32(256 + 4 * i, q, true));
  x.qoffset.forEach((q, i) => v.setFloat32(268 + 4 * i, q, true));
  x.srow.forEach((row, r) => row.forEach((s, c) => v.setFloat32(280 + 16 * r + 4 * c, s, true)));
  out.write('n+1\0', 344, 'latin1');
  const src = new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
  out.set(src, NIFTI1_VOX_OFFSET); // little-endian hosts only (x86, arm64), as every typed array here
  return out;
}

function wantsGzip(file: string): boolean {
  if (file.endsWith('.nii.gz')) return true;
  if (file.endsWith('.nii')) return false;
  throw new BadInputError(`${file}: NIfTI output must end in .nii.gz or .nii`, file);
}

export function writeNiftiSync(file: string, volume: Volume, options: WriteNiftiOptions = {}): void {
  const bytes = encodeNifti1(volume, options);
  writeFileAtomic(file, wantsGzip(file) ? zlib.gzipSync(bytes, { level: options.gzipLevel ?? 1 }) : bytes);
}

/** Writes atomically (temporary sibling + rename); gzip runs on libuv's thread pool. */
export async function writeNifti(file: string, volume: Volume, options: WriteNiftiOptions = {}): Promise<void> {
  const bytes = encodeNifti1(volume, options);
  writeFileAtomic(file, wantsGzip(file) ? await gzipAsync(bytes, { level: options.gzipLevel ?? 1 }) : bytes);
}
