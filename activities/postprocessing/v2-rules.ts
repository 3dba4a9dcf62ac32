/**
 * nnU-Net v2's postprocessing.pkl: a pickled tuple (pp_fns, pp_fn_kwargs), functions by reference and their keyword
 * arguments, applied in order (nnUNetv2_apply_postprocessing). v2's determine_postprocessing only ever writes
 * remove_all_but_largest_component_from_segmentation(labels_or_regions=...): the union of the labels and regions
 * given becomes one mask, every component of it but the largest (all of maximal size on a tie, found with full
 * connectivity as skimage labels by default: 26 in 3D) is set to background. Any other function is refused by name.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { readPickle, PyGlobal, PyTuple, type PyValue } from '../io/pickle';
import type { LabelArray } from '../io/volume';
import { keepLargestComponent, type Shape3 } from '../volume/connected-components';

const KEEP_LARGEST = 'remove_all_but_largest_component_from_segmentation';

/** One step: keep the largest component of the union of these label values. */
export interface KeepLargestStepV2 { labels: number[] }

function labelValues(file: string, value: PyValue): number[] {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return [value];
  if (Array.isArray(value)) return value.flatMap((v) => labelValues(file, v));
  throw new BadInputError(`${file}: labels_or_regions holds ${String(value)}; expected foreground label values (ints, tuples or lists of them)`, file);
}

function kwargsOf(value: PyValue): Map<PyValue, PyValue> {
  return value instanceof Map ? value : new Map();
}

/** The steps of a v2 postprocessing.pkl. */
export function readPostprocessingPklV2(file: string): KeepLargestStepV2[] {
  let value: PyValue;
  try {
    value = readPickle(fs.readFileSync(file));
  } catch (err) {
    throw new BadInputError(`${file}: not a readable postprocessing.pkl (${(err as Error).message})`, file);
  }
  if (!(value instanceof PyTuple || Array.isArray(value)) || value.length !== 2 || !Array.isArray(value[0]) || !Array.isArray(value[1]) || value[0].length !== value[1].length) {
    throw new BadInputError(`${file}: expected nnU-Net v2's (pp_fns, pp_fn_kwargs) pair of equally long lists`, file);
  }
  const [fns, kwargs] = value as [PyValue[], PyValue[]];
  return fns.map((fn, i) => {
    if (!(fn instanceof PyGlobal) || fn.name !== KEEP_LARGEST) {
      throw new BadInputError(`${file}: postprocessing function ${fn instanceof PyGlobal ? fn.path : String(fn)} is not available here (only ${KEEP_LARGEST})`, file);
    }
    const args = kwargsOf(kwargs[i]);
    const background = args.get('background_label') ?? 0;
    if (background !== 0) throw new BadInputError(`${file}: background_label ${String(background)} is not available here (only 0)`, file);
    return { labels: [...new Set(labelValues(file, args.get('labels_or_regions')))].sort((a, b) => a - b) };
  });
}

/** Applies the steps in order, in place (v2's full connectivity unless told otherwise). */
export function applyPostprocessingV2(seg: LabelArray, shape: Shape3, steps: readonly KeepLargestStepV2[], connectivity: 6 | 26 = 26): void {
  const scratch = steps.length > 0 ? new Int32Array(seg.length) : undefined;
  for (const step of steps) keepLargestComponent(seg, shape, step.labels, connectivity, scratch);
}
