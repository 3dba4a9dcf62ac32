/**
 * The test set predicted as find-best's printed commands would (nnUNet_predict, then nnUNet_ensemble -pp for an
 * ensemble): the raw task's imagesTs with the chosen configuration and its postprocessing.json, or with both
 * configurations of the chosen ensemble (softmax kept) averaged and the ensemble's postprocessing.json applied.
 * Output: RESULTS_FOLDER/predictions/<task>/<winner>/, for an ensemble each member's predictions in <winner>/<configuration>/
 * and the ensemble in <winner>/ensemble/ (the folders of the `nnunet predict` commands printed after a run).
 * Idempotent: cases already predicted are skipped by predict, and the ensemble is rewritten from the members.
 * See docs/inference.md, 'The test set at the end of nnunet run'.
 */
import * as fs from 'node:fs';
import { plansByKind, type PredictTestSetInput, type PredictTestSetOutput } from '../contract';
import { BadInputError } from '../common/errors';
import { ensembleFolder, plansFor, postprocessingFile, predictionsFolder, testImagesFolder } from '../io/layout';
import { predictTask } from '../inference/predict-task';
import { ensembleFolders } from './ensemble';

export async function predictTestSet(input: PredictTestSetInput, onCase?: (configuration: string, done: number, total: number) => void): Promise<PredictTestSetOutput> {
  const { paths, winner, trainer } = input;
  const inputDir = testImagesFolder(paths);
  if (!fs.existsSync(inputDir)) throw new BadInputError(`${inputDir}: no test images to predict; leave out --predict`, inputDir);
  const plans = plansByKind(input);
  const single = winner.configurations.length === 1;
  const outputDir = single ? predictionsFolder(paths, winner.name) : predictionsFolder(paths, winner.name, 'ensemble');
  const members: string[] = [];
  for (const configuration of winner.configurations) {
    const memberDir = single ? outputDir : predictionsFolder(paths, winner.name, configuration);
    await predictTask({
      paths, inputDir, outputDir: memberDir, configuration, trainer, plansIdentifier: plansFor(configuration, plans), saveNpz: !single,
      onCase: (c, done, total) => onCase?.(c, done, total),
    });
    members.push(memberDir);
  }
  if (single) return { outputDir, cases: countPredictions(outputDir) };
  const pp = postprocessingFile(ensembleFolder(paths, winner.configurations, trainer, plans));
  const r = await ensembleFolders(members, outputDir, { postprocessingFile: fs.existsSync(pp) ? pp : undefined });
  return { outputDir, cases: r.cases.length };
}

function countPredictions(dir: string): number {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.nii.gz')).length;
}
