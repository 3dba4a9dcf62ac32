/**
 * nnU-Net v2's DefaultPreprocessor.run_case on arrays, in v2's order (which differs from v1's): load; transpose with
 * transpose_forward; crop to the nonzero region (a 0 / -1 seg is made when there is no label); normalize each
 * channel (before resampling, so that masks still fit); resample data and seg to the configuration's spacing (2D:
 * each case keeps its own spacing on the first axis); sample the foreground locations; the seg as int8 (int16
 * when a label exceeds 127). Used for training cases and, without a seg, for test cases.
 */
import { cropToNonzero, type Shape3 } from '../../volume/crop';
import { resampledShape } from '../../volume/resample';
import { loadCaseV2, type LoadedCaseV2, type SitkStuffV2 } from '../../fingerprint/v2/load-case';
import type { ReaderWriterName } from '../../io/image-formats/registry';
import { transposeChannels, transposedShape } from '../transpose';
import { sampleClassLocationsV2, type ClassLocationsV2, type LabelOrRegion } from './class-locations';
import { normalizeChannelV2 } from './normalization';
import type { PreprocessConfigurationV2 } from './plans';
import { resampleToShapeV2 } from './resampling';

export interface CasePropertiesV2 {
  /** SimpleITK's spacing, origin, direction (x, y, z order), v2's properties['sitk_stuff'] (SimpleITKIO and NIfTI only). */
  sitk_stuff?: SitkStuffV2;
  /** Array axis order, untransposed. */
  spacing: number[];
  shape_before_cropping: number[];
  /** [[start, stop), ...] per transposed axis. */
  bbox_used_for_cropping: number[][];
  shape_after_cropping_and_before_resampling: number[];
  /** Only for training cases (with a seg). */
  class_locations?: ClassLocationsV2;
}

export interface PreprocessedCaseV2 {
  /** (C, z, y, x) float32, transposed axis order. */
  data: Float32Array;
  numChannels: number;
  /** Same grid; -1 outside the nonzero region. */
  seg: Int8Array | Int16Array;
  shape: Shape3;
  properties: CasePropertiesV2;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function segAsInteger(seg: Float32Array): Int8Array | Int16Array {
  let max = -Infinity;
  for (let i = 0; i < seg.length; i++) if (seg[i]! > max) max = seg[i]!;
  return max > 127 ? Int16Array.from(seg) : Int8Array.from(seg);
}

/** run_case_npy on a loaded case; `locationClasses` null for a test case (no seg). */
export function runCaseArraysV2(c: LoadedCaseV2, cfg: PreprocessConfigurationV2, locationClasses: readonly LabelOrRegion[] | null, source: string): PreprocessedCaseV2 {
  const numChannels = c.channels.length;
  const perm = cfg.transposeForward;
  const n = c.shape[0] * c.shape[1] * c.shape[2];
  const stacked = transposeChannels(concat(c.seg ? [...c.channels, c.seg] : c.channels), c.shape, perm);
  const tShape = transposedShape(c.shape, perm);
  const channelViews = Array.from({ length: numChannels }, (_, k) => stacked.subarray(k * n, (k + 1) * n));
  const cropped = cropToNonzero(channelViews, c.seg ? stacked.subarray(numChannels * n) : null, tShape);

  const current = perm.map((a) => c.spacing[a]!);
  const target = cfg.spacing.length < 3 ? [current[0]!, ...cfg.spacing] : [...cfg.spacing];
  const newShape = resampledShape(cropped.shape, current, target);
  const m = cropped.shape[0] * cropped.shape[1] * cropped.shape[2];
  const seg = cropped.data.subarray(numChannels * m);
  cfg.normalizations.forEach((how, k) => normalizeChannelV2(cropped.data.subarray(k * m, (k + 1) * m), seg, how, source));

  const data = resampleToShapeV2(cropped.data.subarray(0, numChannels * m), numChannels, cropped.shape, newShape, current, target, cfg.resamplingData, source);
  const segOut = resampleToShapeV2(seg, 1, cropped.shape, newShape, current, target, cfg.resamplingSeg, source);
  const properties: CasePropertiesV2 = {
    ...(c.sitk ? { sitk_stuff: c.sitk } : {}),
    spacing: c.spacing,
    shape_before_cropping: [...tShape],
    bbox_used_for_cropping: cropped.bbox.map((r) => [r[0], r[1]]),
    shape_after_cropping_and_before_resampling: [...cropped.shape],
  };
  if (c.seg && locationClasses) properties.class_locations = sampleClassLocationsV2(segOut, newShape, locationClasses);
  // an unresampled result is a view into the cropped stack: copy it out
  return { data: data.buffer === cropped.data.buffer ? data.slice() : data, numChannels, seg: segAsInteger(segOut), shape: newShape, properties };
}

/** DefaultPreprocessor.run_case: the files of one case (channel order) and its label, or null for a test case. */
export async function runCaseV2(imageFiles: readonly string[], segFile: string | null, cfg: PreprocessConfigurationV2, locationClasses: readonly LabelOrRegion[] | null,
  readerWriter?: ReaderWriterName): Promise<PreprocessedCaseV2> {
  return runCaseArraysV2(await loadCaseV2(imageFiles, segFile, readerWriter), cfg, segFile ? locationClasses : null, segFile ?? imageFiles[0]!);
}
