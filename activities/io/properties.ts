/**
 * Per-case properties (nnU-Net keeps them in CASE.pkl beside CASE.npz; we keep CASE.json beside CASE.npy).
 * The keys nnU-Net v1 records are typed here (array axis order for sizes/spacings, ITK order for itk_*); stages
 * may add their own keys. Typed arrays are stored as plain JSON arrays.
 */
import { BadInputError } from '../common/errors';
import { writeJsonAtomic } from '../common/atomic';
import { readBytesSync } from './read-bytes';

export interface CaseProperties {
  original_size_of_raw_data?: number[];
  original_spacing?: number[];
  list_of_data_files?: string[];
  seg_file?: string | null;
  itk_origin?: number[];
  itk_spacing?: number[];
  itk_direction?: number[];
  crop_bbox?: number[][];
  classes?: number[];
  size_after_cropping?: number[];
  size_after_resampling?: number[];
  spacing_after_resampling?: number[];
  use_nonzero_mask_for_norm?: Record<string, boolean>;
  class_locations?: Record<string, number[][]>;
  [key: string]: unknown;
}

function plain(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

export function writeCaseProperties(file: string, props: CaseProperties): void {
  writeJsonAtomic(file, JSON.parse(JSON.stringify(props, plain)));
}

export function readCaseProperties(file: string): CaseProperties {
  const text = readBytesSync(file, { what: 'case properties' }).toString('utf8');
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as CaseProperties;
  } catch (err) {
    throw new BadInputError(`${file}: corrupt case properties (${(err as Error).message}); delete it and re-run preprocessing`, file);
  }
}
