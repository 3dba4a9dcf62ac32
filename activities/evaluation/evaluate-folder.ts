/**
 * Evaluation of prediction files against reference files (`evaluate_folder` / `aggregate_scores`).
 * Each case is read once and reduced to its joint label histogram, so memory holds at most `concurrency`
 * volumes at a time and any label set can be scored afterwards.
 * See docs/evaluation.md, 'Metrics'.
 */
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { summaryFile as summaryFileIn } from '../io/layout';
import { readLabelVolume, listLabelFiles, type LabelVolume } from './label-io';
import { jointHistogram, metricsForClasses, type JointHistogram } from './metrics';
import { buildSummary, writeSummary, type CaseEvaluation, type SummaryJson, type SummaryMeta } from './summary';

export interface CasePair { test: string; reference: string }

export interface EvaluateOptions {
  /** Label values to score; default: every value found in any reference or prediction (0 included), as nnU-Net. */
  labels?: readonly number[];
  /** Where to write summary.json; null: do not write. */
  summaryFile?: string | null;
  /** Cases read at once (bounds memory). */
  concurrency?: number;
  meta?: SummaryMeta;
  onCase?: (done: number, total: number) => void;
}

/** Runs `fn` over `items` with at most `limit` in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Reads a prediction/reference pair; their shapes must agree. */
export async function readPair(pair: CasePair): Promise<{ prediction: LabelVolume; reference: LabelVolume }> {
  const [reference, prediction] = await Promise.all([readLabelVolume(pair.reference), readLabelVolume(pair.test)]);
  if (reference.shape.some((s, i) => s !== prediction.shape[i])) {
    throw new BadInputError(`${pair.test}: shape ${prediction.shape.join('x')} differs from the reference ${pair.reference} `
      + `(${reference.shape.join('x')}); prediction and reference must be on the same voxel grid`, pair.test);
  }
  return { prediction, reference };
}

/** The joint histogram of a prediction/reference pair. */
export async function histogramOfPair(pair: CasePair): Promise<JointHistogram> {
  const { prediction, reference } = await readPair(pair);
  return jointHistogram(reference.data, prediction.data, pair.test);
}

/** Scores the pairs and builds (and optionally writes) the summary. */
export async function evaluatePairs(pairs: readonly CasePair[], opts: EvaluateOptions = {}): Promise<SummaryJson> {
  let done = 0;
  const hists = await mapLimit(pairs, opts.concurrency ?? 2, async (pair) => {
    const h = await histogramOfPair(pair);
    opts.onCase?.(++done, pairs.length);
    return h;
  });
  const classes = opts.labels ? [...opts.labels] : unionOfLabels(hists);
  const cases: CaseEvaluation[] = pairs.map((p, i) => ({ test: p.test, reference: p.reference, perClass: metricsForClasses(hists[i], classes) }));
  const summary = buildSummary(cases, classes, opts.meta);
  if (opts.summaryFile) writeSummary(opts.summaryFile, summary);
  return summary;
}

function unionOfLabels(hists: readonly JointHistogram[]): number[] {
  const all = new Set<number>();
  for (const h of hists) for (const l of h.labels) all.add(l);
  return [...all].sort((a, b) => a - b);
}

/**
 * Pairs the label files of two folders by file name. Like nnU-Net, every prediction needs a reference and every
 * reference a prediction.
 */
export function pairFolders(referenceDir: string, predictionDir: string): CasePair[] {
  const refs = listLabelFiles(referenceDir);
  const preds = listLabelFiles(predictionDir);
  const refSet = new Set(refs);
  const predSet = new Set(preds);
  const noRef = preds.filter((f) => !refSet.has(f));
  const noPred = refs.filter((f) => !predSet.has(f));
  if (noRef.length > 0 || noPred.length > 0) {
    const parts: string[] = [];
    if (noPred.length) parts.push(`missing in ${predictionDir}: ${preview(noPred)}`);
    if (noRef.length) parts.push(`missing in ${referenceDir}: ${preview(noRef)}`);
    throw new BadInputError(`the two folders must hold the same file names; ${parts.join('; ')}`, predictionDir);
  }
  if (preds.length === 0) throw new BadInputError(`${predictionDir}: no .nii.gz/.nii files to evaluate`, predictionDir);
  return preds.map((f) => ({ test: path.join(predictionDir, f), reference: path.join(referenceDir, f) }));
}

function preview(names: string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}

/** `nnUNet_evaluate_folder`: scores every file of the prediction folder; writes PRED/summary.json by default. */
export async function evaluateFolders(referenceDir: string, predictionDir: string, opts: EvaluateOptions = {}): Promise<SummaryJson> {
  const pairs = pairFolders(referenceDir, predictionDir);
  const summaryFile = opts.summaryFile === undefined ? summaryFileIn(predictionDir) : opts.summaryFile;
  return evaluatePairs(pairs, { ...opts, summaryFile });
}

/**
 * Evaluates the label files staged in `stagedDir` (a folder about to be renamed to `finalDir`) against `gtDir` and
 * writes stagedDir/summary.json naming the files at their final place.
 */
export async function evaluateStagedFolder(stagedDir: string, finalDir: string, gtDir: string, classes: readonly number[], concurrency = 2): Promise<SummaryJson> {
  const files = listLabelFiles(stagedDir);
  const summary = await evaluatePairs(files.map((f) => ({ test: path.join(stagedDir, f), reference: path.join(gtDir, f) })), { labels: classes, summaryFile: null, concurrency });
  summary.results.all.forEach((row, i) => { row.test = path.join(finalDir, files[i]); });
  writeSummary(summaryFileIn(stagedDir), summary);
  return summary;
}
