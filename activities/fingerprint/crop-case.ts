/**
 * One case of the fingerprint (runs in a worker thread): load all modalities and the label, crop to
 * the nonzero region, store the cropped case, and return its properties and its sampled
 * foreground intensities. Reuses the stored case when it was made from the same input files.
 * See docs/preprocessing.md, 'Loading and cropping', 'Fingerprint'.
 */
import { BadInputError } from '../common/errors';
import { readImageFile, type ReaderWriterName } from '../io/image-formats/registry';
import { channelsOf, holdsSeveralChannels } from '../io/image-formats/channels';
import { assertFinite, countNonFinite } from '../io/finite';
import { distinctValues, type Volume } from '../io/volume';
import { arraySpacing } from '../io/geometry';
import { cropToNonzero, type CroppedCase, type Shape3 } from '../volume/crop';
import { inputSignature, readCroppedCaseIfCurrent, writeCroppedCase, type CroppedCaseProperties } from './cropped-store';
import { sampleForeground } from './intensity';
import { serveWorkerRequests, type WithTransfer } from '../common/worker-pool';

export interface CropCaseInput {
  caseId: string;
  images: string[];
  label: string | null;
  croppedDir: string;
  /** Label values dataset.json declares (regions' values included); a label holding others is refused. */
  labelValues?: number[];
  /** The dataset's image reader/writer class (v2); NIfTI files are read by ours whatever it says. */
  readerWriter?: ReaderWriterName;
}

export interface CropCaseOutput extends WithTransfer {
  caseId: string;
  properties: CroppedCaseProperties;
  /** Every 10th foreground voxel per channel (C order). */
  foregroundSamples: Float32Array[];
  /** True when the stored cropped case was reused. */
  reused: boolean;
}

/** What to do with a 4D file: an image is split into channels, a label must be one label map. */
export function fourDHint(isLabel: boolean): string {
  return isLabel
    ? 'a label must be one 3D map of integer values (0 background, 1..K the classes): merge per-class volumes into one map (value k where volume k is set)'
    : 'split 4D files into one 3D file per channel (_0000, _0001, ...; nnunet convert-msd does this for Decathlon tasks)';
}

function spatial3(v: Volume, file: string, isLabel = false): Shape3 {
  if (v.shape.length !== 3) {
    throw new BadInputError(`${file}: expected a 3D ${isLabel ? 'label' : 'image'}, got shape ${v.shape.join('x')}; ${fourDHint(isLabel)}`, file);
  }
  return [v.shape[0], v.shape[1], v.shape[2]];
}

/** Label values that dataset.json does not declare: nnU-Net would drop those voxels from training without a word. */
export function assertDeclaredLabels(values: readonly number[], declared: readonly number[], file: string): void {
  const allowed = new Set(declared);
  const unexpected = values.filter((v) => !allowed.has(v));
  if (unexpected.length === 0) return;
  throw new BadInputError(
    `${file}: label values ${unexpected.slice(0, 10).join(', ')}${unexpected.length > 10 ? ', ...' : ''} are not declared in dataset.json (declared: ${declared.join(', ')}); ` +
      'fix the label file, or declare the values under "labels" in dataset.json', file);
}

function checkLabel(label: Volume, file: string, declared: number[] | undefined): void {
  assertFinite(label, file);
  if (!declared) return;
  const values = distinctValues(label.data, 4096);
  if (!values) throw new BadInputError(`${file}: has more than 4096 distinct values: this is not a segmentation (is it an image in labelsTr?)`, file);
  assertDeclaredLabels(values, declared, file);
}

/** The case's channels in order, with the file each came from (a colour picture gives several). */
async function readChannels(imageFiles: string[], readerWriter?: ReaderWriterName): Promise<{ images: Volume[]; files: string[] }> {
  const volumes = await Promise.all(imageFiles.map((f) => readImageFile(f, 'image', readerWriter)));
  const perFile = volumes.map((v, i) => (holdsSeveralChannels(imageFiles[i], readerWriter) ? channelsOf(v) : [v]));
  return { images: perFile.flat(), files: perFile.flatMap((vs, i) => vs.map(() => imageFiles[i])) };
}

