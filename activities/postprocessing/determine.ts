/**
 * nnU-Net's determine_postprocessing (v1 `postprocessing/connected_components.py`, dice_threshold 0):
 * 1. keep only the largest connected component of all foreground classes together; accept iff at least one
 *    class's mean Dice strictly improves and none strictly worsens;
 * 2. (more than one class) starting from the step-1 result if accepted, else the raw predictions, keep the
 *    largest component per class; accept class c iff its own mean Dice strictly improves.
 * Mean Dice per class is nanmean over cases, as in summary.json; NaN never compares as better or worse.
 *
 * Each case is read once: the raw prediction and its three postprocessed variants (all-foreground, per-class on
 * raw, per-class on all-foreground) are scored in memory, so no temporary folders are written. The final
 * folder (the raw predictions with the chosen rules applied) and its summary.json are written as nnU-Net does.
 * See docs/evaluation.md, 'Postprocessing'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { writeDirAtomic } from '../common/atomic';
import { evaluateStagedFolder, mapLimit, readPair, type CasePair } from '../evaluation/evaluate-folder';
import { listLabelFiles, readLabelVolume } from '../evaluation/label-io';
import { MAX_LABEL, confusionFor, jointHistogram, metricsFromCounts } from '../evaluation/metrics';
import type { LabelArray } from '../io/volume';
import { meanForegroundDice, nanmean, readSummary, type SummaryJson } from '../evaluation/summary';
import { distinctValues } from '../io/volume';
import { removeAllButLargestComponent, type Connectivity, type Shape3 } from '../volume/connected-components';
import { applyPostprocessingToFile, writePostprocessingJson, type ClassEntry, type PostprocessingJson, type PostprocessingRules } from './rules';
import { postprocessingFile as postprocessingFileIn, RESULT_FOLDERS, summaryFile as summaryFileIn } from '../io/layout';

/** Mean Dice per class label ("1", "2", ...). */
export type DicePerClass = Record<string, number>;

/** Per-class mean Dice of the raw predictions and of the three candidate postprocessings. */
export interface CandidateDice {
  raw: DicePerClass;
  allForeground: DicePerClass;
  perClassFromRaw: DicePerClass;
  perClassFromAllForeground: DicePerClass;
}

export interface PostprocessingDecision {
  forWhichClasses: ClassEntry[];
  removeAllButLargestForeground: boolean;
  /** Classes accepted in step 2. */
  perClass: number[];
  dcPerClassRaw: DicePerClass;
  dcPerClassPpAll: DicePerClass;
  /** Empty when there is a single foreground class (step 2 does not run). */
  dcPerClassPpPerClass: DicePerClass;
}

/** The decision rule of nnU-Net's determine_postprocessing, from mean Dice tables. */
export function decidePostprocessing(classes: readonly number[], dice: CandidateDice, diceThreshold = 0): PostprocessingDecision {
  const keys = classes.map(String);
  const improved = keys.some((c) => dice.allForeground[c] > dice.raw[c] + diceThreshold);
  const worse = keys.some((c) => dice.allForeground[c] < dice.raw[c]);
  const removeAllButLargestForeground = improved && !worse;
  const forWhichClasses: ClassEntry[] = removeAllButLargestForeground ? [[...classes]] : [];
  const perClass: number[] = [];
  let dcPerClassPpPerClass: DicePerClass = {};
  if (classes.length > 1) {
    const before = removeAllButLargestForeground ? dice.allForeground : dice.raw;
    const after = removeAllButLargestForeground ? dice.perClassFromAllForeground : dice.perClassFromRaw;
    dcPerClassPpPerClass = pick(after, keys);
    for (const c of classes) if (after[String(c)] > before[String(c)] + diceThreshold) perClass.push(c);
    forWhichClasses.push(...perClass);
  }
  return {
    forWhichClasses, removeAllButLargestForeground, perClass,
    dcPerClassRaw: pick(dice.raw, keys), dcPerClassPpAll: pick(dice.allForeground, keys), dcPerClassPpPerClass,
  };
}

function pick(t: DicePerClass, keys: readonly string[]): DicePerClass {
  return Object.fromEntries(keys.map((k) => [k, t[k]]));
}

/** Dice per class of one case for the raw prediction and the three candidates (prediction left untouched). */
export function candidateDiceOfCase(prediction: LabelArray, reference: LabelArray, shape: Shape3, classes: readonly number[], connectivity: Connectivity = 6): Record<keyof CandidateDice, DicePerClass> {
  const dice = (pred: LabelArray): DicePerClass => {
    const h = jointHistogram(reference, pred);
    return Object.fromEntries(classes.map((c) => [String(c), metricsFromCounts(confusionFor(h, c)).Dice]));
  };
  const copy = (): LabelArray => prediction.slice() as LabelArray;
  const allFg = copy();
  removeAllButLargestComponent(allFg, shape, [[...classes]], connectivity);
  const perFromRaw = copy();
  removeAllButLargestComponent(perFromRaw, shape, classes, connectivity);
  const perFromAll = allFg.slice() as LabelArray;
  removeAllButLargestComponent(perFromAll, shape, classes, connectivity);
  return { raw: dice(prediction), allForeground: dice(allFg), perClassFromRaw: dice(perFromRaw), perClassFromAllForeground: dice(perFromAll) };
}

