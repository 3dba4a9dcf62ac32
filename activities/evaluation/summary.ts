/**
 * summary.json in nnU-Net v1's shape (`evaluator.aggregate_scores`; docs/evaluation.md, 'summary.json'):
 *   { name, description, timestamp, task, author,
 *     results: { all: [ { "<label>": {metric: value}, ..., test: path, reference: path } ],
 *                mean: { "<label>": {metric: nanmean over cases} },
 *                foreground_mean: {metric: nanmean over labels other than 0, -1, 99} },
 *     id }
 * `foreground_mean` is our addition (v2's name): nnU-Net v1's own readers parse every key of results.mean as
 * an integer, so the foreground mean must not live there. NaN is written as JSON null (valid JSON); the reader
 * accepts null and Python's bare NaN/Infinity tokens, so nnU-Net's own summary files load too.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import type { ClassMetrics } from './metrics';

export interface CaseEvaluation {
  /** Path of the prediction ("test" in nnU-Net's words). */
  test: string;
  reference: string;
  perClass: Record<string, ClassMetrics>;
}

export type MetricTable = Record<string, number>;

export interface SummaryJson {
  name: string;
  description: string;
  timestamp: string;
  task: string;
  author: string;
  results: {
    all: Array<Record<string, MetricTable | string>>;
    mean: Record<string, MetricTable>;
    foreground_mean?: MetricTable;
  };
  id: string;
}

export interface SummaryMeta { name?: string; description?: string; task?: string; author?: string }

/** numpy's nanmean: the mean of the non-NaN values; NaN when there are none. */
export function nanmean(values: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isNaN(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/** Per-class nanmean of every metric over the cases, keys in class order. */
export function meanPerClass(cases: readonly CaseEvaluation[], classes: readonly string[]): Record<string, MetricTable> {
  const mean: Record<string, MetricTable> = {};
  for (const c of classes) {
    const table: MetricTable = {};
    const names = cases.length > 0 ? Object.keys(cases[0].perClass[c] ?? {}) : [];
    for (const m of names) table[m] = nanmean(cases.map((k) => (k.perClass[c] as Record<string, number>)[m]));
    mean[c] = table;
  }
  return mean;
}

/** Foreground labels of a mean table: integer keys other than 0, -1 and 99 (nnU-Net's foreground_mean). */
export function foregroundLabels(mean: Record<string, MetricTable>): string[] {
  return Object.keys(mean).filter((k) => /^-?\d+$/.test(k) && !['0', '-1', '99'].includes(k));
}

/** nanmean over the foreground labels of each metric (`add_mean_dice_to_json.foreground_mean`). */
export function foregroundMean(mean: Record<string, MetricTable>): MetricTable {
  const fg = foregroundLabels(mean);
  const out: MetricTable = {};
  if (fg.length === 0) return out;
  for (const m of Object.keys(mean[fg[0]])) out[m] = nanmean(fg.map((l) => mean[l][m]));
  return out;
}

/**
 * Mean foreground Dice as model selection computes it (`figure_out_what_to_submit.get_foreground_mean`):
 * plain mean (not nanmean) of the per-class mean Dice over labels other than 0.
 */
export function meanForegroundDice(summary: Pick<SummaryJson, 'results'>): number {
  const labels = Object.keys(summary.results.mean).filter((k) => /^-?\d+$/.test(k) && k !== '0');
  if (labels.length === 0) return NaN;
  return labels.reduce((s, l) => s + summary.results.mean[l].Dice, 0) / labels.length;
}

/** Builds the summary object; `classes` gives the label keys in order. */
export function buildSummary(cases: readonly CaseEvaluation[], classes: readonly number[], meta: SummaryMeta = {}, now = new Date()): SummaryJson {
  const keys = classes.map(String);
  const all = cases.map((c) => {
    const row: Record<string, MetricTable | string> = {};
    for (const k of keys) row[k] = c.perClass[k] as MetricTable;
    row.test = c.test;
    row.reference = c.reference;
    return row;
  });
  const mean = meanPerClass(cases, keys);
  const body = {
    name: meta.name ?? '',
    description: meta.description ?? '',
    timestamp: pythonTimestamp(now),
    task: meta.task ?? '',
    author: meta.author ?? 'nnunet-ts',
    results: { all, mean, foreground_mean: foregroundMean(mean) },
  };
  const id = createHash('md5').update(stringifySummary(body)).digest('hex').slice(0, 12);
  return { ...body, id };
}

/** `str(datetime.today())`: local time as "YYYY-MM-DD HH:MM:SS.ffffff". */
export function pythonTimestamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

/** JSON text with NaN/±Infinity as null. */
export function stringifySummary(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 4);
}

export function writeSummary(file: string, summary: SummaryJson): void {
  writeFileAtomic(file, stringifySummary(summary) + '\n');
}

/** JSON.parse that also accepts Python json's bare NaN / Infinity / -Infinity tokens (read as null). */
export function parsePythonJson(text: string, reviver?: (key: string, value: unknown) => unknown): unknown {
  return JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|-?\bNaN\b|-?\bInfinity\b/g, (_m, str: string | undefined) => str ?? 'null'), reviver);
}

/** Parses a summary.json written by us or by nnU-Net (bare NaN / Infinity tokens allowed); null reads as NaN. */
export function readSummary(file: string): SummaryJson {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BadInputError(`${file}: cannot read summary (${(err as Error).message})`, file);
  }
  let parsed: SummaryJson;
  try {
    parsed = parsePythonJson(text, (_k, v) => (v === null ? NaN : v)) as SummaryJson;
  } catch (err) {
    throw new BadInputError(`${file}: not valid JSON (${(err as Error).message})`, file);
  }
  if (!parsed?.results?.mean || !Array.isArray(parsed.results.all)) {
    throw new BadInputError(`${file}: not an nnU-Net summary.json (needs results.all and results.mean)`, file);
  }
  return parsed;
}
