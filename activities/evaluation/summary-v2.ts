/**
 * nnU-Net v2's evaluation of a folder of predictions (nnUNetv2_evaluate_folder / _simple) and its summary.json:
 *   { "foreground_mean": {Dice, FN, FP, IoU, TN, TP, n_pred, n_ref},
 *     "mean": { "<label or region>": {...} },
 *     "metric_per_case": [ { "metrics": { "<label or region>": {...} }, "prediction_file", "reference_file" } ] }
 * Keys are sorted (v2 saves with sort_keys), labels are str(int) and regions str(tuple) ("(1, 2)"), Dice and IoU are
 * NaN where TP+FP+FN is 0, voxels equal to the ignore label in the reference count nowhere, means are np.nanmean
 * over cases and the foreground mean is the plain mean over labels/regions (0 excluded). Numbers are written as
 * Python writes them: counts as ints in the cases, every mean as a float (1.0, 1e-05, NaN).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { mapLimit } from './evaluate-folder';
import { readLabelVolume } from './label-io';
import { IMAGE_ENDINGS } from '../io/image-formats/registry';
import { jointHistogram, type JointHistogram } from './metrics';

/** A label value, or a region: several label values evaluated as one. */
export type LabelOrRegion = number | readonly number[];

export interface V2Metrics { Dice: number; IoU: number; FP: number; TP: number; FN: number; TN: number; n_pred: number; n_ref: number }
export interface V2CaseResult { reference_file: string; prediction_file: string; metrics: Record<string, V2Metrics> }
export interface V2Summary { metric_per_case: V2CaseResult[]; mean: Record<string, V2Metrics>; foreground_mean: V2Metrics }

const METRICS: ReadonlyArray<keyof V2Metrics> = ['Dice', 'IoU', 'FP', 'TP', 'FN', 'TN', 'n_pred', 'n_ref'];

/** Python's str() of a label or region: 3, (1, 2), (3,). */
export function labelOrRegionKey(r: LabelOrRegion): string {
  if (typeof r === 'number') return String(r);
  return r.length === 1 ? `(${r[0]},)` : `(${r.join(', ')})`;
}

function countsFor(h: JointHistogram, r: LabelOrRegion, ignoreLabel: number | undefined): V2Metrics {
  const members = new Set(typeof r === 'number' ? [r] : r);
  let tp = 0; let fp = 0; let fn = 0; let tn = 0;
  for (let a = 0; a < h.labels.length; a++) {
    if (h.labels[a] === ignoreLabel) continue;
    const inRef = members.has(h.labels[a]);
    for (let b = 0; b < h.labels.length; b++) {
      const c = h.counts[a * h.size + b];
      if (c === 0) continue;
      const inPred = members.has(h.labels[b]);
      if (inRef && inPred) tp += c; else if (inPred) fp += c; else if (inRef) fn += c; else tn += c;
    }
  }
  const none = tp + fp + fn === 0;
  return { Dice: none ? NaN : (2 * tp) / (2 * tp + fp + fn), IoU: none ? NaN : tp / (tp + fp + fn), FP: fp, TP: tp, FN: fn, TN: tn, n_pred: fp + tp, n_ref: fn + tp };
}

/** One case: v2's compute_metrics. */
export async function evaluateCaseV2(referenceFile: string, predictionFile: string, labelsOrRegions: readonly LabelOrRegion[], ignoreLabel?: number): Promise<V2CaseResult> {
  const [ref, pred] = await Promise.all([readLabelVolume(referenceFile), readLabelVolume(predictionFile)]);
  const h = jointHistogram(ref.data, pred.data, `${predictionFile} vs ${referenceFile}`);
  const metrics: Record<string, V2Metrics> = {};
  for (const r of labelsOrRegions) metrics[labelOrRegionKey(r)] = countsFor(h, r, ignoreLabel);
  return { reference_file: referenceFile, prediction_file: predictionFile, metrics };
}

