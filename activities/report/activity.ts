/**
 * Activity `writeSweepReport`: the sweep's results table as CSV (for scripts), Markdown (for people) and a PNG
 * plot of the same rows (grouped bars: task x configuration mean Dice), written atomically to
 * `<reportDir>/sweep-<name>.{csv,md,png}`.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';
import { renderSweepPng } from './plot';
import type { ReportActivities, SweepReportInput, SweepReportOutput, SweepRow } from './contract';

const COLUMNS: Array<[keyof SweepRow, string]> = [
  ['task', 'task'],
  ['configuration', 'configuration'],
  ['status', 'status'],
  ['meanForegroundDice', 'mean_fg_dice'],
  ['bestConfiguration', 'best_configuration'],
  ['trainTimeS', 'train_time_s'],
  ['taskWallTimeS', 'task_wall_time_s'],
  ['error', 'error'],
];

function cell(row: SweepRow, key: keyof SweepRow): string {
  const v = row[key];
  if (v === undefined) return '';
  if (typeof v === 'number') return key === 'meanForegroundDice' ? v.toFixed(4) : v.toFixed(1);
  return String(v);
}

function csvQuote(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function sweepCsv(rows: SweepRow[]): string {
  const lines = [COLUMNS.map(([, h]) => h).join(',')];
  for (const r of rows) lines.push(COLUMNS.map(([k]) => csvQuote(cell(r, k))).join(','));
  return lines.join('\n') + '\n';
}

export function sweepMarkdown(name: string, rows: SweepRow[], plotFileName?: string): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# Sweep ${name}`,
    '',
    `| ${COLUMNS.map(([, h]) => h).join(' | ')} |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${COLUMNS.map(([k]) => esc(cell(r, k))).join(' | ')} |`),
    ...(plotFileName ? ['', `![mean foreground Dice per task and configuration](${plotFileName})`] : []),
  ];
  return lines.join('\n') + '\n';
}

export async function writeSweepReport(input: SweepReportInput): Promise<SweepReportOutput> {
  const safe = input.name.replace(/[^A-Za-z0-9._-]/g, '_');
  const csvFile = path.join(input.reportDir, `sweep-${safe}.csv`);
  const markdownFile = path.join(input.reportDir, `sweep-${safe}.md`);
  const plotFile = path.join(input.reportDir, `sweep-${safe}.png`);
  writeFileAtomic(csvFile, sweepCsv(input.rows));
  writeFileAtomic(plotFile, await renderSweepPng(input.name, input.rows));
  writeFileAtomic(markdownFile, sweepMarkdown(input.name, input.rows, path.basename(plotFile)));
  return { csvFile, markdownFile, plotFile };
}

export const reportActivities: ReportActivities = { writeSweepReport };
