/**
 * The fingerprint stage (nnU-Net v1's crop + DatasetAnalyzer): crops every training case in parallel worker
 * threads into the cropped folder, then writes <preprocessed>/<task>/dataset_properties.json. Idempotent:
 * returns at once when the fingerprint exists for the same inputs; reuses cropped cases made from the same
 * files. Also mirrors nnU-Net's side outputs: dataset.json and gt_segmentations/ in the cropped folder, and
 * dataset.json in the preprocessed folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskPaths } from '../contract';
import { writeFileAtomic, writeJsonAtomic } from '../common/atomic';
import { describeTask, type TaskDescription, type TrainingCase } from './cases';
import { cropCase, type CropCaseInput, type CropCaseOutput } from './crop-case';
import { inputSignature } from './cropped-store';
import { datasetJsonFile, datasetPropertiesFile, gtSegmentationFile, gtSegmentationsFolder } from '../io/layout';
import { readImageFile, type ReaderWriterName } from '../io/image-formats/registry';
import { NIFTI_ENDINGS } from '../io/image-formats/nifti-io';
import { endingOf } from '../io/image-formats/reader-writer';
import { writeNifti } from '../io/nifti';
import { assembleDatasetProperties, datasetSignature, type DatasetPropertiesJson } from './dataset-properties';
import { runPool, siblingModule } from '../common/worker-pool';

export interface FingerprintOptions {
  numProcesses: number;
  /** Progress callback (cases done, total), e.g. for activity heartbeats. */
  onProgress?: (done: number, total: number) => void;
}

export interface FingerprintResult {
  fingerprintFile: string;
  numCases: number;
  /** False when an up-to-date fingerprint already existed. */
  computed: boolean;
}

function readExisting(file: string): DatasetPropertiesJson | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetPropertiesJson;
  } catch {
    return null;
  }
}

function copyAtomic(src: string, dst: string): void {
  writeFileAtomic(dst, fs.readFileSync(src));
}

/**
 * gt_segmentations/ holds each label as nnU-Net v1 copies it; a label in another format is converted to
 * <case>.nii.gz, because validation, postprocessing and evaluation compare NIfTI predictions with it.
 */
async function copyGroundTruth(c: TrainingCase, croppedDir: string, readerWriter?: ReaderWriterName): Promise<void> {
  if (endingOf(c.label, NIFTI_ENDINGS)) {
    copyAtomic(c.label, path.join(gtSegmentationsFolder(croppedDir), path.basename(c.label)));
    return;
  }
  await writeNifti(gtSegmentationFile(croppedDir, c.id), await readImageFile(c.label, 'seg', readerWriter));
}

function caseFiles(c: TrainingCase): string[] {
  return [...c.images, c.label];
}

/** The labels as the signature sees them; regions_class_order joins them only where it exists (other signatures unchanged). */
function labelsForSignature(task: TaskDescription): Record<string, string> {
  const order = task.labelSpec?.regions_class_order;
  return order ? { ...task.labels, regions_class_order: order.join(',') } : task.labels;
}

export async function runFingerprint(paths: TaskPaths, options: FingerprintOptions): Promise<FingerprintResult> {
  const task = describeTask(paths.rawDir);
  const fingerprintFile = datasetPropertiesFile(paths.preprocessedDir);
  const signature = datasetSignature(task.cases.map((c) => inputSignature(caseFiles(c))), task.modalities, labelsForSignature(task));
  const existing = readExisting(fingerprintFile);
  if (existing?.input_signature === signature) {
    return { fingerprintFile, numCases: existing.case_identifiers.length, computed: false };
  }

  fs.mkdirSync(paths.croppedDir, { recursive: true });
  const inputs: CropCaseInput[] = task.cases.map((c) => ({ caseId: c.id, images: c.images, label: c.label, croppedDir: paths.croppedDir, labelValues: task.declaredValues, readerWriter: task.readerWriter }));
  let done = 0;
  const results: CropCaseOutput[] = await runPool(siblingModule(__filename, 'crop-case'), cropCase, inputs, {
    concurrency: options.numProcesses,
    onResult: () => options.onProgress?.(++done, inputs.length),
  });

  const properties = assembleDatasetProperties(results, task.modalities, task.foregroundClasses, signature, task.labelSpec);
  const datasetJson = datasetJsonFile(paths.rawDir);
  copyAtomic(datasetJson, datasetJsonFile(paths.croppedDir));
  for (const c of task.cases) await copyGroundTruth(c, paths.croppedDir, task.readerWriter);
  copyAtomic(datasetJson, datasetJsonFile(paths.preprocessedDir));
  writeJsonAtomic(datasetPropertiesFile(paths.croppedDir), properties);
  writeJsonAtomic(fingerprintFile, properties);
  return { fingerprintFile, numCases: results.length, computed: true };
}
