/**
 * One case of the fingerprint (runs in a worker thread): load all modalities and the label (spec §2.1),
 * crop to the nonzero region (§2.2), store the cropped case, and return its properties and its sampled
 * foreground intensities (§2.3). Reuses the stored case when it was made from the same input files.
 */
import { BadInputError } from '../common/errors';
import { readNiftiSync, type NiftiVolume } from '../io/nifti';
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
}

export interface CropCaseOutput extends WithTransfer {
  caseId: string;
  properties: CroppedCaseProperties;
  /** Every 10th foreground voxel per channel (C order). */
  foregroundSamples: Float32Array[];
  /** True when the stored cropped case was reused. */
  reused: boolean;
}

function spatial3(v: NiftiVolume, file: string): Shape3 {
  if (v.shape.length !== 3) {
    throw new BadInputError(`${file}: expected a 3D image, got shape ${v.shape.join('x')}; split 4D files into one file per channel (nnunet convert-msd)`, file);
  }
  return [v.shape[0], v.shape[1], v.shape[2]];
}

function loadCase(input: CropCaseInput): { images: NiftiVolume[]; label: NiftiVolume | null; shape: Shape3 } {
  const images = input.images.map((f) => readNiftiSync(f));
  const shape = spatial3(images[0], input.images[0]);
  const check = (v: NiftiVolume, file: string) => {
    const s = spatial3(v, file);
    if (s.some((d, i) => d !== shape[i])) {
      throw new BadInputError(`${file}: shape ${s.join('x')} differs from ${input.images[0]} (${shape.join('x')}); all channels and the label of a case must share one grid`, file);
    }
  };
  images.forEach((v, i) => check(v, input.images[i]));
  const label = input.label ? readNiftiSync(input.label) : null;
  if (label && input.label) check(label, input.label);
  return { images, label, shape };
}

/** nnU-Net's crop_from_list_of_files: load, crop, and the properties nnU-Net records (signature left empty). */
export function loadAndCrop(imageFiles: string[], labelFile: string | null): { cropped: CroppedCase; properties: CroppedCaseProperties } {
  const { images, label, shape } = loadCase({ caseId: '', images: imageFiles, label: labelFile, croppedDir: '' });
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

export function cropCase(input: CropCaseInput): CropCaseOutput {
  const files = input.label ? [...input.images, input.label] : input.images;
  const signature = inputSignature(files);
  const stored = readCroppedCaseIfCurrent(input.croppedDir, input.caseId, signature);
  if (stored) {
    const samples = sampleForeground(stored.data, input.images.length);
    return { caseId: input.caseId, properties: stored.properties, foregroundSamples: samples, reused: true, transfer: samples.map((s) => s.buffer as ArrayBuffer) };
  }
  const { cropped, properties } = loadAndCrop(input.images, input.label);
  properties.input_signature = signature;
  writeCroppedCase(input.croppedDir, input.caseId, cropped.data, [cropped.numChannels + 1, ...cropped.shape], properties);
  const samples = sampleForeground(cropped.data, cropped.numChannels);
  return { caseId: input.caseId, properties, foregroundSamples: samples, reused: false, transfer: samples.map((s) => s.buffer as ArrayBuffer) };
}

serveWorkerRequests(cropCase);
