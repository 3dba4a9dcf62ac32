/**
 * The `postprocess` activity with method 'v2'. v2's find_best_configuration determines the winner's postprocessing
 * itself (determine_postprocessing on its pooled cross-validation predictions: postprocessing.pkl, .json and
 * postprocessed/ beside them) and names the file in inference_information.json; this step reads that decision
 * and reports it in the v1 output's terms, so the task's result and the sweep report read alike for both methods.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PostprocessInput, PostprocessOutput } from '../contract';
import { BadInputError } from '../common/errors';
import { readSummaryV2 } from '../evaluation/summary-v2';
import { readDataset, labelValues } from '../io/dataset';
import { v2FindBestFiles, v2PostprocessingFiles } from '../io/layout';
import { readPostprocessingPklV2 } from './v2-rules';

/** The postprocessing v2's find-best determined for the winner (inference_information.json names its file). */
export function winnerPostprocessingFile(results: string, dataset: string): string {
  const info = v2FindBestFiles(results, dataset).information;
  if (!fs.existsSync(info)) throw new BadInputError(`${info}: missing; run find-best (nnUNetv2_find_best_configuration) first`, info);
  const json = JSON.parse(fs.readFileSync(info, 'utf8')) as { best_model_or_ensemble?: { postprocessing_file?: string } };
  const file = json.best_model_or_ensemble?.postprocessing_file;
  if (!file || !fs.existsSync(file)) throw new BadInputError(`${info}: its postprocessing_file ${file ?? '(none)'} is missing; run find-best again`, info);
  return file;
}

export function postprocessV2(input: PostprocessInput): PostprocessOutput {
  const { paths } = input;
  const pkl = winnerPostprocessingFile(paths.resultsDir, paths.taskName);
  const steps = readPostprocessingPklV2(pkl);
  const foreground = labelValues(readDataset(paths.rawDir)).filter((l) => l !== 0).sort((a, b) => a - b);
  const isAllForeground = (labels: readonly number[]) => labels.length === foreground.length && [...labels].sort((a, b) => a - b).every((l, i) => l === foreground[i]);
  const files = v2PostprocessingFiles(path.dirname(pkl));
  return {
    postprocessingFile: pkl,
    removeAllButLargestForeground: steps.some((s) => isAllForeground(s.labels)),
    forClasses: steps.filter((s) => s.labels.length === 1 && !isAllForeground(s.labels)).map((s) => s.labels[0]!),
    diceBefore: readSummaryV2(path.join(path.dirname(pkl), 'summary.json')).foreground_mean.Dice,
    diceAfter: readSummaryV2(path.join(files.postprocessedDir, 'summary.json')).foreground_mean.Dice,
  };
}
