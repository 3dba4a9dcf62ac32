/**
 * nnU-Net v2's accumulate_cv_results (nnUNetv2_accumulate_crossval_results): the validation predictions of the
 * given folds of a model folder copied into one folder (default <model>/crossval_results_folds_0_1_2_3_4, emptied
 * first) with the model's dataset.json and plans.json, then evaluated against nnUNet_raw/<Dataset>/labelsTr (else
 * nnUNet_preprocessed/<Dataset>/gt_segmentations) into its summary.json. A case predicted by two folds is an error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { datasetJsonFile, modelPlansFile, v2FoldFolder, v2ValidationFolder } from '../io/layout';
import { evaluateFolderV2, labelsFromDatasetJson, type V2Summary } from './summary-v2';

export interface AccumulateCvV2Input {
  /** <results>/<Dataset>/<Trainer>__<Plans>__<configuration>. */
  modelDir: string;
  /** The merged folder (v2CrossvalFolder(modelDir, folds) by default in the command). */
  outputDir: string;
  folds: readonly (number | string)[];
  /** Reference folders in order of preference: the first that exists is used. */
  referenceDirs: readonly string[];
}

function readDatasetJson(modelDir: string): { file_ending: string; labels: Record<string, number | number[]> } {
  const file = datasetJsonFile(modelDir);
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing; ${modelDir} is not a trained nnU-Net v2 model folder`, file);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { file_ending: string; labels: Record<string, number | number[]> };
}

/** Copies each fold's validation/<case><file_ending> into outputDir; refuses a case two folds predicted. */
function mergeFolds(input: AccumulateCvV2Input, fileEnding: string): void {
  for (const f of input.folds) {
    const dir = v2ValidationFolder(v2FoldFolder(input.modelDir, f));
    if (!fs.existsSync(dir)) throw new BadInputError(`${dir}: missing; fold ${f} of ${input.modelDir} is not validated, train it (or run nnUNetv2_train ... ${f} --val)`, dir);
    for (const file of fs.readdirSync(dir).filter((n) => n.endsWith(fileEnding)).sort()) {
      const target = path.join(input.outputDir, file);
      if (fs.existsSync(target)) throw new BadInputError(`${file}: more than one of the folds ${input.folds.join(', ')} has a prediction for this case`, path.join(dir, file));
      fs.copyFileSync(path.join(dir, file), target);
    }
  }
}

export async function accumulateCrossvalV2(input: AccumulateCvV2Input): Promise<{ summaryFile: string; summary: V2Summary; referenceDir: string }> {
  const ds = readDatasetJson(input.modelDir);
  const referenceDir = input.referenceDirs.find((d) => fs.existsSync(d));
  if (!referenceDir) throw new BadInputError(`no reference segmentations: none of ${input.referenceDirs.join(', ')} exists`);
  fs.rmSync(input.outputDir, { recursive: true, force: true });
  fs.mkdirSync(input.outputDir, { recursive: true });
  fs.copyFileSync(datasetJsonFile(input.modelDir), datasetJsonFile(input.outputDir));
  fs.copyFileSync(modelPlansFile(input.modelDir), modelPlansFile(input.outputDir));
  mergeFolds(input, ds.file_ending);
  const { labelsOrRegions, ignoreLabel } = labelsFromDatasetJson(ds.labels, datasetJsonFile(input.modelDir));
  const { summary, outputFile } = await evaluateFolderV2({
    referenceDir, predictionDir: input.outputDir, fileEnding: ds.file_ending, labelsOrRegions, ignoreLabel, chill: true,
  });
  return { summaryFile: outputFile, summary, referenceDir };
}