async function loadCase(input: CropCaseInput): Promise<{ images: Volume[]; label: Volume | null; shape: Shape3 }> {
  const { images, files } = await readChannels(input.images, input.readerWriter);
  images.forEach((v, i) => assertFinite(v, files[i]));
  const shape = spatial3(images[0], files[0]);
  const check = (v: Volume, file: string, isLabel = false) => {
    const s = spatial3(v, file, isLabel);
    if (s.some((d, i) => d !== shape[i])) {
      throw new BadInputError(`${file}: shape ${s.join('x')} differs from ${input.images[0]} (${shape.join('x')}); all channels and the label of a case must share one grid`, file);
    }
  };
  images.forEach((v, i) => check(v, files[i]));
  const label = input.label ? await readImageFile(input.label, 'seg', input.readerWriter) : null;
  if (label && input.label) {
    check(label, input.label, true);
    checkLabel(label, input.label, input.labelValues);
  }
  return { images, label, shape };
}

/** nnU-Net's crop_from_list_of_files: load, crop, and the properties nnU-Net records (signature left empty). */
export async function loadAndCrop(imageFiles: string[], labelFile: string | null, labelValues?: number[], readerWriter?: ReaderWriterName): Promise<{ cropped: CroppedCase; properties: CroppedCaseProperties }> {
  const { images, label, shape } = await loadCase({ caseId: '', images: imageFiles, label: labelFile, croppedDir: '', labelValues, readerWriter });
  const cropped = cropToNonzero(images.map((v) => v.data), label?.data ?? null, shape);
  if (!cropped.hadNonzeroVoxels) {
    throw new BadInputError(`${imageFiles.join(', ')}: every voxel of every channel is 0; the case holds no image (check the export)`, imageFiles[0]);
  }
  const g = images[0].geometry;
  const properties: CroppedCaseProperties = {
    original_size_of_raw_data: [...shape],
    original_spacing: arraySpacing(g),
    list_of_data_files: imageFiles,
    seg_file: labelFile,
    itk_origin: [...g.origin],
    itk_spacing: [...g.spacing],
    itk_direction: [...g.direction],
    crop_bbox: cropped.bbox.map((r) => [r[0], r[1]]),
    classes: cropped.classes,
    size_after_cropping: [...cropped.shape],
    input_signature: '',
  };
  return { cropped, properties };
}

function imageChannelsFinite(data: Float32Array, shape: number[]): boolean {
  const c = countNonFinite(data.subarray(0, (shape[0] - 1) * shape[1] * shape[2] * shape[3]));
  return c.nan === 0 && c.inf === 0;
}

export async function cropCase(input: CropCaseInput): Promise<CropCaseOutput> {
  const files = input.label ? [...input.images, input.label] : input.images;
  const signature = inputSignature(files);
  const stored = readCroppedCaseIfCurrent(input.croppedDir, input.caseId, signature);
  // A case stored before NaN/Inf were refused is made again from its files, which then name the problem.
  if (stored && imageChannelsFinite(stored.data, stored.shape)) {
    // Made from the same files, but perhaps under an earlier dataset.json that declared other labels.
    if (input.label && input.labelValues) assertDeclaredLabels([0, ...stored.properties.classes.filter((c) => c !== -1 && c !== 0)], input.labelValues, input.label);
    const samples = sampleForeground(stored.data, stored.shape[0] - 1);
    return { caseId: input.caseId, properties: stored.properties, foregroundSamples: samples, reused: true, transfer: samples.map((s) => s.buffer as ArrayBuffer) };
  }
  const { cropped, properties } = await loadAndCrop(input.images, input.label, input.labelValues, input.readerWriter);
  properties.input_signature = signature;
  writeCroppedCase(input.croppedDir, input.caseId, cropped.data, [cropped.numChannels + 1, ...cropped.shape], properties);
  const samples = sampleForeground(cropped.data, cropped.numChannels);
  return { caseId: input.caseId, properties, foregroundSamples: samples, reused: false, transfer: samples.map((s) => s.buffer as ArrayBuffer) };
}

serveWorkerRequests(cropCase);
