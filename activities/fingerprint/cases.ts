/**
 * The training cases of a v1 task folder as cropping sees them (spec §1.3): identifier = basename of
 * `training[i].image` minus `.nii.gz`; channel files `<identifier>_%04d.nii.gz` per modality key; the label
 * from `training[i].label`. Sorted by identifier (nnU-Net's analysis reads the cropped folder sorted).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';

export interface TrainingCase {
  id: string;
  /** One file per modality, channel order. */
  images: string[];
  label: string;
}

export interface TaskDescription {
  /** {"0": "CT", ...} as in dataset.json. */
  modalities: Record<string, string>;
  /** {"0": "background", "1": ...}. */
  labels: Record<string, string>;
  cases: TrainingCase[];
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new BadInputError(`${file}: missing; a task folder needs dataset.json (run \`nnunet convert-msd\` for Decathlon data)`, file);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new BadInputError(`${file}: not valid JSON (${(err as Error).message})`, file);
  }
}

export function describeTask(rawDir: string): TaskDescription {
  const file = path.join(rawDir, 'dataset.json');
  const json = readJson(file);
  const modalities = json.modality as Record<string, string> | undefined;
  const labels = json.labels as Record<string, string> | undefined;
  const training = json.training as Array<{ image?: string; label?: string }> | undefined;
  if (!modalities || typeof modalities !== 'object' || Object.keys(modalities).length === 0) {
    throw new BadInputError(`${file}: "modality" must map channel indices to names, e.g. {"0": "MRI"}`, file);
  }
  if (!labels || typeof labels !== 'object') throw new BadInputError(`${file}: "labels" must map label values to names`, file);
  if (!Array.isArray(training) || training.length === 0) throw new BadInputError(`${file}: "training" lists no cases`, file);
  const channelKeys = Object.keys(modalities).map(Number).sort((a, b) => a - b);
  const cases = training.map((t, i) => {
    if (typeof t.image !== 'string' || typeof t.label !== 'string') {
      throw new BadInputError(`${file}: training[${i}] needs "image" and "label" paths`, file);
    }
    const id = path.basename(t.image).replace(/\.nii\.gz$/, '');
    const images = channelKeys.map((k) => path.join(rawDir, 'imagesTr', `${id}_${String(k).padStart(4, '0')}.nii.gz`));
    return { id, images, label: path.join(rawDir, t.label) };
  });
  cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { modalities, labels, cases };
}

/** Foreground labels (> 0) from dataset.json's keys, sorted: nnU-Net's `all_classes`. */
export function foregroundClasses(labels: Record<string, string>): number[] {
  return Object.keys(labels).map(Number).filter((k) => Number.isInteger(k) && k > 0).sort((a, b) => a - b);
}
