/**
 * nnUNet_find_best_configuration (v1 `figure_out_what_to_submit.py`; v2 where noted):
 * - every configuration: pooled cross-validation Dice = mean foreground Dice of `cv_niftis_raw/summary.json`
 *   (consolidated from the folds' validation_raw when absent or older than them), BEFORE postprocessing; for a
 *   dataset with regions or an ignore label v2's summary.json and its foreground mean over the labels or regions;
 * - every unordered pair: the folds' validation softmax (`validation_raw/<case>.npz`; a region model's sigmoid
 *   probabilities, thresholded at 0.5 in regions_class_order after averaging) averaged and exported into
 *   `ensembles/<task>/ensemble_<a>--<b>/ensembled_raw` with its summary.json, scored the same way;
 * - the winner is the highest score; on exact ties the first candidate (singles before ensembles, v2's rule);
 * - postprocessing decided for every candidate (its postprocessing.json), unless disabled;
 * - prediction_commands.txt and summary.csv (nnU-Net's columns and rounding) in `ensembles/<task>/`.
 * Configurations without results are skipped (v2), or refused with `strict` (v1). Every folder written here is
 * built under a temporary name and renamed when complete, and reused while the fold predictions it came from
 * are unchanged, so re-runs are cheap and never score stale predictions.
 * See docs/inference.md, 'How find-best chooses'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { plansByKind, type CandidateResult, type Configuration, type FindBestInput, type FindBestOutput, type Fold } from '../contract';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { readFolderScore, scoringKeys, taskScoring, type FolderScore, type Scoring } from '../evaluation/scoring';
import { meanProbabilities } from '../inference/export';
import { readSoftmax, segmentationFile, softmaxFile, writeSegmentation } from '../inference/write-prediction';
import { segmentationOfMean } from './ensemble';
import {
  cvRawFolder, ensembledRawFolder, ensembleFolder, ensemblesFolder, findBestSummaryCsv, foldFolder, gtFolder, modelFolder, plansFor, postprocessingFile, predictionCommandsFile,
  RESULT_FOLDERS, summaryFile, trainerFor, validationFolder,
} from '../io/layout';
import { buildEvaluatedFolder, consolidateFolds, isUpToDate, validationFolders } from '../postprocessing/consolidate';
import { postprocess } from '../postprocessing/activity';

export interface Candidate extends CandidateResult {
  /** Folder whose summary.json was scored (cv_niftis_raw or ensembled_raw). */
  resultsDir: string;
  /** Mean Dice per foreground class ("1"), or per label or region as v2 keys them ("(1, 2)"). */
  dicePerClass: Record<string, number>;
}

export interface FindBestResult extends FindBestOutput {
  candidates: Candidate[];
  winner: Candidate;
  /** Configurations left out and why (absent results, or an ensemble without softmax files). */
  skipped: string[];
  /** Candidates whose postprocessing could not be determined, and why. */
  postprocessingSkipped: string[];
  commandsFile: string;
  summaryCsv: string;
}

const cvFolds = (folds: readonly Fold[]): Fold[] => folds.filter((f) => f !== 'all');

/** Why a configuration cannot be scored, or undefined when every fold has validation predictions. */
function missingResults(model: string, folds: readonly Fold[]): string | undefined {
  if (fs.existsSync(summaryFile(cvRawFolder(model)))) return undefined;
  if (!fs.existsSync(model)) return `${model} does not exist (not trained)`;
  const missing = folds.filter((f) => !fs.existsSync(validationFolder(foldFolder(model, f))));
  return missing.length ? `${model}: no ${RESULT_FOLDERS.validation} for fold(s) ${missing.join(', ')}` : undefined;
}

/** Validation cases of a fold with a softmax .npz in both models, or why there are none. */
function ensembleCases(models: readonly string[], fold: Fold): string[] {
  const sets = models.map((m) => {
    const dir = validationFolder(foldFolder(m, fold));
    return new Set(fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.npz')).map((f) => f.slice(0, -4)) : []);
  });
  return [...sets[0]].filter((id) => sets.every((s) => s.has(id))).sort();
}

/** Averages both models' validation softmax per fold into ensembled_raw and evaluates it (rebuilt when a fold changes). */
async function ensembledScore(base: string, models: readonly string[], folds: readonly Fold[], gtDir: string, scoring: Scoring): Promise<FolderScore | string> {
  const rawDir = ensembledRawFolder(base);
  const sources = validationFolders(models, folds);
  if (isUpToDate(rawDir, sources)) return readFolderScore(scoring, rawDir);
  const perFold = folds.map((f) => ({ fold: f, cases: ensembleCases(models, f) }));
  const empty = perFold.filter((p) => p.cases.length === 0).map((p) => p.fold);
  if (empty.length) return `no validation softmax (.npz) in both models for fold(s) ${empty.join(', ')}; train/validate with --npz`;
  return buildEvaluatedFolder(rawDir, sources, gtDir, scoring, async (tmp) => {
    for (const { fold, cases } of perFold) {
      const dirs = models.map((m) => validationFolder(foldFolder(m, fold)));
      for (const id of cases) {
        const inputs = dirs.map((d) => readSoftmax(d, id));
        const mean = meanProbabilities(inputs.map((i) => i.probabilities));
        await writeSegmentation(segmentationFile(tmp, id), segmentationOfMean(mean, inputs, dirs.map((d) => softmaxFile(d, id))), inputs[0].properties);
      }
    }
  });
}

/** `-m` names; 3d_cascade_fullres gets nnU-Net's cascade trainer; `-p` is that model's own plans. */
function predictCommand(c: Configuration, input: FindBestInput, output: string, npz: boolean): string {
  const t = input.paths.taskName;
  const plans = plansFor(c, plansByKind(input));
  return `nnUNet_predict -i FOLDER_WITH_TEST_CASES -o ${output} -tr ${input.trainer} -ctr ${trainerFor('3d_cascade_fullres', input.trainer)} -m ${c} -p ${plans} -t ${t}${npz ? ' -z' : ''}`;
}

/** nnU-Net's printed commands: the ensemble's -pp only when postprocessing was determined. */
export function predictionCommands(winner: Candidate, input: FindBestInput): string[] {
  if (winner.configurations.length === 1) return [predictCommand(winner.configurations[0], input, 'OUTPUT_FOLDER_MODEL1', false)];
  const outs = winner.configurations.map((_, i) => `OUTPUT_FOLDER_MODEL${i + 1}`);
  const pp = postprocessingFile(ensembleFolder(input.paths, winner.configurations, input.trainer, plansByKind(input)));
  return [
    ...winner.configurations.map((c, i) => predictCommand(c, input, outs[i], true)),
    `nnUNet_ensemble -f ${outs.join(' ')} -o OUTPUT_FOLDER${input.disablePostprocessing ? '' : ` -pp ${pp}`}`,
  ];
}

/** Python's '%01.4f'. */
const pyFixed4 = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? 'nan' : v.toFixed(4));

