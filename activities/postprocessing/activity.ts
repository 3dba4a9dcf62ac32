/**
 * Activity `postprocess`: nnU-Net's postprocessing decision for the chosen model.
 * - single configuration: consolidate the folds' validation_raw predictions into cv_niftis_raw (with its
 *   summary.json), then determine postprocessing against gt_niftis → cv_niftis_postprocessed + postprocessing.json
 *   in the model folder, which is what predict applies;
 * - ensemble: determine it on ensembles/<task>/<name>/ensembled_raw (written by ensembling) → ensembled_postprocessed.
 * A dataset with regions or an ignore label is scored as v2 scores it, and its postprocessing decided as v2's
 * determine_postprocessing decides (all foreground, then each label or region in dataset.json order), with the
 * 6-connectivity v1's postprocessing.json is applied with; the decision is written as v1's postprocessing.json
 * (for_which_classes: the label lists of the chosen steps; Dice keyed by label or region).
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
import { readFolderScore, scoringKey, taskScoring, type Scoring } from '../evaluation/scoring';
import { determinePostprocessing } from './determine';
import { determinePostprocessingV2 } from './determine-v2';
import {
  ensembleFolder, gtFolder, modelFolder, postprocessingFile, postprocessingManifestFile, RESULT_FOLDERS, summaryFile, v2PostprocessingFiles,
} from '../io/layout';
import { consolidateFolds, validationFolders } from './consolidate';
import { writePostprocessingJson, type ClassEntry, type PostprocessingJson } from './rules';
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


/** consolidate_folds into cv_niftis_raw; every fold's validation_raw must exist. */
async function consolidate(input: PostprocessInput, layout: Layout, scoring: Scoring): Promise<void> {
  const folds = input.folds.filter((f) => f !== 'all');
  if (folds.length === 0) throw new BadInputError('postprocessing needs cross-validation folds (fold "all" has no held-out cases)');
  const missing = validationFolders([layout.base], folds, input.validationFolderName).find((dir) => !fs.existsSync(dir));
  if (missing && !fs.existsSync(summaryFile(path.join(layout.base, layout.raw)))) {
    throw new BadInputError(`${missing}: missing; run the validation of that fold first`, missing);
  }
  await consolidateFolds(layout.base, folds, layout.gtDir, scoring, input.validationFolderName);
}

function inputsDigest(layout: Layout, scoring: Scoring): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ layout, ...(scoring.kind === 'classes' ? { classes: scoring.classes } : { scoring: scoringKey(scoring) }) }));
  const rawDir = path.join(layout.base, layout.raw);
  for (const dir of [rawDir, layout.gtDir]) {
    for (const f of listLabelFiles(dir)) {
      const st = fs.statSync(path.join(dir, f));
      h.update(`${dir}/${f}:${st.size}:${st.mtimeMs}\n`);
    }
  }
  return h.digest('hex');
}

/** For v2's decision (where label lists are steps and regions alike): the all-foreground step kept, the single labels kept. */
interface V2Steps { allForeground: boolean; classes: number[] }

function outputFrom(file: string, json: PostprocessingJson, diceAfter: number, steps?: V2Steps): PostprocessOutput {
  const raw = Object.values(json.dc_per_class_raw);
  return {
    postprocessingFile: file,
    removeAllButLargestForeground: steps?.allForeground ?? json.for_which_classes.some((e) => Array.isArray(e)),
    forClasses: steps?.classes ?? json.for_which_classes.filter((e): e is number => typeof e === 'number'),
    diceBefore: raw.length ? raw.reduce((a, b) => a + b, 0) / raw.length : NaN,
    diceAfter,
  };
}

/**
 * v2's determine_postprocessing on the pooled folder (its postprocessed/ becomes the final folder), written as v1's
 * postprocessing.json: the steps' label lists in order, Dice per label or region before (raw) and after.
 */
