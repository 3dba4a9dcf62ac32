/**
 * dataset_properties.json: nnU-Net v1's dataset_properties.pkl as JSON, in nnU-Net's field names,
 * so the planner (activities/planning/fingerprint.ts) reads it as it reads the shared planner vectors.
 * Per-case vectors are in array axis order (z, y, x) and in `case_identifiers` order (sorted ids).
 * Fields after the nnU-Net block are nnunet-ts extensions; nnU-Net's own consumers ignore them.
 * See docs/preprocessing.md, 'Files' (the schema) and 'Fingerprint' (what nnU-Net computes).
 */
import { createHash } from 'node:crypto';
import { computeIntensityStats, concatSamples, type IntensityStats } from './intensity';
import type { CropCaseOutput } from './crop-case';
import type { LabelSpec } from '../io/label-manager';

export { DATASET_PROPERTIES_FILE } from '../io/layout';

export interface ChannelIntensityProperties extends IntensityStats {
  /** The same statistics per case (nnU-Net's `local_props`; unused downstream). */
  local_props: Record<string, IntensityStats>;
}

export interface DatasetPropertiesJson {
  /** Per case size after cropping (voxels). */
  all_sizes: number[][];
  /** Per case original spacing (mm). */
  all_spacings: number[][];
  /** Foreground labels from dataset.json (not from the data). */
  all_classes: number[];
  /** {"0": "CT", ...}: channel index -> modality name. */
  modalities: Record<string, string>;
  /** Per channel ("0", "1", ...) foreground statistics of every 10th label voxel, pooled over cases. */
  intensityproperties: Record<string, ChannelIntensityProperties>;
  /** case id -> prod(size after cropping) / prod(original size). */
  size_reductions: Record<string, number>;
  // nnunet-ts extensions
  case_identifiers: string[];
  /** Per case original_size_of_raw_data (array order). */
  original_sizes: number[][];
  /** case id -> foreground labels present in the (cropped) label map. */
  class_presence: Record<string, number[]>;
  /** Hash of all inputs: the fingerprint is recomputed only when it changes. */
  input_signature: string;
  /** v2 regions / ignore label (io/label-manager.ts); absent for plain labels. */
  label_spec?: LabelSpec;
}

const product = (v: readonly number[]) => v.reduce((a, b) => a * b, 1);

export function datasetSignature(caseSignatures: readonly string[], modalities: Record<string, string>, labels: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify({ caseSignatures, modalities, labels })).digest('hex');
}

/** Assembles the fingerprint from the per-case results (in case order). */
export function assembleDatasetProperties(
  cases: readonly CropCaseOutput[], modalities: Record<string, string>, allClasses: number[], signature: string, labelSpec?: LabelSpec,
): DatasetPropertiesJson {
  const ids = cases.map((c) => c.caseId);
  const intensityproperties: Record<string, ChannelIntensityProperties> = {};
  const channels = Object.keys(modalities).map(Number).sort((a, b) => a - b);
  channels.forEach((key, c) => {
    const perCase = cases.map((r) => r.foregroundSamples[c]);
    const local_props: Record<string, IntensityStats> = {};
    ids.forEach((id, i) => { local_props[id] = computeIntensityStats(perCase[i]); });
    intensityproperties[String(key)] = { ...computeIntensityStats(concatSamples(perCase)), local_props };
  });
  const size_reductions: Record<string, number> = {};
  const class_presence: Record<string, number[]> = {};
  for (const r of cases) {
    size_reductions[r.caseId] = product(r.properties.size_after_cropping) / product(r.properties.original_size_of_raw_data);
    class_presence[r.caseId] = r.properties.classes.filter((v) => v > 0);
  }
  return {
    all_sizes: cases.map((r) => r.properties.size_after_cropping),
    all_spacings: cases.map((r) => r.properties.original_spacing),
    all_classes: allClasses,
    modalities,
    intensityproperties,
    size_reductions,
    case_identifiers: ids,
    original_sizes: cases.map((r) => r.properties.original_size_of_raw_data),
    class_presence,
    input_signature: signature,
    ...(labelSpec ? { label_spec: labelSpec } : {}),
  };
}
