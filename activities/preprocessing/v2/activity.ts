/**
 * The `preprocess` activity with method 'v2': DefaultPreprocessor for one configuration of the v2 plans into
 * <preprocessed>/<Dataset>/<data_identifier>/, then the training labels copied to gt_segmentations (v2's
 * preprocess_dataset). Like v2 it rewrites the configuration's folder, so a retry gives the same folder.
 */
import type { PreprocessInput, PreprocessOutput } from '../../contract';
import { copyGroundTruthV2 } from './ground-truth';
import { runPreprocessV2 } from './preprocess';

export async function preprocessV2(input: PreprocessInput, onProgress: (done: number, total: number) => void): Promise<PreprocessOutput> {
  const { paths } = input;
  const r = await runPreprocessV2(paths.rawDir, input.plansFile, input.configuration, paths.preprocessedDir, { numProcesses: input.numProcesses, onProgress });
  copyGroundTruthV2(paths);
  return { dataDir: r.dataFolder, numCases: r.numCases };
}