/** nanmean over cases of each candidate's per-class Dice. */
export function meanCandidateDice(perCase: ReadonlyArray<Record<keyof CandidateDice, DicePerClass>>, classes: readonly number[]): CandidateDice {
  const mean = (k: keyof CandidateDice): DicePerClass =>
    Object.fromEntries(classes.map((c) => [String(c), nanmean(perCase.map((p) => p[k][String(c)]))]));
  return { raw: mean('raw'), allForeground: mean('allForeground'), perClassFromRaw: mean('perClassFromRaw'), perClassFromAllForeground: mean('perClassFromAllForeground') };
}

export interface DetermineOptions {
  /** Folder holding the raw-predictions subfolder; postprocessing.json and the final subfolder go here. */
  base: string;
  /** Reference segmentations (same file names as the predictions). */
  gtDir: string;
  rawSubfolder?: string;
  finalSubfolder?: string;
  /** Foreground classes; default: the integer keys (≠ 0) of RAW/summary.json's mean, else every fg label found. */
  classes?: readonly number[];
  diceThreshold?: number;
  concurrency?: number;
  /** Default BASE/postprocessing.json. */
  postprocessingFile?: string;
}

export interface DetermineResult {
  postprocessingFile: string;
  json: PostprocessingJson;
  decision: PostprocessingDecision;
  /** Mean foreground Dice before and after (final folder), model-selection style (plain mean over classes). */
  diceBefore: number;
  diceAfter: number;
  finalSummary: SummaryJson;
}

/** Folder-level determine_postprocessing: decides, writes postprocessing.json, the final folder and its summary. */
export async function determinePostprocessing(opts: DetermineOptions): Promise<DetermineResult> {
  const rawName = opts.rawSubfolder ?? RESULT_FOLDERS.validation;
  const finalName = opts.finalSubfolder ?? RESULT_FOLDERS.validationFinal;
  const rawDir = path.join(opts.base, rawName);
  const files = listLabelFiles(rawDir);
  if (files.length === 0) throw new BadInputError(`${rawDir}: no predictions (.nii.gz) to determine postprocessing from`, rawDir);
  const pairs: CasePair[] = files.map((f) => ({ test: path.join(rawDir, f), reference: path.join(opts.gtDir, f) }));
  const missing = pairs.filter((p) => !fs.existsSync(p.reference)).map((p) => path.basename(p.reference));
  if (missing.length) throw new BadInputError(`${opts.gtDir}: no reference for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`, opts.gtDir);
  const concurrency = opts.concurrency ?? 2;
  const classes = opts.classes ? [...opts.classes] : await defaultClasses(rawDir, pairs, concurrency);
  if (classes.length === 0) throw new BadInputError(`${rawDir}: no foreground classes to postprocess`, rawDir);

  const perCase = await mapLimit(pairs, concurrency, async (p) => {
    const { prediction, reference } = await readPair(p);
    return candidateDiceOfCase(prediction.data, reference.data, prediction.shape, classes);
  });
  const decision = decidePostprocessing(classes, meanCandidateDice(perCase, classes), opts.diceThreshold ?? 0);
  const json: PostprocessingJson = {
    dc_per_class_pp_all: decision.dcPerClassPpAll,
    dc_per_class_pp_per_class: decision.dcPerClassPpPerClass,
    dc_per_class_raw: decision.dcPerClassRaw,
    for_which_classes: decision.forWhichClasses,
    min_valid_object_sizes: 'None',
    num_samples: pairs.length,
    validation_final: finalName,
    validation_raw: rawName,
  };

  const finalDir = path.join(opts.base, finalName);
  const rules: PostprocessingRules = { forWhichClasses: decision.forWhichClasses };
  let finalSummary: SummaryJson | undefined;
  await writeDirAtomic(finalDir, async (tmp) => {
    await mapLimit(files, concurrency, (f) => applyPostprocessingToFile(path.join(rawDir, f), path.join(tmp, f), rules));
    finalSummary = await evaluateStagedFolder(tmp, finalDir, opts.gtDir, classes, concurrency);
  });
  const postprocessingFile = opts.postprocessingFile ?? postprocessingFileIn(opts.base);
  writePostprocessingJson(postprocessingFile, json);
  return {
    postprocessingFile, json, decision,
    diceBefore: meanOf(decision.dcPerClassRaw), diceAfter: meanForegroundDice(finalSummary!), finalSummary: finalSummary!,
  };
}

function meanOf(t: DicePerClass): number {
  const v = Object.values(t);
  return v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/** nnU-Net takes the classes from the raw summary.json; without one, every foreground label found. */
async function defaultClasses(rawDir: string, pairs: readonly CasePair[], concurrency: number): Promise<number[]> {
  const summaryFile = summaryFileIn(rawDir);
  if (fs.existsSync(summaryFile)) {
    return Object.keys(readSummary(summaryFile).results.mean).filter((k) => /^\d+$/.test(k) && k !== '0').map(Number);
  }
  const found = new Set<number>();
  await mapLimit(pairs.flatMap((p) => [p.test, p.reference]), concurrency, async (file) => {
    const values = distinctValues((await readLabelVolume(file)).data, MAX_LABEL + 1);
    if (!values) throw new BadInputError(`${file}: more than ${MAX_LABEL + 1} distinct values; is this a label map?`, file);
    for (const v of values) if (v > 0) found.add(v);
  });
  return [...found].sort((a, b) => a - b);
}
