/**
 * Activity `postprocess`: nnU-Net's postprocessing decision for the chosen model.
 * - single configuration: consolidate the folds' validation_raw predictions into cv_niftis_raw (with its
 *   summary.json), then determine postprocessing against gt_niftis → cv_niftis_postprocessed + postprocessing.json
 *   in the model folder, which is what predict applies;
 * - ensemble: determine it on ensembles/<task>/<name>/ensembled_raw (written by ensembling) → ensembled_postprocessed.
 * Idempotent: a manifest beside postprocessing.json records the inputs (file names, sizes, mtimes, classes); when it
 * matches, the stored result is returned without recomputation.
 * See docs/evaluation.md, 'Postprocessing'.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { plansByKind, type PostprocessInput, type PostprocessOutput } from '../contract';
import { BadInputError } from '../common/errors';
import { writeJsonAtomic } from '../common/atomic';
import { listLabelFiles } from '../evaluation/label-io';
import { meanForegroundDice, readSummary } from '../evaluation/summary';
import { readDataset, labelValues } from '../io/dataset';
import { determinePostprocessing } from './determine';
import { ensembleFolder, gtFolder, modelFolder, postprocessingFile, postprocessingManifestFile, RESULT_FOLDERS, summaryFile } from '../io/layout';
import { consolidateFolds, validationFolders } from './consolidate';
import type { PostprocessingJson } from './rules';
import { postprocessV2 } from './v2-activity';

interface Layout { base: string; gtDir: string; raw: string; final: string }

function layoutFor(input: PostprocessInput): Layout {
  const { paths, winner, trainer } = input;
  const plans = plansByKind(input);
  const models = winner.configurations.map((c) => modelFolder(paths, c, trainer, plans));
  if (winner.configurations.length === 1) {
    return { base: models[0], gtDir: gtFolder(models[0], paths.preprocessedDir), raw: RESULT_FOLDERS.cvRaw, final: RESULT_FOLDERS.cvPostprocessed };
  }
  return {
    base: ensembleFolder(paths, winner.configurations, trainer, plans),
    gtDir: gtFolder(models[0], paths.preprocessedDir),
    raw: RESULT_FOLDERS.ensembledRaw,
    final: RESULT_FOLDERS.ensembledPostprocessed,
  };
}

/** Foreground classes from dataset.json (integer labels other than 0). */
function foregroundClasses(input: PostprocessInput): number[] {
  return labelValues(readDataset(input.paths.rawDir)).filter((l) => l !== 0);
}

/** consolidate_folds into cv_niftis_raw; every fold's validation_raw must exist. */
async function consolidate(input: PostprocessInput, layout: Layout, classes: number[]): Promise<void> {
  const folds = input.folds.filter((f) => f !== 'all');
  if (folds.length === 0) throw new BadInputError('postprocessing needs cross-validation folds (fold "all" has no held-out cases)');
  const missing = validationFolders([layout.base], folds, input.validationFolderName).find((dir) => !fs.existsSync(dir));
  if (missing && !fs.existsSync(summaryFile(path.join(layout.base, layout.raw)))) {
    throw new BadInputError(`${missing}: missing; run the validation of that fold first`, missing);
  }
  await consolidateFolds(layout.base, folds, layout.gtDir, classes, input.validationFolderName);
}

function inputsDigest(layout: Layout, classes: number[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ layout, classes }));
  const rawDir = path.join(layout.base, layout.raw);
  for (const dir of [rawDir, layout.gtDir]) {
    for (const f of listLabelFiles(dir)) {
      const st = fs.statSync(path.join(dir, f));
      h.update(`${dir}/${f}:${st.size}:${st.mtimeMs}\n`);
    }
  }
  return h.digest('hex');
}

function outputFrom(file: string, json: PostprocessingJson, diceAfter: number): PostprocessOutput {
  const raw = Object.values(json.dc_per_class_raw);
  return {
    postprocessingFile: file,
    removeAllButLargestForeground: json.for_which_classes.some((e) => Array.isArray(e)),
    forClasses: json.for_which_classes.filter((e): e is number => typeof e === 'number'),
    diceBefore: raw.length ? raw.reduce((a, b) => a + b, 0) / raw.length : NaN,
    diceAfter,
  };
}

export async function postprocess(input: PostprocessInput): Promise<PostprocessOutput> {
  if (input.method === 'v2') return postprocessV2(input);
  const layout = layoutFor(input);
  if (!fs.existsSync(layout.gtDir)) throw new BadInputError(`${layout.gtDir}: reference segmentations missing (the model's ${RESULT_FOLDERS.gtNiftis} or the preprocessed reference segmentations)`, layout.gtDir);
  const classes = foregroundClasses(input);
  if (layout.raw === RESULT_FOLDERS.cvRaw) await consolidate(input, layout, classes);
  const rawDir = path.join(layout.base, layout.raw);
  if (!fs.existsSync(rawDir)) throw new BadInputError(`${rawDir}: missing; the ensemble's cross-validation predictions must be written first`, rawDir);

  const ppFile = postprocessingFile(layout.base);
  const manifestFile = postprocessingManifestFile(layout.base);
  const digest = inputsDigest(layout, classes);
  const finalSummaryFile = summaryFile(path.join(layout.base, layout.final));
  if (fs.existsSync(ppFile) && fs.existsSync(manifestFile) && fs.existsSync(finalSummaryFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { digest?: string };
    if (manifest.digest === digest) {
      const json = JSON.parse(fs.readFileSync(ppFile, 'utf8')) as PostprocessingJson;
      return outputFrom(ppFile, json, meanForegroundDice(readSummary(finalSummaryFile)));
    }
  }
  const r = await determinePostprocessing({ base: layout.base, gtDir: layout.gtDir, rawSubfolder: layout.raw, finalSubfolder: layout.final, classes });
  writeJsonAtomic(manifestFile, { digest, classes, written: new Date().toISOString() });
  return outputFrom(r.postprocessingFile, r.json, r.diceAfter);
}