function nanmean(values: readonly number[]): number {
  const finite = values.filter((v) => !Number.isNaN(v));
  return finite.length === 0 ? NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** v2's means: per label/region the nanmean over cases; the foreground mean over labels/regions other than 0. */
export function summarizeV2(cases: V2CaseResult[], labelsOrRegions: readonly LabelOrRegion[]): V2Summary {
  const keys = labelsOrRegions.map(labelOrRegionKey);
  const table = (pick: (m: keyof V2Metrics) => number): V2Metrics => Object.fromEntries(METRICS.map((m) => [m, pick(m)])) as unknown as V2Metrics;
  const means: Record<string, V2Metrics> = {};
  for (const k of keys) means[k] = table((m) => nanmean(cases.map((c) => c.metrics[k][m])));
  const foreground = keys.filter((k) => k !== '0');
  return { metric_per_case: cases, mean: means, foreground_mean: table((m) => mean(foreground.map((k) => means[k][m]))) };
}

/** Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const s = String(x);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** json.dump(sort_keys=True, indent=4) with Python's number forms; `floats` says which numbers are floats. */
function pythonJson(value: unknown, floats: boolean, indent = ''): string {
  const inner = `${indent}    `;
  if (typeof value === 'number') return floats || !Number.isInteger(value) || !Number.isFinite(value) ? pythonFloat(value) : String(value);
  if (typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + pythonJson(v, floats, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '{}';
  // Dice and IoU are floats everywhere; every number under a mean is a float.
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pythonJson(v, floats || k === 'Dice' || k === 'IoU' || k === 'mean' || k === 'foreground_mean', inner)}`).join(',\n')}\n${indent}}`;
}

export function stringifySummaryV2(summary: V2Summary): string {
  return pythonJson(summary, false);
}

/** Any JSON value as v2's save_json writes it (sorted keys, indent 4, Python float forms under means). */
export function stringifyPythonJsonV2(value: unknown): string {
  return pythonJson(value, false);
}

/** A summary.json read back (NaN included) for its means. */
export function readSummaryV2(file: string): V2Summary {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing`, file);
  const revive = (_k: string, v: unknown) => (v === null ? NaN : v);
  return JSON.parse(fs.readFileSync(file, 'utf8').replace(/\bNaN\b/g, 'null'), revive) as V2Summary;
}

export interface EvaluateFolderV2Options {
  referenceDir: string;
  predictionDir: string;
  /** Which files are cases: dataset.json's file_ending (evaluate_folder) or the reference's extension (evaluate_simple). */
  fileEnding: string;
  labelsOrRegions: readonly LabelOrRegion[];
  ignoreLabel?: number;
  /** v2's --chill: references without a prediction are allowed. */
  chill?: boolean;
  /** Default: <predictionDir>/summary.json. */
  outputFile?: string;
  concurrency?: number;
}

function casesIn(dir: string, ending: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new BadInputError(`${dir}: not a folder`, dir);
  return fs.readdirSync(dir).filter((f) => f.endsWith(ending) && fs.statSync(path.join(dir, f)).isFile()).sort();
}

/** v2's compute_metrics_on_folder: every prediction against the reference of the same name; writes summary.json. */
export async function evaluateFolderV2(opts: EvaluateFolderV2Options): Promise<{ summary: V2Summary; outputFile: string }> {
  const outputFile = opts.outputFile ?? path.join(opts.predictionDir, 'summary.json');
  if (!outputFile.endsWith('.json')) throw new BadInputError(`${outputFile}: the output file should end with .json`);
  // '.gz' is what evaluate_simple takes from case.nii.gz (the extension of the first reference file)
  if (opts.fileEnding !== '.gz' && !IMAGE_ENDINGS.includes(opts.fileEnding.toLowerCase())) {
    throw new BadInputError(`file ending ${opts.fileEnding}: no image reader/writer reads it; label maps must be one of ${IMAGE_ENDINGS.join(', ')}`);
  }
  if (opts.labelsOrRegions.length === 0) throw new BadInputError('no labels to evaluate: give the foreground labels (-l 1 2)');
  const predictions = casesIn(opts.predictionDir, opts.fileEnding);
  const references = casesIn(opts.referenceDir, opts.fileEnding);
  if (!opts.chill) {
    const missing = references.filter((f) => !predictions.includes(f));
    if (missing.length > 0) {
      throw new BadInputError(`Not all files in ${opts.referenceDir} exist in ${opts.predictionDir}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} missing (pass --chill to evaluate only the predicted cases)`);
    }
  }
  if (predictions.length === 0) throw new BadInputError(`${opts.predictionDir}: no predictions ending in ${opts.fileEnding}`, opts.predictionDir);
  const cases = await mapLimit(predictions, opts.concurrency ?? 2, (f) =>
    evaluateCaseV2(path.join(opts.referenceDir, f), path.join(opts.predictionDir, f), opts.labelsOrRegions, opts.ignoreLabel));
  const summary = summarizeV2(cases, opts.labelsOrRegions);
  writeFileAtomic(outputFile, stringifySummaryV2(summary));
  return { summary, outputFile };
}

/** The foreground labels or regions and the ignore label of a v2 dataset.json's `labels`, as v2's LabelManager has them. */
export function labelsFromDatasetJson(labels: Record<string, number | number[]>, file: string): { labelsOrRegions: LabelOrRegion[]; ignoreLabel?: number } {
  const ignore = labels.ignore;
  if (ignore !== undefined && typeof ignore !== 'number') throw new BadInputError(`${file}: the "ignore" label must be one integer`, file);
  const entries = Object.entries(labels).filter(([k]) => k !== 'ignore');
  const hasRegions = entries.some(([, v]) => Array.isArray(v) && v.length > 1);
  if (hasRegions) {
    const regions = entries.map(([, v]) => v).filter((v) => !(typeof v === 'number' ? v === 0 : v.length === 1 && v[0] === 0));
    return { labelsOrRegions: regions, ignoreLabel: ignore };
  }
  const values = [...new Set(entries.flatMap(([, v]) => (typeof v === 'number' ? [v] : v)))].sort((a, b) => a - b).filter((v) => v !== 0);
  return { labelsOrRegions: values, ignoreLabel: ignore };
}
