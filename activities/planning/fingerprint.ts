/**
 * The planner's input: nnU-Net v1's dataset_properties (the "fingerprint"), as JSON. All per-case vectors are in
 * array axis order (z, y, x); sizes are after cropping to the non-zero region, at the case's own spacing.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { BadInputError } from '../common/errors';

const vec3 = z.array(z.number().positive().finite()).length(3);

const intensityStats = z.object({
  median: z.number().nullable(),
  mean: z.number().nullable(),
  sd: z.number().nullable(),
  mn: z.number().nullable(),
  mx: z.number().nullable(),
  percentile_99_5: z.number().nullable(),
  percentile_00_5: z.number().nullable(),
}).passthrough();

export const datasetPropertiesSchema = z.object({
  all_spacings: z.array(vec3).min(1),
  all_sizes: z.array(z.array(z.number().int().positive()).length(3)).min(1),
  /** {"0": "CT", "1": "T2"}: channel index -> modality name. */
  modalities: z.record(z.string(), z.string()),
  /** Foreground labels (> 0) from dataset.json. */
  all_classes: z.array(z.number().int()),
  /** case id -> prod(size after cropping) / prod(original size). */
  size_reductions: z.record(z.string(), z.number()),
  /** Per channel foreground intensity statistics; null unless a modality is CT. */
  intensityproperties: z.record(z.string(), intensityStats).nullable().optional(),
  /** v2 regions / ignore label (io/label-manager.ts). */
  label_spec: z.object({
    labels: z.record(z.string(), z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()).min(1)])),
    regions_class_order: z.array(z.number().int()).optional(),
  }).optional(),
}).passthrough();

export type DatasetProperties = z.infer<typeof datasetPropertiesSchema>;

/** Validates a parsed fingerprint; `source` names the file in the error. */
export function parseDatasetProperties(value: unknown, source: string): DatasetProperties {
  const r = datasetPropertiesSchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid';
    throw new BadInputError(`${source}: not an nnU-Net dataset fingerprint (${where}). ` +
      'Expected dataset_properties fields all_spacings, all_sizes, modalities, all_classes, size_reductions; ' +
      'run `nnunet fingerprint` to create one.', source);
  }
  if (r.data.all_spacings.length !== r.data.all_sizes.length) {
    throw new BadInputError(`${source}: all_spacings has ${r.data.all_spacings.length} cases but all_sizes has ${r.data.all_sizes.length}; regenerate the fingerprint.`, source);
  }
  if (Object.keys(r.data.modalities).length === 0) {
    throw new BadInputError(`${source}: modalities is empty; dataset.json must list at least one modality.`, source);
  }
  return r.data;
}

export function readDatasetProperties(file: string): DatasetProperties {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BadInputError(`${file}: cannot read the fingerprint (${(err as Error).message}); run \`nnunet fingerprint\` first or pass an existing file.`, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BadInputError(`${file}: not valid JSON (${(err as Error).message}).`, file);
  }
  return parseDatasetProperties(json, file);
}

/** Modality names in channel order (keys "0", "1", ...). */
export function modalityNames(props: DatasetProperties): string[] {
  return Object.keys(props.modalities).map(Number).sort((a, b) => a - b).map((k) => props.modalities[String(k)]!);
}