/**
 * nnU-Net's summary.csv: `model,class1,...,classN,average`, N the winner's foreground classes (or regions, in
 * dataset.json order), each Dice as '%01.4f'; average is the mean over the foreground classes (regions).
 */
export function summaryCsv(candidates: readonly Candidate[], winner: Candidate, keys = Object.keys(winner.dicePerClass)): string {
  const header = ['model', ...keys.map((_, i) => `class${i + 1}`), 'average'].join(',');
  const rows = candidates.map((c) => [c.name, ...keys.map((k) => pyFixed4(c.dicePerClass[k])), pyFixed4(c.meanForegroundDice)].join(','));
  return [header, ...rows].join('\n') + '\n';
}

/**
 * nnU-Net decides postprocessing for every configuration (consolidate_folds) and every ensemble pair (ensemble()),
 * so that predicting with any of them applies its own postprocessing.json, not only the winner.
 */
async function determineForEvery(candidates: readonly Candidate[], input: FindBestInput): Promise<string[]> {
  const notDetermined: string[] = [];
  for (const c of candidates) {
    try {
      await postprocess({ ...input, winner: c });
    } catch (err) {
      // e.g. a model whose pooled predictions were cleaned up (only summary.json kept): it is still ranked
      if (!(err instanceof BadInputError)) throw err;
      notDetermined.push(`${c.name}: ${err.message}`);
    }
  }
  return notDetermined;
}


export async function findBest(input: FindBestInput & { ensembling?: boolean }): Promise<FindBestResult> {
  const { paths, trainer } = input;
  const plans = plansByKind(input);
  const folds = cvFolds(input.folds);
  if (folds.length === 0) throw new BadInputError('find-best needs cross-validation folds (0-4); fold "all" has no held-out cases');
  const scoring = taskScoring(paths.rawDir);
  const skipped: string[] = [];
  const candidates: Candidate[] = [];
  const available: Configuration[] = [];
  for (const c of input.configurations) {
    const model = modelFolder(paths, c, trainer, plans);
    const why = missingResults(model, folds);
    if (why) {
      if (input.strict) throw new BadInputError(`${c}: ${why}; train every fold of it or leave it out of -m`, model);
      skipped.push(`${c}: ${why}`);
      continue;
    }
    const score = await consolidateFolds(model, folds, gtFolder(model, paths.preprocessedDir), scoring);
    available.push(c);
    candidates.push({ name: c, configurations: [c], ...score, resultsDir: cvRawFolder(model) });
  }
  if (candidates.length === 0) {
    throw new BadInputError(`${paths.taskName}: no configuration has cross-validation results (${skipped.join('; ')})`, paths.resultsDir);
  }
  if (input.ensembling !== false) {
    for (let i = 0; i < available.length; i++) {
      for (let j = i + 1; j < available.length; j++) {
        const pair = [available[i], available[j]];
        const models = pair.map((c) => modelFolder(paths, c, trainer, plans));
        const base = ensembleFolder(paths, pair, trainer, plans);
        const r = await ensembledScore(base, models, folds, gtFolder(models[0], paths.preprocessedDir), scoring);
        if (typeof r === 'string') {
          if (input.strict) throw new BadInputError(`ensemble ${pair.join(' + ')}: ${r}`, models[0]);
          skipped.push(`ensemble ${pair.join(' + ')}: ${r}`);
          continue;
        }
        candidates.push({ name: path.basename(base), configurations: pair, ...r, resultsDir: ensembledRawFolder(base) });
      }
    }
  }
  // first best wins on exact ties (singles are listed before ensembles); NaN never wins
  const winner = candidates.reduce((best, c) => (c.meanForegroundDice > best.meanForegroundDice || Number.isNaN(best.meanForegroundDice) ? c : best));
  const postprocessingSkipped = input.disablePostprocessing ? [] : await determineForEvery(candidates, input);
  const predictCommands = predictionCommands(winner, input);
  const outDir = ensemblesFolder(paths);
  const commandsFile = predictionCommandsFile(paths);
  const csvFile = findBestSummaryCsv(paths);
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(commandsFile, `${predictCommands.join('\n')}\n`);
  writeFileAtomic(csvFile, summaryCsv(candidates, winner, scoring.kind === 'classes' ? undefined : scoringKeys(scoring)));
  return { winner, candidates, winnerDicePerClass: winner.dicePerClass, predictCommands, skipped, postprocessingSkipped, commandsFile, summaryCsv: csvFile };
}