async function determineAsV2(layout: Layout, scoring: Extract<Scoring, { kind: 'regions-or-ignore' }>): Promise<{ file: string; json: PostprocessingJson; diceAfter: number; steps: V2Steps }> {
  const rawDir = path.join(layout.base, layout.raw);
  const r = await determinePostprocessingV2({
    predictionsDir: rawDir, referenceDir: layout.gtDir, fileEnding: '.nii.gz', labelsOrRegions: scoring.labelsOrRegions,
    ...(scoring.ignoreLabel !== undefined ? { ignoreLabel: scoring.ignoreLabel } : {}), keepPostprocessed: true, connectivity: 6,
  });
  const v2 = v2PostprocessingFiles(rawDir);
  const finalDir = path.join(layout.base, layout.final);
  fs.rmSync(finalDir, { recursive: true, force: true });
  fs.renameSync(v2.postprocessedDir, finalDir);
  // the pooled folder keeps only the predictions and their summary, as in the v1 layout
  fs.rmSync(v2.pkl, { force: true });
  fs.rmSync(v2.json, { force: true });
  const json: PostprocessingJson = {
    dc_per_class_raw: r.meanDiceBefore, dc_per_class_pp_all: r.meanDiceAfter, dc_per_class_pp_per_class: r.meanDiceAfter,
    for_which_classes: r.kwargs.map((k): ClassEntry => (typeof k.labels_or_regions === 'number' ? k.labels_or_regions : [...k.labels_or_regions])),
    min_valid_object_sizes: 'None', num_samples: listLabelFiles(rawDir).length, validation_final: layout.final, validation_raw: layout.raw,
  };
  const file = postprocessingFile(layout.base);
  writePostprocessingJson(file, json);
  const single = r.kwargs.slice(r.keptLargestForeground ? 1 : 0).map((k) => k.labels_or_regions).filter((e) => typeof e === 'number' || e.length === 1);
  return { file, json, diceAfter: r.after, steps: { allForeground: r.keptLargestForeground, classes: single.map((e) => (typeof e === 'number' ? e : e[0]!)) } };
}

export async function postprocess(input: PostprocessInput): Promise<PostprocessOutput> {
  if (input.method === 'v2') return postprocessV2(input);
  const layout = layoutFor(input);
  if (!fs.existsSync(layout.gtDir)) throw new BadInputError(`${layout.gtDir}: reference segmentations missing (the model's ${RESULT_FOLDERS.gtNiftis} or the preprocessed reference segmentations)`, layout.gtDir);
  const scoring = taskScoring(input.paths.rawDir);
  if (layout.raw === RESULT_FOLDERS.cvRaw) await consolidate(input, layout, scoring);
  const rawDir = path.join(layout.base, layout.raw);
  if (!fs.existsSync(rawDir)) throw new BadInputError(`${rawDir}: missing; the ensemble's cross-validation predictions must be written first`, rawDir);

  const ppFile = postprocessingFile(layout.base);
  const manifestFile = postprocessingManifestFile(layout.base);
  const digest = inputsDigest(layout, scoring);
  const finalDir = path.join(layout.base, layout.final);
  if (fs.existsSync(ppFile) && fs.existsSync(manifestFile) && fs.existsSync(summaryFile(finalDir))) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { digest?: string; steps?: V2Steps };
    if (manifest.digest === digest) {
      const json = JSON.parse(fs.readFileSync(ppFile, 'utf8')) as PostprocessingJson;
      return outputFrom(ppFile, json, readFolderScore(scoring, finalDir).meanForegroundDice, manifest.steps);
    }
  }
  if (scoring.kind === 'regions-or-ignore') {
    const r = await determineAsV2(layout, scoring);
    writeJsonAtomic(manifestFile, { digest, scoring, steps: r.steps, written: new Date().toISOString() });
    return outputFrom(r.file, r.json, r.diceAfter, r.steps);
  }
  const { classes } = scoring;
  const r = await determinePostprocessing({ base: layout.base, gtDir: layout.gtDir, rawSubfolder: layout.raw, finalSubfolder: layout.final, classes });
  writeJsonAtomic(manifestFile, { digest, classes, written: new Date().toISOString() });
  return outputFrom(r.postprocessingFile, r.json, r.diceAfter);
}
