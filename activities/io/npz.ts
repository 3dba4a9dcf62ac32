/**
 * numpy .npz archives (np.savez / np.savez_compressed): a zip of `<key>.npy` members, read with fflate.
 * Used for softmax probabilities (`<case>.npz`, key `softmax`) so predictions can be ensembled, by us or by numpy.
 * nnU-Net stores them as float16; we write float32 and read float16 members (converted to float32) as well.
 */
import { unzipSync, zipSync } from 'fflate';
import { BadInputError } from '../common/errors';
import { readBytesSync } from './read-bytes';
import { writeFileAtomic } from '../common/atomic';
import { decodeNpy, encodeNpy, type NdArray } from './npy';

/** Writes every array as `<key>.npy`; `compress` deflates like np.savez_compressed (default), else stores. */
export function writeNpz(file: string, arrays: Record<string, NdArray>, compress = true): void {
  const members: Record<string, Uint8Array> = {};
  for (const [key, arr] of Object.entries(arrays)) members[`${key}.npy`] = encodeNpy(arr);
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
