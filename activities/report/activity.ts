/**
 * Activity `writeSweepReport`: the sweep's results table as CSV (for scripts), Markdown (for people) and a PNG
 * plot of the same rows (grouped bars: task x configuration mean Dice), written atomically to
 * `<reportDir>/sweep-<name>.{csv,md,png}`.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';
import { renderSweepPng } from './plot';
import type { ReportActivities, SweepReportInput, SweepReportOutput, SweepRow } from './contract';

type Column = { header: string; value: (row: SweepRow) => string };

const fixed = (key: keyof SweepRow, header: string, digits = 1): Column => ({
  header,
  value: (row) => {
    const v = row[key];
    if (v === undefined || typeof v === 'object') return '';
    return typeof v === 'number' ? v.toFixed(digits) : String(v);
  },
});

/** The table's columns; one `dice_<label>` column per foreground label that any row has. */
function columns(rows: SweepRow[]): Column[] {
  const labels = [...new Set(rows.flatMap((r) => Object.keys(r.dicePerClass ?? {})))].sort((a, b) => Number(a) - Number(b));
  const variants = rows.some((r) => r.variant !== undefined);
  return [
    fixed('task', 'task'),
    ...(variants ? [fixed('variant', 'variant')] : []),
    fixed('configuration', 'configuration'),
    fixed('status', 'status'),
    fixed('meanForegroundDice', 'mean_fg_dice', 4),
    ...labels.map((l): Column => ({ header: `dice_${l}`, value: (r) => r.dicePerClass?.[l]?.toFixed(4) ?? '' })),
    fixed('bestConfiguration', 'best_configuration'),
    fixed('bestEnsemble', 'best_ensemble'),
    fixed('bestEnsembleDice', 'best_ensemble_dice', 4),
    fixed('epochs', 'epochs', 0),
    fixed('trainTimeS', 'train_time_s'),
    fixed('taskWallTimeS', 'task_wall_time_s'),
    fixed('error', 'error'),
  ];
}

function csvQuote(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function sweepCsv(rows: SweepRow[]): string {
  const cols = columns(rows);
  const lines = [cols.map((c) => c.header).join(',')];
  for (const r of rows) lines.push(cols.map((c) => csvQuote(c.value(r))).join(','));
  return lines.join('\n') + '\n';
}

export function sweepMarkdown(name: string, rows: SweepRow[], plotFileName?: string): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const cols = columns(rows);
  const lines = [
    `# Sweep ${name}`,
    '',
    `| ${cols.map((c) => c.header).join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => esc(c.value(r))).join(' | ')} |`),
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
