/**
 * The training cases as cropping sees them, from the data layer's dataset reader (v1 Task and v2 Dataset
 * folders), sorted by identifier as nnU-Net's analysis lists the cropped folder.
 */
import { BadInputError } from '../common/errors';
import { labelValues, labelsByValue, readDataset, type DatasetDescription } from '../io/dataset';
import type { ReaderWriterName } from '../io/image-formats/registry';
import { LabelManager, specialLabelSpec, type LabelSpec } from '../io/label-manager';

export interface TrainingCase {
  id: string;
  /** One file per modality, channel order. */
  images: string[];
  label: string;
}

export interface TaskDescription {
  /** {"0": "CT", ...}: channel index -> modality name (nnU-Net's `modalities`). */
  modalities: Record<string, string>;
  /** {"0": "background", "1": ...}. */
  labels: Record<string, string>;
  /** Foreground labels (> 0) from dataset.json: nnU-Net's `all_classes` (not read from the data). */
  foregroundClasses: number[];
  /** Every label value dataset.json declares (v2 regions' values included): a label file may hold only these. */
  declaredValues: number[];
  /** v2 datasets with regions or an ignore label: what training and inference need to read the labels. */
  labelSpec?: LabelSpec;
  cases: TrainingCase[];
  /** The image reader/writer class of a v2 dataset (undefined: NIfTI). */
  readerWriter?: ReaderWriterName;
}

export function describeTask(rawDir: string): TaskDescription {
  const d = readDataset(rawDir);
  if (d.training.length === 0) throw new BadInputError(`${d.jsonFile}: no training cases`, d.jsonFile);
  const cases = d.training.map((c) => {
    if (!c.label) throw new BadInputError(`${d.jsonFile}: training case ${c.id} has no label file`, d.jsonFile);
    return { id: c.id, images: c.images, label: c.label };
  });
  cases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const modalities: Record<string, string> = {};
  d.modalities.forEach((m, i) => { modalities[String(i)] = m; });
  const declaredValues = [...new Set(d.labels.flatMap((l) => [l.value].flat()))].sort((a, b) => a - b);
  const labelSpec = v2LabelSpec(d);
  const foregroundClasses = labelSpec ? new LabelManager(labelSpec, d.jsonFile).foregroundLabels : labelValues(d).filter((v) => v > 0);
  return { modalities, labels: labelsByValue(d), foregroundClasses, declaredValues, cases, readerWriter: d.readerWriter, ...(labelSpec ? { labelSpec } : {}) };
}

function v2LabelSpec(d: DatasetDescription): LabelSpec | undefined {
  if (d.format !== 'v2') return undefined;
  const labels = Object.fromEntries(d.labels.map((l) => [l.name, l.value]));
  return specialLabelSpec(labels, d.regionsClassOrder, d.jsonFile);
}
