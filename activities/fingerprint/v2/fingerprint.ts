/**
 * nnU-Net v2's dataset fingerprint (DatasetFingerprintExtractor.run): every training case analysed in worker
 * threads, then dataset_fingerprint.json with spacings, shapes_after_crop (array axis order, cases sorted by
 * identifier), foreground_intensity_properties_per_channel and median_relative_size_after_cropping.
 * Reads v2 Dataset folders and v1 Task folders alike (the data layer's dataset reader).
 */
import { writeJsonAtomic } from '../../common/atomic';
import { BadInputError } from '../../common/errors';
import { median } from '../../common/numeric';
import { runPool, siblingModule } from '../../common/worker-pool';
import { describeTask } from '../cases';
import { analyzeCase, type AnalyzeCaseInput, type AnalyzeCaseOutput } from './analyze-case';
import { pooledForegroundStats, samplesPerCase, type ForegroundStatsV2 } from './foreground-intensities';

export interface DatasetFingerprintV2 {
  spacings: number[][];
  shapes_after_crop: number[][];
  foreground_intensity_properties_per_channel: Record<string, ForegroundStatsV2>;
  median_relative_size_after_cropping: number;
}

export interface FingerprintV2Options {
  numProcesses: number;
  /** nnU-Net's num_foreground_voxels_for_intensitystats (10e7 samples per channel over the dataset). */
  foregroundVoxelsForStats?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The fingerprint of the dataset folder `rawDir`, written to `outFile` (nnUNet_preprocessed/<dataset>/dataset_fingerprint.json). */
export async function runFingerprintV2(rawDir: string, outFile: string, options: FingerprintV2Options): Promise<DatasetFingerprintV2> {
  const task = describeTask(rawDir);
  const numSamples = samplesPerCase(task.cases.length, options.foregroundVoxelsForStats);
  const inputs: AnalyzeCaseInput[] = task.cases.map((c) => ({ caseId: c.id, images: c.images, label: c.label, readerWriter: task.readerWriter, numSamples }));
  let done = 0;
  const results: AnalyzeCaseOutput[] = await runPool(siblingModule(__filename, 'analyze-case'), analyzeCase, inputs, {
    concurrency: options.numProcesses,
    onResult: () => options.onProgress?.(++done, inputs.length),
  });
  const fingerprint = assembleFingerprintV2(results, Object.keys(task.modalities).length, rawDir);
  writeJsonAtomic(outFile, fingerprint);
  return fingerprint;
}

export function assembleFingerprintV2(results: readonly AnalyzeCaseOutput[], numChannels: number, source: string): DatasetFingerprintV2 {
  const cases = results.map((r) => r.foreground);
  const intensities: Record<string, ForegroundStatsV2> = {};
  for (let c = 0; c < numChannels; c++) {
    const stats = pooledForegroundStats(cases, c);
    if (!stats) throw new BadInputError(`${source}: no training case has a foreground voxel (label > 0); the fingerprint needs labelled cases`, source);
    intensities[String(c)] = stats;
  }
  return {
    spacings: results.map((r) => r.spacing),
    shapes_after_crop: results.map((r) => r.shapeAfterCrop),
    foreground_intensity_properties_per_channel: intensities,
    median_relative_size_after_cropping: median(results.map((r) => r.relativeSizeAfterCropping)),
  };
}
