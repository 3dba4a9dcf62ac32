/**
 * One case of preprocessing (runs in a worker thread), in nnU-Net v1's order: load the cropped case,
 * transpose with transpose_forward, NaN -> 0 in the image channels, resample to the stage spacing, seg values
 * < -1 -> 0, normalize, sample class locations, write <case>.npy ((C + 1, z, y, x) float32, seg last) and
 * <case>.json (the cropped properties plus nnU-Net's preprocessing keys). Reuses a current output.
 * See docs/preprocessing.md, 'Order of the preprocessing steps'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeNpy } from '../io/npy';
import { BadInputError } from '../common/errors';
import { countNonFinite, NON_FINITE_FIX } from '../io/finite';
import { writeJsonAtomic } from '../common/atomic';
import { loadCroppedCase, readFloat32Npy, type CroppedCaseProperties } from '../fingerprint/cropped-store';
import { serveWorkerRequests } from '../common/worker-pool';
import { sampleClassLocations, type ClassLocations } from './class-locations';
import { resampleAndNormalize, type StageParams } from './pipeline';

export interface PreprocessCaseInput extends StageParams {
  caseId: string;
  croppedDir: string;
  outDir: string;
  useNonzeroMaskForNorm: Record<string, boolean>;
  allClasses: number[];
  /** Hash of the cropped case and every parameter above: equal means the stored output is current. */
  signature: string;
}

export interface PreprocessCaseOutput { caseId: string; reused: boolean; shape: number[] }

export interface PreprocessedCaseProperties extends Omit<CroppedCaseProperties, 'input_signature'> {
  use_nonzero_mask_for_norm: Record<string, boolean>;
  /** Transposed order. */
  size_after_resampling: number[];
  spacing_after_resampling: number[];
  class_locations: ClassLocations;
  input_signature: string;
}

export const preprocessedNpy = (dir: string, caseId: string) => path.join(dir, `${caseId}.npy`);
export const preprocessedJson = (dir: string, caseId: string) => path.join(dir, `${caseId}.json`);

function isCurrent(input: PreprocessCaseInput): number[] | null {
  try {
    const props = JSON.parse(fs.readFileSync(preprocessedJson(input.outDir, input.caseId), 'utf8')) as PreprocessedCaseProperties;
    if (props.input_signature !== input.signature || !fs.existsSync(preprocessedNpy(input.outDir, input.caseId))) return null;
    return props.size_after_resampling;
  } catch {
    return null;
  }
}

/** A NaN never reaches a preprocessed array: it would make the whole channel NaN in training. */
function refuseNonFinite(data: Float32Array, caseId: string, properties: CroppedCaseProperties, where: string): void {
  const c = countNonFinite(data);
  if (c.nan === 0 && c.inf === 0) return;
  const files = properties.list_of_data_files ?? [];
  throw new BadInputError(
    `case ${caseId} (${files.join(', ') || 'unknown files'}): ${where} holds ${c.nan} NaN and ${c.inf} Inf values; nothing was written. ` +
      `Check the images: ${NON_FINITE_FIX}; then run the fingerprint again (its cropped data is rebuilt from changed files)`, files[0]);
}

export function preprocessCase(input: PreprocessCaseInput): PreprocessCaseOutput {
  const existing = isCurrent(input);
  if (existing) return { caseId: input.caseId, reused: true, shape: existing };

  const { properties, data, shape } = loadCroppedCase(input.croppedDir, input.caseId);
  refuseNonFinite(data.subarray(0, (shape[0] - 1) * shape[1] * shape[2] * shape[3]), input.caseId, properties, 'its cropped data');
  const r = resampleAndNormalize(data, shape[0] - 1, [shape[1], shape[2], shape[3]], properties.original_spacing, input);
  refuseNonFinite(r.data, input.caseId, properties, 'its preprocessed array');
  const seg = r.data.subarray(r.numChannels * r.shape[0] * r.shape[1] * r.shape[2]);

  const props: PreprocessedCaseProperties = {
    ...properties,
    use_nonzero_mask_for_norm: input.useNonzeroMaskForNorm,
    size_after_resampling: [...r.shape],
    spacing_after_resampling: r.spacing,
    class_locations: sampleClassLocations(seg, r.shape, input.allClasses),
    input_signature: input.signature,
  };
  writeNpy(preprocessedNpy(input.outDir, input.caseId), { data: r.data, shape: [r.numChannels + 1, ...r.shape], dtype: 'float32' });
  writeJsonAtomic(preprocessedJson(input.outDir, input.caseId), props);
  return { caseId: input.caseId, reused: false, shape: [...r.shape] };
}

/** A preprocessed case as training reads it: (C + 1, z, y, x) float32 with the seg last, and its properties. */
export function loadPreprocessedCase(dir: string, caseId: string): { data: Float32Array; shape: number[]; properties: PreprocessedCaseProperties } {
  const { data, shape } = readFloat32Npy(preprocessedNpy(dir, caseId));
  const properties = JSON.parse(fs.readFileSync(preprocessedJson(dir, caseId), 'utf8')) as PreprocessedCaseProperties;
  return { data, shape, properties };
}

serveWorkerRequests(preprocessCase);
