/**
 * Lazy access to preprocessed training cases (<stage dir>/<case>.npy float32 (C+1, z, y, x), seg last, and
 * <case>.json with class_locations; for the cascade also <prev dir>/<case>_segFromPrevStage.npy (z, y, x)). Only the z-slab a patch needs is read from disk (nnU-Net memory-maps the
 * .npy for the same reason), so memory stays bounded whatever the case size; headers and class locations are
 * kept in a small LRU.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { readNpyHeader, type NpyHeader } from '../io/npy';
import { arrayConstructor, bytesPerVoxel, type DType } from '../io/volume';
import { segFromPrevStageFile } from '../io/layout';

/**
 * Sampling key -> stored voxel coordinates, flat [n * 3] (z, y, x in preprocessed space). Keys as stored: a label
 * ("2"), a v2 region ("1,2,3"), or v2's annotated-voxels key with an ignore label ("-1,0,1,2": -1 then every label).
 */
export type ClassLocations = Map<string, Int32Array>;

const LOCATION_KEY = /^-?\d+(,-?\d+)*$/;

/** v2's annotated_classes_key (tuple([-1] + all_labels)): present only for datasets with an ignore label. */
export const isAnnotatedKey = (key: string): boolean => key.startsWith('-1,');

export interface CaseInfo {
  id: string;
  npyFile: string;
  /** (C+1, z, y, x). */
  shape: [number, number, number, number];
  layout: NpyLayout;
  classLocations: ClassLocations;
  /** Cascade: the previous stage's segmentation (z, y, x) on the same grid. */
  previousStage?: NpyLayout;
}

/** Where the cascade's previous-stage segmentation of a case lives (nnU-Net's <case>_segFromPrevStage). */
export const previousStageFile = segFromPrevStageFile;

/** A C-order little-endian .npy on disk: where its data starts, its shape and dtype. */
export interface NpyLayout { file: string; shape: number[]; dtype: DType; dataOffset: number }

export function readNpyLayout(file: string, what: string): NpyLayout {
  const bad = (why: string) => new BadInputError(`${file}: not a readable ${what} .npy (${why}); run the step that writes it again`, file);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new BadInputError(`${file}: cannot open (${(err as NodeJS.ErrnoException).code}); is the case listed in the split preprocessed?`, file);
  }
  try {
    let header: NpyHeader;
    try {
      header = readNpyHeader(fd, file);
    } catch (err) {
      if (err instanceof BadInputError) throw new BadInputError(`${err.message}; run the step that writes this ${what} again`, file);
      throw err;
    }
    const { shape, dtype, byteOrder, dataOffset } = header;
    // Slabs are read as stored: only little-endian (or single-byte) data, as numpy writes it on this machine.
    if (byteOrder !== (bytesPerVoxel(dtype) === 1 ? '|' : '<')) throw bad(`dtype ${byteOrder}${dtype}`);
    if (fs.fstatSync(fd).size < dataOffset + shape.reduce((a, b) => a * b, 1) * bytesPerVoxel(dtype)) throw bad('file is truncated');
    return { file, shape, dtype, dataOffset };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Voxels [z0, z1) of every channel of a (channels, z, y, x) array as float32 (channels, z1 - z0, y, x): one
 * read per channel.
 */
export function readSlab(layout: NpyLayout, channels: number, z0: number, z1: number): Float32Array {
  const [Z, Y, X] = layout.shape.slice(-3) as [number, number, number];
  if (z0 < 0 || z1 > Z || z1 <= z0) throw new RangeError(`readSlab [${z0}, ${z1}) of ${Z} slices`);
  const bpv = bytesPerVoxel(layout.dtype);
  const plane = Y * X;
  const perChannel = (z1 - z0) * plane;
  const raw = new Uint8Array(channels * perChannel * bpv);
  const fd = fs.openSync(layout.file, 'r');
  try {
    for (let c = 0; c < channels; c++) {
      const pos = layout.dataOffset + (c * Z + z0) * plane * bpv;
      const n = fs.readSync(fd, raw, c * perChannel * bpv, perChannel * bpv, pos);
      if (n !== perChannel * bpv) throw new BadInputError(`${layout.file}: short read (file changed while training?)`, layout.file);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (layout.dtype === 'float32') return new Float32Array(raw.buffer);
  return Float32Array.from(new (arrayConstructor(layout.dtype))(raw.buffer));
}

function parseClassLocations(file: string, raw: unknown): ClassLocations {
  const out: ClassLocations = new Map();
  if (raw === undefined || raw === null || typeof raw !== 'object') {
    throw new BadInputError(`${file}: no class_locations; preprocess the task again with this version`, file);
  }
  for (const [key, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!LOCATION_KEY.test(key)) throw new BadInputError(`${file}: class_locations key "${key}" is neither a label nor a region; preprocess again`, file);
    if (!Array.isArray(list)) throw new BadInputError(`${file}: class_locations["${key}"] is not a list`, file);
    const flat = new Int32Array(list.length * 3);
    list.forEach((v, i) => { flat[3 * i] = v[0]; flat[3 * i + 1] = v[1]; flat[3 * i + 2] = v[2]; });
    out.set(key, flat);
  }
  return out;
}

/** Small LRU of case headers and class locations for one stage folder. */
export class CaseStore {
  private readonly infos = new Map<string, CaseInfo>();

  constructor(readonly dir: string, private readonly capacity = 32, private readonly previousStageDir?: string) {}

  info(id: string): CaseInfo {
    const hit = this.infos.get(id);
    if (hit) {
      this.infos.delete(id);
      this.infos.set(id, hit);
      return hit;
    }
    const npyFile = path.join(this.dir, `${id}.npy`);
    const jsonFile = path.join(this.dir, `${id}.json`);
    const layout = readNpyLayout(npyFile, 'preprocessed case');
    const shape = layout.shape;
    if (layout.dtype !== 'float32' || shape.length !== 4 || shape[0]! < 2) {
      throw new BadInputError(`${npyFile}: expected float32 (channels + seg, z, y, x), got ${layout.dtype} (${shape.join(', ')}); preprocess again`, npyFile);
    }
    let previousStage: NpyLayout | undefined;
    if (this.previousStageDir) {
      previousStage = readNpyLayout(previousStageFile(this.previousStageDir, id), 'previous-stage segmentation');
      const want = shape.slice(1).join(', ');
      if (previousStage.shape.join(', ') !== want) {
        throw new BadInputError(`${previousStage.file}: shape (${previousStage.shape.join(', ')}) differs from the case's (${want}); predict the lowres stage again`, previousStage.file);
      }
    }
    let props: { class_locations?: unknown };
    try {
      props = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    } catch (err) {
      throw new BadInputError(`${jsonFile}: cannot read case properties (${(err as Error).message}); preprocess again`, jsonFile);
    }
    const info: CaseInfo = { id, npyFile, shape: shape as CaseInfo['shape'], layout, classLocations: parseClassLocations(jsonFile, props.class_locations), previousStage };
    this.infos.set(id, info);
    if (this.infos.size > this.capacity) this.infos.delete(this.infos.keys().next().value!);
    return info;
  }

  /** Voxels [z0, z1) of every channel: Float32Array (C+1, z1 - z0, y, x). */
  readSlab(info: CaseInfo, z0: number, z1: number): Float32Array {
    return readSlab(info.layout, info.shape[0], z0, z1);
  }
}
