/**
 * How a folder of cross-validation predictions is scored for find-best and postprocessing: plain v1 labels with v1's
 * summary.json (mean Dice per class, foreground mean over the classes), or, for a dataset with regions or an ignore
 * label, v2's summary.json (compute_metrics_on_folder per label or region, ignore-label voxels counting nowhere;
 * foreground_mean.Dice over the labels or regions, the value v2's find_best_configuration ranks by).
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';
import { labelValues, readDataset } from '../io/dataset';
import { LabelManager, specialLabelSpec } from '../io/label-manager';
import { summaryFile } from '../io/layout';
import { evaluateStagedFolder } from './evaluate-folder';
import { meanForegroundDice, readSummary, type SummaryJson } from './summary';
import { evaluateFolderV2, labelOrRegionKey, labelsFromDatasetJson, readSummaryV2, stringifySummaryV2, type LabelOrRegion, type V2Summary } from './summary-v2';

export type Scoring =
  | { kind: 'classes'; classes: number[] }
  | { kind: 'regions-or-ignore'; labelsOrRegions: LabelOrRegion[]; ignoreLabel?: number };

/** A scored folder: the mean foreground Dice and the mean Dice per class ("1") or per label/region ("(1, 2)"). */
export interface FolderScore { meanForegroundDice: number; dicePerClass: Record<string, number> }

/**
 * v2 scoring for a dataset with regions or an ignore label (regions as dataset.json declares them: a plain integer
 * stays a label, "2" not "(2,)", as in v2's LabelManager), else v1's over the foreground classes.
 */
export function scoringFor(labels: LabelManager | undefined, foregroundClasses: number[]): Scoring {
  if (!labels) return { kind: 'classes', classes: foregroundClasses };
  const { labelsOrRegions, ignoreLabel } = labelsFromDatasetJson(labels.spec.labels as Record<string, number | number[]>, labels.source);
  return { kind: 'regions-or-ignore', labelsOrRegions, ...(ignoreLabel !== undefined ? { ignoreLabel } : {}) };
}

/** The scoring of a raw task (nnUNet_raw/<task>): from its dataset.json labels, regions_class_order and ignore label. */
export function taskScoring(rawDir: string): Scoring {
  const d = readDataset(rawDir);
  const spec = d.format === 'v2' ? specialLabelSpec(Object.fromEntries(d.labels.map((l) => [l.name, l.value])), d.regionsClassOrder, d.jsonFile) : undefined;
  return scoringFor(spec ? new LabelManager(spec, d.jsonFile) : undefined, labelValues(d).filter((l) => l !== 0));
}

/** The keys of a score's dicePerClass in dataset.json order (an object lists integer-like keys first). */
export function scoringKeys(s: Scoring): string[] {
  return s.kind === 'classes' ? s.classes.map(String) : s.labelsOrRegions.map(labelOrRegionKey);
}

/** What scoring and postprocessing digests record of a scoring (changes when the labels do). */
export const scoringKey = (s: Scoring): string => JSON.stringify(s);

function scoreV1(summary: SummaryJson): FolderScore {
  const dicePerClass: Record<string, number> = {};
  for (const [label, metrics] of Object.entries(summary.results.mean)) if (/^\d+$/.test(label) && label !== '0') dicePerClass[label] = metrics.Dice;
  return { meanForegroundDice: meanForegroundDice(summary), dicePerClass };
}

function scoreV2(summary: V2Summary, labelsOrRegions: readonly LabelOrRegion[]): FolderScore {
  const dicePerClass = Object.fromEntries(labelsOrRegions.map((r) => [labelOrRegionKey(r), summary.mean[labelOrRegionKey(r)]?.Dice ?? NaN]));
  return { meanForegroundDice: summary.foreground_mean.Dice, dicePerClass };
}

/** The score of a folder's summary.json. */
export function readFolderScore(scoring: Scoring, dir: string): FolderScore {
  if (scoring.kind === 'classes') return scoreV1(readSummary(summaryFile(dir)));
  return scoreV2(readSummaryV2(summaryFile(dir)), scoring.labelsOrRegions);
}

/**
 * Evaluates a staged folder (about to be renamed to `finalDir`) against `gtDir` into its summary.json, whose
 * prediction paths name the final folder.
 */
export async function scoreStagedFolder(scoring: Scoring, stagedDir: string, finalDir: string, gtDir: string): Promise<FolderScore> {
  if (scoring.kind === 'classes') return scoreV1(await evaluateStagedFolder(stagedDir, finalDir, gtDir, scoring.classes));
  const { summary, outputFile } = await evaluateFolderV2({
    referenceDir: gtDir, predictionDir: stagedDir, fileEnding: '.nii.gz', labelsOrRegions: scoring.labelsOrRegions,
    ...(scoring.ignoreLabel !== undefined ? { ignoreLabel: scoring.ignoreLabel } : {}), chill: true,
  });
  for (const c of summary.metric_per_case) c.prediction_file = path.join(finalDir, path.basename(c.prediction_file));
  writeFileAtomic(outputFile, stringifySummaryV2(summary));
  return scoreV2(summary, scoring.labelsOrRegions);
}
