/**
 * progress.png as nnU-Net draws it (plot_progress): train and validation loss per epoch on the left axis, the
 * online pseudo-Dice ("evaluation metric") on the right axis. A Vega spec rendered to SVG headlessly
 * (renderer 'none', no canvas needed), rasterised by resvg (prebuilt binaries from npm, no downloads).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { writeFileAtomic } from '../common/atomic';
import type { TrainingHistory } from './checkpoint';

interface Point { epoch: number; series: string; value: number }

function points(h: TrainingHistory): { loss: Point[]; dice: Point[] } {
  const loss: Point[] = [];
  const dice: Point[] = [];
  h.trainLosses.forEach((v, epoch) => loss.push({ epoch, series: 'loss_tr', value: v }));
  h.valLosses.forEach((v, epoch) => loss.push({ epoch, series: 'loss_val', value: v }));
  h.evalMetrics.forEach((v, epoch) => { if (Number.isFinite(v)) dice.push({ epoch, series: 'evaluation metric', value: v }); });
  return { loss, dice };
}

function spec(h: TrainingHistory, title: string): vega.Spec {
  const { loss, dice } = points(h);
  const line = (from: string, y: string, dash: number[]): vega.Mark => ({
    type: 'group',
    from: { facet: { name: `${from}_series`, data: from, groupby: 'series' } },
    marks: [{
      type: 'line',
      from: { data: `${from}_series` },
      encode: { enter: {
        x: { scale: 'x', field: 'epoch' }, y: { scale: y, field: 'value' }, stroke: { scale: 'color', field: 'series' },
        strokeWidth: { value: 2 }, strokeDash: { value: dash },
      } },
    }],
  });
  return {
    width: 720, height: 420, padding: 10,
    title: { text: title },
    data: [{ name: 'loss', values: loss }, { name: 'dice', values: dice }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'loss', field: 'epoch' }, range: 'width', zero: true, nice: true },
      { name: 'yLoss', type: 'linear', domain: { data: 'loss', field: 'value' }, range: 'height', zero: false, nice: true },
      { name: 'yDice', type: 'linear', domain: [0, 1], range: 'height' },
      { name: 'color', type: 'ordinal', domain: ['loss_tr', 'loss_val', 'evaluation metric'], range: ['#1f77b4', '#d62728', '#2ca02c'] },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'epoch', format: 'd', tickCount: Math.min(10, Math.max(1, h.trainLosses.length - 1)) },
      { orient: 'left', scale: 'yLoss', title: 'loss' },
      { orient: 'right', scale: 'yDice', title: 'evaluation metric (pseudo-Dice)' },
    ],
    legends: [{ stroke: 'color', orient: 'top-right', symbolType: 'stroke' }],
    marks: [line('loss', 'yLoss', []), line('dice', 'yDice', [6, 4])],
  };
}

/** The plot as SVG text. */
export async function renderProgressSvg(history: TrainingHistory, title = 'training progress'): Promise<string> {
  const view = new vega.View(vega.parse(spec(history, title)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The plot as PNG bytes. */
export async function renderProgressPng(history: TrainingHistory, title?: string): Promise<Buffer> {
  const svg = await renderProgressSvg(history, title);
  return new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
}

/** Redraws <foldDir>/progress.png atomically (a reader never sees half a file). */
export async function writeProgressPng(file: string, history: TrainingHistory, title?: string): Promise<void> {
  writeFileAtomic(file, await renderProgressPng(history, title));
}
