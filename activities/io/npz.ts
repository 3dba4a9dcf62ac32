/**
 * numpy .npz archives (np.savez / np.savez_compressed): a zip of `<key>.npy` members, read with fflate.
 * Used for softmax probabilities (`<case>.npz`, key `softmax`) so predictions can be ensembled, by us or by numpy.
 * nnU-Net stores them as float16, and so do we (`Float16Array` members, rounded as numpy's astype(np.float16));
 * float16 members are read back as float32.
 */
import { unzipSync, zipSync } from 'fflate';
import { BadInputError } from '../common/errors';
import { readBytesSync } from './read-bytes';
import { writeFileAtomic } from '../common/atomic';
import { decodeNpy, encodeNpy, type NdArray } from './npy';

/** float32 values to be stored as float16 ('<f2'), the dtype nnU-Net saves its softmax in. */
export interface Float16NdArray { data: Float32Array; shape: number[]; dtype: 'float16' }

/** Writes every array as `<key>.npy`; `compress` deflates like np.savez_compressed (default), else stores. */
export function writeNpz(file: string, arrays: Record<string, NdArray | Float16NdArray>, compress = true): void {
  const members: Record<string, Uint8Array> = {};
  for (const [key, arr] of Object.entries(arrays)) members[`${key}.npy`] = arr.dtype === 'float16' ? encodeFloat16Npy(arr) : encodeNpy(arr);
  writeFileAtomic(file, Buffer.from(zipSync(members, { level: compress ? 1 : 0 })));
}

/** Reads every member of an .npz; float16 members come back as float32. */
export function readNpz(file: string): Record<string, NdArray> {
  const zipped: Uint8Array = readBytesSync(file);
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(zipped);
  } catch (err) {
    throw new BadInputError(`${file}: not a readable .npz (zip) archive (${(err as Error).message}); rewrite it with np.savez`, file);
  }
  const out: Record<string, NdArray> = {};
  for (const [name, bytes] of Object.entries(members)) {
    if (!name.endsWith('.npy')) continue;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    out[name.slice(0, -4)] = decodeNpy(float16ToFloat32Npy(buf), `${file}:${name}`);
  }
  return out;
}

/** Reads one key of an .npz, naming the file and the keys it has when the key is missing. */
export function readNpzArray(file: string, key: string): NdArray {
  const all = readNpz(file);
  const arr = all[key];
  if (!arr) throw new BadInputError(`${file}: no array '${key}' (has ${Object.keys(all).join(', ') || 'none'})`, file);
  return arr;
}

/** Rewrites a little-endian float16 .npy as a float32 one (other dtypes pass through unchanged). */
function float16ToFloat32Npy(npy: Buffer): Buffer {
  if (npy.length < 10) return npy;
  const major = npy[6];
  const lenBytes = major === 1 ? 2 : 4;
  const headerLen = lenBytes === 2 ? npy.readUInt16LE(8) : npy.readUInt32LE(8);
  const start = 8 + lenBytes + headerLen;
  const dict = npy.subarray(8 + lenBytes, start).toString('latin1');
  if (!/'descr'\s*:\s*'[<|=]f2'/.test(dict)) return npy;
  const n = Math.floor((npy.length - start) / 2);
  const f32 = new Float32Array(n);
  for (let i = 0; i < n; i++) f32[i] = halfToFloat(npy.readUInt16LE(start + 2 * i));
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict);
  const shape = (shapeMatch?.[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  return encodeNpy({ data: f32, shape: shape.length ? shape : [n], dtype: 'float32' });
}

/** IEEE 754 binary16 -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** An .npy of dtype '<f2' holding `arr.data` rounded to float16. */
export function encodeFloat16Npy(arr: Omit<Float16NdArray, 'dtype'>): Buffer {
  const half = new Uint16Array(arr.data.length);
  for (let i = 0; i < half.length; i++) half[i] = floatToHalf(arr.data[i]);
  // encodeNpy writes the header for a 2-byte dtype; only its descr differs from int16's
  const npy = encodeNpy({ data: new Int16Array(half.buffer), shape: arr.shape, dtype: 'int16' });
  const at = npy.indexOf("'<i2'", 0, 'latin1');
  npy.write("'<f2'", at, 'latin1');
  return npy;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** number -> IEEE 754 binary16 bits, rounding to nearest even exactly as numpy's float32 -> float16 cast. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const f = f32Bits[0];
  const sign = (f >>> 16) & 0x8000;
  const exp = f & 0x7f800000;
  let sig = f & 0x007fffff;
  if (exp >= 0x47800000) { // overflow, inf or NaN
    if (exp === 0x7f800000 && sig !== 0) return sign + Math.max(0x7c01, 0x7c00 + (sig >>> 13));
    return sign + 0x7c00;
  }
  if (exp <= 0x38000000) { // half subnormal or zero
    if (exp < 0x33000000) return sign;
    sig = (0x00800000 + sig) >>> (113 - (exp >>> 23));
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign + (sig >>> 13);
  }
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  return sign + ((exp - 0x38000000) >>> 13) + (sig >>> 13);
}
