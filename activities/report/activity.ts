/**
 * Activity `writeSweepReport`: the sweep's results table as CSV (for scripts) and Markdown (for people),
 * written atomically to `<reportDir>/sweep-<name>.{csv,md}`.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';
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

export function sweepMarkdown(name: string, rows: SweepRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# Sweep ${name}`,
    '',
    `| ${COLUMNS.map(([, h]) => h).join(' | ')} |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${COLUMNS.map(([k]) => esc(cell(r, k))).join(' | ')} |`),
  ];
  return lines.join('\n') + '\n';
}

export async function writeSweepReport(input: SweepReportInput): Promise<SweepReportOutput> {
  const safe = input.name.replace(/[^A-Za-z0-9._-]/g, '_');
  const csvFile = path.join(input.reportDir, `sweep-${safe}.csv`);
  const markdownFile = path.join(input.reportDir, `sweep-${safe}.md`);
  writeFileAtomic(csvFile, sweepCsv(input.rows));
  writeFileAtomic(markdownFile, sweepMarkdown(input.name, input.rows));
  return { csvFile, markdownFile };
}

export const reportActivities: ReportActivities = { writeSweepReport };
