/**
 * nnU-Net v2's DefaultPreprocessor.run for one configuration: every training case of the dataset folder through
 * run_case in worker threads, into nnUNet_preprocessed/<dataset>/<data_identifier>/ (emptied first, as v2 does).
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import { runPool, siblingModule } from '../../common/worker-pool';
import { readDataset, type DatasetDescription } from '../../io/dataset';
import { dataFolderV2 } from '../../io/layout';
import { locationClassesV2, type LabelsJsonV2 } from './labels';
import { readPlansV2, resolveConfigurationV2 } from './plans';
import { preprocessCaseV2, type PreprocessCaseV2Input } from './preprocess-case';

export interface PreprocessV2Options { numProcesses: number; onProgress?: (done: number, total: number) => void }
export interface PreprocessV2Result { dataFolder: string; numCases: number }

/** dataset.json's labels as v2's name -> value(s) dict, from either dataset format. */
export function labelsJsonOf(d: DatasetDescription): LabelsJsonV2 {
  return Object.fromEntries(d.labels.map((l) => [l.name, l.value]));
}

export async function runPreprocessV2(rawDir: string, plansFile: string, configuration: string, preprocessedDir: string,
  options: PreprocessV2Options): Promise<PreprocessV2Result> {
  const cfg = resolveConfigurationV2(readPlansV2(plansFile), configuration, plansFile);
  if (cfg.preprocessorName !== 'DefaultPreprocessor') {
    throw new BadInputError(`${plansFile}: configuration "${configuration}" asks for preprocessor ${cfg.preprocessorName}; only DefaultPreprocessor exists here`, plansFile);
  }
  const d = readDataset(rawDir);
  const locationClasses = locationClassesV2(labelsJsonOf(d), d.jsonFile);
  const dataFolder = dataFolderV2(preprocessedDir, cfg.dataIdentifier);
  fs.rmSync(dataFolder, { recursive: true, force: true });
  fs.mkdirSync(dataFolder, { recursive: true });
  const inputs: PreprocessCaseV2Input[] = [...d.training].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((c) => {
    if (!c.label) throw new BadInputError(`${d.jsonFile}: training case ${c.id} has no label file`, d.jsonFile);
    return { caseId: c.id, images: c.images, label: c.label, dataFolder, configuration: cfg, locationClasses, readerWriter: d.readerWriter };
  });
  let done = 0;
  await runPool(siblingModule(__filename, 'preprocess-case'), preprocessCaseV2, inputs, {
    concurrency: options.numProcesses,
    onResult: () => options.onProgress?.(++done, inputs.length),
  });
  return { dataFolder, numCases: inputs.length };
}
