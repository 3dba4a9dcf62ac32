/**
 * What nnU-Net's validate() does after evaluating a fold: determine_postprocessing on the fold alone
 * (fold_X/postprocessing.json and validation_raw_postprocessed/, which always holds the final validation predictions,
 * postprocessed or not), then copy every reference segmentation into the model's gt_niftis/, so that consolidating
 * the folds later finds them beside the model.
 * See docs/evaluation.md, 'Postprocessing'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';
import { listLabelFiles } from '../evaluation/label-io';
import { gtSegmentationsFolder, modelGtNiftisFolder, RESULT_FOLDERS, validationPostprocessedName } from '../io/layout';
import { determinePostprocessing, type DetermineResult } from './determine';

/** Copies the reference segmentations into MODEL/gt_niftis (files already there with the same size are kept). */
export function copyGtNiftis(model: string, preprocessedDir: string): string {
  const from = gtSegmentationsFolder(preprocessedDir);
  const to = modelGtNiftisFolder(model);
  fs.mkdirSync(to, { recursive: true });
  for (const f of listLabelFiles(from)) {
    const target = path.join(to, f);
    if (fs.existsSync(target) && fs.statSync(target).size === fs.statSync(path.join(from, f)).size) continue;
    writeFileAtomic(target, fs.readFileSync(path.join(from, f)));
  }
  return to;
}

/** The fold's own postprocessing decision, then gt_niftis in the model folder (fold_X's parent). */
export async function postprocessFold(foldDir: string, preprocessedDir: string, validationName: string = RESULT_FOLDERS.validation): Promise<DetermineResult> {
  const r = await determinePostprocessing({
    base: foldDir, gtDir: gtSegmentationsFolder(preprocessedDir),
    rawSubfolder: validationName, finalSubfolder: validationPostprocessedName(validationName),
  });
  copyGtNiftis(path.dirname(foldDir), preprocessedDir);
  return r;
}
