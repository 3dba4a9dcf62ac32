/**
 * What v2's LabelManager tells preprocessing: the labels or regions whose voxels are sampled for oversampling
 * (foreground labels, or foreground regions when any label maps to several values), plus (-1, every label) when
 * dataset.json declares an `ignore` label (v2 then also samples annotated background).
 */
import { BadInputError } from '../../common/errors';
import type { LabelOrRegion } from './class-locations';

export type LabelsJsonV2 = Record<string, number | number[]>;

function allLabels(labels: LabelsJsonV2): number[] {
  const values = Object.entries(labels).filter(([k]) => k !== 'ignore').flatMap(([, v]) => (Array.isArray(v) ? v : [v]));
  return [...new Set(values.map(Number))].sort((a, b) => a - b);
}

const isBackground = (r: number | readonly number[]): boolean =>
  typeof r === 'number' ? r === 0 : new Set(r).size === 1 && r[0] === 0;

export function locationClassesV2(labels: LabelsJsonV2, source: string): LabelOrRegion[] {
  if (labels.background !== 0) throw new BadInputError(`${source}: labels must declare "background": 0`, source);
  const hasRegions = Object.values(labels).some((v) => Array.isArray(v) && v.length > 1);
  const out: LabelOrRegion[] = hasRegions
    ? Object.entries(labels).filter(([k, v]) => k !== 'ignore' && !isBackground(v)).map(([, v]) => v)
    : allLabels(labels).filter((l) => l !== 0);
  const ignore = labels.ignore;
  if (ignore !== undefined) {
    if (typeof ignore !== 'number') throw new BadInputError(`${source}: the ignore label must be one integer, not a region`, source);
    out.push([-1, ...allLabels(labels)]);
  }
  return out;
}
