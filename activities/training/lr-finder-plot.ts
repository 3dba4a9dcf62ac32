/**
 * lr_finder.png as nnU-Net's find_lr draws it: the smoothed loss against the learning rate on a log axis, leaving
 * out the first 10 and the last 5 points (its `lrs[10:-5]`), through the same Vega → SVG → resvg path as progress.png.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { writeFileAtomic } from '../common/atomic';

export { lrFinderPlotFile } from '../io/layout';

/** Per iteration: the learning rate used and the smoothed loss after it. */
export interface LrFinderResult { learningRates: number[]; losses: number[] }

function spec(r: LrFinderResult): vega.Spec {
  const keep = r.learningRates.map((lr, i) => ({ lr, loss: r.losses[i]! })).slice(10, -5);
  const values = keep.length >= 2 ? keep : r.learningRates.map((lr, i) => ({ lr, loss: r.losses[i]! })); // too few to trim
  return {
    width: 640, height: 480, padding: 10,
    data: [{ name: 'points', values }],
    scales: [
      { name: 'x', type: 'log', domain: { data: 'points', field: 'lr' }, range: 'width', nice: true },
      { name: 'y', type: 'linear', domain: { data: 'points', field: 'loss' }, range: 'height', zero: false, nice: true },
    ],
    axes: [{ orient: 'bottom', scale: 'x', title: 'learning rate', format: '.0e' }, { orient: 'left', scale: 'y', title: 'smoothed loss + 1' }],
    marks: [{ type: 'line', from: { data: 'points' }, encode: { enter: { x: { scale: 'x', field: 'lr' }, y: { scale: 'y', field: 'loss' }, stroke: { value: '#1f77b4' }, strokeWidth: { value: 2 } } } }],
  };
}

export async function writeLrFinderPng(file: string, r: LrFinderResult): Promise<void> {
  const view = new vega.View(vega.parse(spec(r)), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    writeFileAtomic(file, new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng());
  } finally {
    view.finalize();
  }
}
