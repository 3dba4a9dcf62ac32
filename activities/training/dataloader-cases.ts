/**
 * Lazy access to preprocessed training cases (<stage dir>/<case>.npy float32 (C+1, z, y, x), seg last, and
 * <case>.json with class_locations). Only the z-slab a patch needs is read from disk (nnU-Net memory-maps the
 * .npy for the same reason), so memory stays bounded whatever the case size; headers and class locations are
 * kept in a small LRU.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';

/** Foreground class -> stored voxel coordinates, flat [n * 3] (z, y, x in preprocessed space). */
export type ClassLocations = Map<number, Int32Array>;

export interface CaseInfo {
  id: string;
  npyFile: string;
  /** (C+1, z, y, x). */
  shape: [number, number, number, number];
  dataOffset: number;
  classLocations: ClassLocations;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

function readHeader(file: string): { shape: number[]; dataOffset: number } {
  const bad = (why: string) => new BadInputError(`${file}: not a preprocessed float32 .npy case (${why}); run the preprocess step again`, file);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new BadInputError(`${file}: cannot open (${(err as NodeJS.ErrnoException).code}); is the case listed in the split preprocessed?`, file);
  }
  try {
    const head = Buffer.alloc(12);
    fs.readSync(fd, head, 0, 12, 0);
    if (!head.subarray(0, 6).equals(MAGIC)) throw bad('no \\x93NUMPY magic');
    const major = head[6]!;
    const lenBytes = major === 1 ? 2 : 4;
    const headerLen = lenBytes === 2 ? head.readUInt16LE(8) : head.readUInt32LE(8);
    const dict = Buffer.alloc(headerLen);
    fs.readSync(fd, dict, 0, headerLen, 8 + lenBytes);
    const text = dict.toString('latin1');
    if (!/'descr'\s*:\s*'<f4'/.test(text)) throw bad(`dtype in ${text.trim()}`);
    if (!/'fortran_order'\s*:\s*False/.test(text)) throw bad('Fortran order');
    const m = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
    if (!m) throw bad('no shape');
    const shape = m[1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    const dataOffset = 8 + lenBytes + headerLen;
    const need = dataOffset + shape.reduce((a, b) => a * b, 1) * 4;
    if (fs.fstatSync(fd).size < need) throw bad('file is truncated');
    return { shape, dataOffset };
  } finally {
    fs.closeSync(fd);
  }
}

function parseClassLocations(file: string, raw: unknown): ClassLocations {
  const out: ClassLocations = new Map();
  if (raw === undefined || raw === null || typeof raw !== 'object') {
    throw new BadInputError(`${file}: no class_locations; preprocess the task again with this version`, file);
  }
  for (const [key, list] of Object.entries(raw as Record<string, unknown>)) {
    const cls = Number(key);
    if (!Array.isArray(list)) throw new BadInputError(`${file}: class_locations["${key}"] is not a list`, file);
    const flat = new Int32Array(list.length * 3);
    list.forEach((v, i) => { flat[3 * i] = v[0]; flat[3 * i + 1] = v[1]; flat[3 * i + 2] = v[2]; });
    out.set(cls, flat);
  }
  return out;
}

/** Small LRU of case headers and class locations for one stage folder. */
export class CaseStore {
  private readonly infos = new Map<string, CaseInfo>();

  constructor(readonly dir: string, private readonly capacity = 32) {}

  info(id: string): CaseInfo {
    const hit = this.infos.get(id);
    if (hit) {
      this.infos.delete(id);
      this.infos.set(id, hit);
      return hit;
    }
    const npyFile = path.join(this.dir, `${id}.npy`);
    const jsonFile = path.join(this.dir, `${id}.json`);
    const { shape, dataOffset } = readHeader(npyFile);
    if (shape.length !== 4 || shape[0]! < 2) {
      throw new BadInputError(`${npyFile}: expected (channels + seg, z, y, x), got (${shape.join(', ')}); preprocess again`, npyFile);
    }
    let props: { class_locations?: unknown };
    try {
      props = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    } catch (err) {
      throw new BadInputError(`${jsonFile}: cannot read case properties (${(err as Error).message}); preprocess again`, jsonFile);
    }
    const info: CaseInfo = { id, npyFile, shape: shape as CaseInfo['shape'], dataOffset, classLocations: parseClassLocations(jsonFile, props.class_locations) };
    this.infos.set(id, info);
    if (this.infos.size > this.capacity) this.infos.delete(this.infos.keys().next().value!);
    return info;
  }

  /** Voxels [z0, z1) of every channel: Float32Array (C+1, z1 - z0, y, x). One read per channel. */
  readSlab(info: CaseInfo, z0: number, z1: number): Float32Array {
    const [ch, Z, Y, X] = info.shape;
    if (z0 < 0 || z1 > Z || z1 <= z0) throw new RangeError(`readSlab [${z0}, ${z1}) of ${Z} slices`);
    const plane = Y * X;
    const out = new Float32Array(ch * (z1 - z0) * plane);
    const bytes = new Uint8Array(out.buffer);
    const fd = fs.openSync(info.npyFile, 'r');
    try {
      const perChannel = (z1 - z0) * plane * 4;
      for (let c = 0; c < ch; c++) {
        const pos = info.dataOffset + (c * Z + z0) * plane * 4;
        const n = fs.readSync(fd, bytes, c * perChannel, perChannel, pos);
        if (n !== perChannel) throw new BadInputError(`${info.npyFile}: short read (file changed while training?)`, info.npyFile);
      }
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }
}
