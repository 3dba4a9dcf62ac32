/**
 * The cropped-data folder (nnUNet_raw_data_base/nnUNet_cropped_data/<task>): per case `<case>.npy`
 * (float32, (C + 1, z, y, x): cropped channels then the seg as last channel, like nnU-Net's npz `data`) and
 * `<case>.json` (nnU-Net's `<case>.pkl` properties). The json is written after the npy, so its presence with a
 * matching input signature means the case is complete.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { writeJsonAtomic } from '../common/atomic';
import { readNpySync, writeNpy } from '../io/npy';

/** Bump when the cropped format or the cropping rule changes: old outputs are then recomputed. */
export const CROPPED_FORMAT_VERSION = 1;

/** nnU-Net's per-case properties after cropping; all vectors in array order (z, y, x) unless itk_*. */
export interface CroppedCaseProperties {
  original_size_of_raw_data: number[];
  original_spacing: number[];
  list_of_data_files: string[];
  seg_file: string | null;
  /** ITK order (x, y, z), as SimpleITK reports them; used when exporting predictions. */
  itk_origin: number[];
  itk_spacing: number[];
  itk_direction: number[];
  /** [[z0, z1], [y0, y1], [x0, x1]], half-open. */
  crop_bbox: number[][];
  /** Sorted unique seg values after cropping, -1 included (nnU-Net's `classes`). */
  classes: number[];
  size_after_cropping: number[];
  /** nnunet-ts: hash of the input files (path, size, mtime) and the format version, for idempotence. */
  input_signature: string;
}

export const croppedNpy = (dir: string, caseId: string) => path.join(dir, `${caseId}.npy`);
export const croppedJson = (dir: string, caseId: string) => path.join(dir, `${caseId}.json`);

/** Hash of what the outputs depend on: each file's absolute path, size and modification time. */
export function inputSignature(files: readonly string[], version = CROPPED_FORMAT_VERSION): string {
  const h = createHash('sha256');
  h.update(`v${version}`);
  for (const f of files) {
    let st: fs.Stats;
    try {
      st = fs.statSync(f);
    } catch {
      throw new BadInputError(`${f}: missing; every case needs all its modality files (_0000, _0001, ...) and its label`, f);
    }
    h.update(`\0${path.resolve(f)}\0${st.size}\0${st.mtimeMs}`);
  }
  return h.digest('hex');
}

/** A float32 .npy (the cropped and preprocessed arrays); anything else names the file and the fix. */
export function readFloat32Npy(file: string): { data: Float32Array; shape: number[] } {
  const arr = readNpySync(file);
  if (arr.dtype !== 'float32') {
    throw new BadInputError(`${file}: expected float32 data, found ${arr.dtype}; delete it and rerun the stage that wrote it`, file);
  }
  return { data: arr.data as Float32Array, shape: arr.shape };
}

export function readCroppedProperties(dir: string, caseId: string): CroppedCaseProperties | null {
  const file = croppedJson(dir, caseId);
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as CroppedCaseProperties;
  } catch {
    return null; // torn or foreign file: recompute
  }
}

/** The stored case when it exists and was made from the same inputs; null otherwise. */
export function readCroppedCaseIfCurrent(dir: string, caseId: string, signature: string):
  { properties: CroppedCaseProperties; data: Float32Array; shape: number[] } | null {
  const properties = readCroppedProperties(dir, caseId);
  if (!properties || properties.input_signature !== signature || !fs.existsSync(croppedNpy(dir, caseId))) return null;
  const { data, shape } = readFloat32Npy(croppedNpy(dir, caseId));
  return { properties, data, shape };
}

/** Loads a cropped case for preprocessing; a missing case is an error that says to run the fingerprint. */
export function loadCroppedCase(dir: string, caseId: string): { properties: CroppedCaseProperties; data: Float32Array; shape: number[] } {
  const properties = readCroppedProperties(dir, caseId);
  if (!properties || !fs.existsSync(croppedNpy(dir, caseId))) {
    throw new BadInputError(`${croppedJson(dir, caseId)}: cropped case missing; run the fingerprint stage (nnunet plan-and-preprocess) first`, croppedJson(dir, caseId));
  }
  const { data, shape } = readFloat32Npy(croppedNpy(dir, caseId));
  return { properties, data, shape };
}

export function writeCroppedCase(dir: string, caseId: string, data: Float32Array, shape: readonly number[], properties: CroppedCaseProperties): void {
  writeNpy(croppedNpy(dir, caseId), { data, shape: [...shape], dtype: 'float32' });
  writeJsonAtomic(croppedJson(dir, caseId), properties);
}
