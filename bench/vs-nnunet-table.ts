/** The ratio table of `bench vs-nnunet`: ours vs nnU-Net v1, > 1 means we are faster (or reach more GFLOP/s). */
import { mb, table } from './child';
import type { Row } from './vs-nnunet-parts';

/** Throughput ratio: their time over ours, or our rate over theirs. */
export function speedRatio(r: Pick<Row, 'unit' | 'ours' | 'nnunet'>): number | undefined {
  if (!r.ours || !r.nnunet || r.unit === 'Dice') return undefined; // Dice is compared in the note (mean ± sd)
  return r.unit === 's' ? r.nnunet / r.ours : r.ours / r.nnunet;
}

const num = (v: number | undefined, unit: Row['unit']): string => (v === undefined ? '-' : unit === 'GFLOP/s' ? v.toFixed(1) : v.toFixed(3));

export function ratioTable(rows: readonly Row[]): string {
  const head = ['part', 'measure', 'unit', 'ours', 'nnU-Net v1', 'ours vs nnU-Net', 'peak RSS ours', 'peak RSS nnU-Net', 'note'];
  return table([head, ...rows.map((r) => {
    const ratio = speedRatio(r);
    return [r.part, r.measure, r.unit, num(r.ours, r.unit), num(r.nnunet, r.unit), ratio ? `${ratio.toFixed(2)}x` : '-',
      r.oursPeakRssBytes ? mb(r.oursPeakRssBytes) : '', r.nnunetPeakRssBytes ? mb(r.nnunetPeakRssBytes) : '', r.note ?? ''];
  })]);
}
