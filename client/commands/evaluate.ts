/**
 * `nnunet evaluate --ref DIR --pred DIR [-l 1 2] [--json]` (nnU-Net's nnUNet_evaluate_folder): scores every
 * prediction against the reference of the same file name and writes summary.json (nnU-Net v1's shape) into the
 * prediction folder unless -o says otherwise.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { evaluateFolders } from '../../activities/evaluation/evaluate-folder';
import { foregroundLabels, meanForegroundDice, stringifySummary, type SummaryJson } from '../../activities/evaluation/summary';
import { UsageError } from '../context';
import { summaryFile as summaryFileIn } from '../../activities/io/layout';

interface EvaluateOpts { ref: string; pred: string; labels?: number[]; out?: string; json?: boolean; write: boolean }

function labelValue(value: string, previous: number[] | undefined): number[] {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`-l takes label values (integers >= 0), got '${value}'`);
  return [...(previous ?? []), n];
}

function fmt(v: number): string {
  return Number.isNaN(v) ? '   NaN' : v.toFixed(4);
}

function printTable(summary: SummaryJson, summaryFile: string | null): void {
  const mean = summary.results.mean;
  const rows = Object.keys(mean).map((l) => `  ${l.padStart(5)}  ${fmt(mean[l].Dice)}  ${fmt(mean[l].Jaccard)}  ${fmt(mean[l].Precision)}  ${fmt(mean[l].Recall)}`);
  console.log(`${summary.results.all.length} cases\n  label    Dice    IoU     Prec.   Recall\n${rows.join('\n')}`);
  if (foregroundLabels(mean).length > 0) console.log(`mean foreground Dice ${fmt(meanForegroundDice(summary))}`);
  if (summaryFile) console.log(`summary: ${summaryFile}`);
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('score the segmentations in a folder against references of the same file names (Dice, IoU, precision, recall, ...)')
    .requiredOption('--ref <dir>', 'folder with the reference segmentations (.nii.gz)')
    .requiredOption('--pred <dir>', 'folder with the predicted segmentations (same file names)')
    .option('-l, --labels <label...>', 'label values to evaluate (default: every value found, 0 included)', labelValue)
    .option('-o, --out <file>', 'where to write summary.json (default: PRED/summary.json)')
    .option('--no-write', 'do not write summary.json')
    .option('--json', 'print the summary as JSON instead of a table')
    .action(async (opts: EvaluateOpts) => {
      for (const [flag, dir] of [['--ref', opts.ref], ['--pred', opts.pred]] as const) {
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir}: no such folder`);
      }
      const summaryFile = opts.write ? opts.out ?? summaryFileIn(opts.pred) : null;
      const summary = await evaluateFolders(opts.ref, opts.pred, { labels: opts.labels, summaryFile });
      if (opts.json) process.stdout.write(`${stringifySummary(summary)}\n`);
      else printTable(summary, summaryFile);
    });
}
