/**
 * The sweep report's plot: grouped bars, one group per task, one bar per configuration, height = the row's
 * cross-validation mean foreground Dice (the CSV's mean_fg_dice), value printed above the bar. A Vega spec rendered
 * headlessly to SVG and rasterised by resvg, as progress.png is (activities/training/progress-plot.ts).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import type { SweepRow } from './contract';

/** Pixel height of the Dice axis (0 at the bottom, 1 at the top): a bar of Dice d is d × this tall. */
export const PLOT_HEIGHT = 300;
const BAR_WIDTH = 48;

interface Bar { task: string; configuration: string; dice: number; label: string; failed?: boolean }

/** A bar's slot in its task's group: the configuration, with the method variant in front when the sweep compares variants. */
const slotOf = (r: SweepRow): string => (r.variant !== undefined ? `${r.variant} ${r.configuration}` : r.configuration);

/** Rows with a Dice value (failed rows have none and get no bar), in table order. */
export function plottedBars(rows: readonly SweepRow[]): Bar[] {
  return rows
    .filter((r) => r.status === 'completed' && r.meanForegroundDice !== undefined && Number.isFinite(r.meanForegroundDice))
    .map((r) => ({ task: r.task, configuration: slotOf(r), dice: r.meanForegroundDice!, label: r.meanForegroundDice!.toFixed(3) }));
}

/** A failed task x configuration: no bar, the word `failed` in its slot. */
function failedSlots(rows: readonly SweepRow[]): Bar[] {
  return rows.filter((r) => r.status === 'failed' && r.configuration !== '-').map((r) => ({ task: r.task, configuration: slotOf(r), dice: 0, label: 'failed', failed: true }));
}

function spec(name: string, rows: readonly SweepRow[]): vega.Spec {
  const bars = [...plottedBars(rows), ...failedSlots(rows)];
  const tasks = [...new Set(rows.map((r) => r.task))];
  const configurations = [...new Set(rows.filter((r) => r.configuration !== '-').map(slotOf))];
  const groupWidth = Math.max(1, configurations.length) * BAR_WIDTH * 1.25;
  return {
    width: Math.max(240, tasks.length * groupWidth * 1.3),
    height: PLOT_HEIGHT,
    padding: 10,
    title: { text: `sweep ${name}: cross-validation mean foreground Dice` },
    data: [{ name: 'bars', values: bars }],
    scales: [
      { name: 'task', type: 'band', domain: tasks, range: 'width', paddingInner: 0.25, paddingOuter: 0.15 },
      { name: 'dice', type: 'linear', domain: [0, 1], range: 'height' },
      { name: 'color', type: 'ordinal', domain: configurations, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'task', title: 'task' },
      { orient: 'left', scale: 'dice', title: 'mean foreground Dice', grid: true, tickCount: 5 },
    ],
    legends: [{ fill: 'color', title: 'configuration', symbolType: 'square' }],
    marks: [{
      type: 'group',
      from: { facet: { name: 'taskBars', data: 'bars', groupby: 'task' } },
      encode: { enter: { x: { scale: 'task', field: 'task' }, width: { scale: 'task', band: 1 } } },
      signals: [{ name: 'width', update: "bandwidth('task')" }],
      // Every task's group has a slot per configuration, so a configuration sits at the same place in each group.
      scales: [{ name: 'slot', type: 'band', domain: configurations, range: 'width', padding: 0.1 }],
      marks: [
        {
          type: 'rect', from: { data: 'taskBars' },
          // Failed slots have Dice 0 here: no visible bar.
          encode: { enter: {
            x: { scale: 'slot', field: 'configuration' }, width: { scale: 'slot', band: 1 },
            y: { scale: 'dice', field: 'dice' }, y2: { scale: 'dice', value: 0 }, fill: { scale: 'color', field: 'configuration' },
          } },
        },
        {
          type: 'text', from: { data: 'taskBars' },
          encode: { enter: {
            x: { scale: 'slot', field: 'configuration', band: 0.5 }, y: { scale: 'dice', field: 'dice', offset: -4 },
            text: { field: 'label' }, align: { value: 'center' }, baseline: { value: 'bottom' }, fill: { signal: "datum.failed ? '#c00' : '#333'" }, fontSize: { value: 11 },
          } },
        },
      ],
    }],
  };
}

export async function renderSweepSvg(name: string, rows: readonly SweepRow[]): Promise<string> {
  const view = new vega.View(vega.parse(spec(name, rows)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderSweepPng(name: string, rows: readonly SweepRow[]): Promise<Buffer> {
  const svg = await renderSweepSvg(name, rows);
  return new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
}
