/**
 * `nnunet sweep` end to end (real activities, embedded server): two tiny demo tasks through child task workflows,
 * then the report in the results folder: CSV and Markdown rows that agree with each task's own find-best summary,
 * and a PNG whose bars (read back from the pixels) have the heights of the table's Dice values.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PLOT_HEIGHT } from '../../activities/report/plot';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type DataEnv } from './helpers';
import { barsOfColor, decodePng } from './pipeline-helpers';

const skip = temporalUnavailable() ?? false;
let data: DataEnv;

before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('sweep');
});
after(() => data?.remove());

/** Vega's first 'category' colour: the first configuration's bars. */
const FIRST_CATEGORY: [number, number, number] = [0x4c, 0x78, 0xa8];
const TASKS = ['Task951_Demo', 'Task952_Demo'];

/** find-best's per-model summary.csv of a task: model → mean foreground Dice. */
function findBestMeans(task: string): Map<string, number> {
  const lines = fs.readFileSync(path.join(data.env.RESULTS_FOLDER, 'nnUNet', 'ensembles', task, 'summary.csv'), 'utf8').trim().split('\n');
  return new Map(lines.slice(1).map((l) => { const cells = l.split(','); return [cells[0], Number(cells[cells.length - 1])]; }));
}

test('sweep over two tasks writes CSV, Markdown and a PNG plot of the same rows', { skip, timeout: 300_000 }, async () => {
  const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn' };
  for (const [i, id] of ['951', '952'].entries()) {
    const r = await startCli(['demo-dataset', '-t', id, '--cases', '5', '--test-cases', '0', '--seed', String(i)], env).done;
    assert.equal(r.code, 0, r.stderr);
  }
  const sweep = await startCli(['sweep', '-t', '951', '952', '-c', '2d', '--epochs', '1', '--iters', '2', '--name', 'e2e', '--json'], env, 280_000).done;
  console.log(`nnunet sweep: exit ${sweep.code} in ${sweep.ms} ms`);
  assert.equal(sweep.code, 0, `${sweep.stdout}\n${sweep.stderr}`);
  const result = JSON.parse(sweep.stdout) as {
    rows: Array<{ task: string; configuration: string; status: string; meanForegroundDice?: number; bestConfiguration?: string }>;
    report: { csvFile: string; markdownFile: string; plotFile?: string };
  };
  const reportDir = path.join(data.env.RESULTS_FOLDER, 'sweeps', 'e2e');
  assert.equal(result.report.csvFile, path.join(reportDir, 'sweep-e2e.csv'));
  assert.equal(result.report.plotFile, path.join(reportDir, 'sweep-e2e.png'));

  // One completed row per task, with find-best's figure for 2d.
  assert.deepEqual(result.rows.map((r) => [r.task, r.configuration, r.status, r.bestConfiguration]), TASKS.map((t) => [t, '2d', 'completed', '2d']));
  for (const r of result.rows) assert.ok(Math.abs(r.meanForegroundDice! - findBestMeans(r.task).get('2d')!) <= 5e-5, `${r.task}: the row is find-best's 2d Dice (summary.csv rounds to 4 decimals, as nnU-Net's)`);

  const csv = fs.readFileSync(result.report.csvFile, 'utf8').trim().split('\n').map((l) => l.split(','));
  const header = csv[0];
  assert.deepEqual(header.slice(0, 6), ['task', 'configuration', 'status', 'mean_fg_dice', 'dice_1', 'dice_2'], 'per-class Dice columns for both demo labels');
  for (const name of ['best_configuration', 'best_ensemble', 'epochs', 'train_time_s']) assert.ok(header.includes(name), name);
  const col = (name: string) => header.indexOf(name);
  assert.deepEqual(
    csv.slice(1).map((c) => [c[0], c[1], c[2], c[col('mean_fg_dice')], c[col('best_configuration')], c[col('epochs')]]),
    result.rows.map((r) => [r.task, '2d', 'completed', r.meanForegroundDice!.toFixed(4), '2d', '1']),
  );
  for (const c of csv.slice(1)) {
    const perClass = [Number(c[col('dice_1')]), Number(c[col('dice_2')])];
    assert.ok(Math.abs((perClass[0] + perClass[1]) / 2 - Number(c[col('mean_fg_dice')])) < 1e-3, `mean of the class columns is the mean Dice: ${c.join(',')}`);
  }
  const md = fs.readFileSync(result.report.markdownFile, 'utf8');
  for (const r of result.rows) assert.match(md, new RegExp(`\\| ${r.task} \\| 2d \\| completed \\| ${r.meanForegroundDice!.toFixed(4)} \\| [0-9.]+ \\| [0-9.]+ \\| 2d \\|`));
  assert.match(md, /!\[[^\]]*\]\(sweep-e2e\.png\)/, 'the Markdown shows the plot');

  // The plot: a valid PNG whose 2d bars, left to right, are the rows' Dice tall.
  const img = decodePng(fs.readFileSync(result.report.plotFile!));
  assert.ok(img.width >= 240 && img.height >= PLOT_HEIGHT, `plot size ${img.width}x${img.height}`);
  const expected = result.rows.map((r) => Math.round(r.meanForegroundDice! * PLOT_HEIGHT)).filter((h) => h >= 3); // thinner bars are not measurable
  const bars = barsOfColor(img, FIRST_CATEGORY);
  console.log(`Dice ${result.rows.map((r) => r.meanForegroundDice!.toFixed(4)).join(', ')}; bars ${bars.map((b) => `${b.height}px`).join(', ')}`);
  assert.equal(bars.length, expected.length, `one bar per row with a visible Dice: ${JSON.stringify(bars)}`);
  bars.forEach((b, i) => assert.ok(Math.abs(b.height - expected[i]) <= 2, `bar ${i}: ${b.height}px for Dice ${expected[i]}px`));
});
