/**
 * Reads and checks the two files nnU-Net v2's planners start from, so a wrong file fails with a message that names
 * it and says what to pass instead (a v1 dataset_properties file, a dataset.json without labels, ...).
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import type { DatasetJsonV2 } from './dataset-json';
import type { FingerprintV2 } from './experiment';

function readJsonObject(file: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BadInputError(`${file}: cannot read ${what} as JSON (${(e as Error).message})`, file);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadInputError(`${file}: ${what} must be a JSON object`, file);
  return parsed as Record<string, unknown>;
}

const isShapeList = (v: unknown): v is number[][] =>
  Array.isArray(v) && v.length > 0 && v.every((r) => Array.isArray(r) && r.length === 3 && r.every((x) => typeof x === 'number' && x > 0));

export function readFingerprintV2(file: string): FingerprintV2 {
  const fp = readJsonObject(file, 'the dataset fingerprint');
  if ('all_spacings' in fp) throw new BadInputError(`${file} is an nnU-Net v1 dataset_properties fingerprint; the v2 planners read nnU-Net v2's dataset_fingerprint.json (spacings, shapes_after_crop, ...): drop --dataset-json and the v2 --planner to plan it with v1's planners`, file);
  if (!isShapeList(fp.spacings) || !isShapeList(fp.shapes_after_crop) || fp.spacings.length !== fp.shapes_after_crop.length) {
    throw new BadInputError(`${file}: a v2 dataset_fingerprint.json needs "spacings" and "shapes_after_crop", one positive [z, y, x] triple per case, as many of each`, file);
  }
  if (typeof fp.median_relative_size_after_cropping !== 'number') throw new BadInputError(`${file}: "median_relative_size_after_cropping" (a number) is missing; re-extract the fingerprint with nnU-Net v2`, file);
  if (typeof fp.foreground_intensity_properties_per_channel !== 'object' || fp.foreground_intensity_properties_per_channel === null) {
    throw new BadInputError(`${file}: "foreground_intensity_properties_per_channel" is missing; re-extract the fingerprint with nnU-Net v2`, file);
  }
  return fp as unknown as FingerprintV2;
}

export function readDatasetJsonV2(file: string): DatasetJsonV2 {
  const ds = readJsonObject(file, 'dataset.json');
  const channels = ds.channel_names ?? ds.modality;
  if (channels === null || typeof channels !== 'object' || Object.keys(channels).length === 0) throw new BadInputError(`${file}: "channel_names" (e.g. {"0": "CT"}) is missing`, file);
  if (ds.labels === null || typeof ds.labels !== 'object' || Object.keys(ds.labels).length < 2) throw new BadInputError(`${file}: "labels" must name background and at least one label (e.g. {"background": 0, "tumor": 1})`, file);
  if (!Number.isInteger(ds.numTraining) || (ds.numTraining as number) < 1) throw new BadInputError(`${file}: "numTraining" must be a positive integer`, file);
  if (typeof ds.file_ending !== 'string') throw new BadInputError(`${file}: "file_ending" (e.g. ".nii.gz") is missing`, file);
  return ds as unknown as DatasetJsonV2;
}
