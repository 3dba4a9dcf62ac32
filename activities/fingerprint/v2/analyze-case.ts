/**
 * One case of nnU-Net v2's fingerprint (DatasetFingerprintExtractor.analyze_case; runs in a worker thread): load,
 * crop to the nonzero region, and return the shape after cropping, the spacing, the relative size after cropping
 * and the case's foreground contribution (its values or its drawn samples, see foreground-intensities.ts).
 * v2 stores no cropped data: preprocessing crops again.
 */
import { BadInputError } from '../../common/errors';
import { serveWorkerRequests, type WithTransfer } from '../../common/worker-pool';
import type { ReaderWriterName } from '../../io/image-formats/registry';
import { cropToNonzero } from '../../volume/crop';
import { caseForeground, foregroundValues, type CaseForeground } from './foreground-intensities';
import { loadCaseV2 } from './load-case';

export interface AnalyzeCaseInput {
  caseId: string;
  images: string[];
  label: string;
  /** The dataset's image reader/writer (dataset.json's file_ending or overwrite_image_reader_writer). */
  readerWriter?: ReaderWriterName;
  /** Foreground samples this case contributes per channel (int(10e7 // num_cases)). */
  numSamples: number;
}

export interface AnalyzeCaseOutput extends WithTransfer {
  caseId: string;
  shapeAfterCrop: number[];
  spacing: number[];
  relativeSizeAfterCropping: number;
  foreground: CaseForeground;
}

const product = (v: readonly number[]) => v.reduce((a, b) => a * b, 1);

export async function analyzeCase(input: AnalyzeCaseInput): Promise<AnalyzeCaseOutput> {
  const c = await loadCaseV2(input.images, input.label, input.readerWriter);
  const cropped = cropToNonzero(c.channels, c.seg, c.shape);
  if (!cropped.hadNonzeroVoxels) {
    throw new BadInputError(`${input.images.join(', ')}: every voxel of every channel is 0; the case holds no image (check the export)`, input.images[0]);
  }
  const foreground = caseForeground(foregroundValues(cropped.data, cropped.numChannels), input.numSamples);
  return {
    caseId: input.caseId,
    shapeAfterCrop: [...cropped.shape],
    spacing: c.spacing,
    relativeSizeAfterCropping: product(cropped.shape) / product(c.shape),
    foreground,
    transfer: (foreground.values ?? foreground.drawn ?? []).map((f) => f.buffer as ArrayBuffer),
  };
}

serveWorkerRequests(analyzeCase);
