/**
 * postprocessing.json (nnU-Net v1; docs/evaluation.md, 'Postprocessing') and applying it to a segmentation.
 *
 * File keys (written sorted, like nnU-Net's save_json): dc_per_class_pp_all, dc_per_class_pp_per_class,
 * dc_per_class_raw ({"<label>": mean Dice}), for_which_classes (e.g. [[1, 2], 2] or []), min_valid_object_sizes
 * ("None" unless nnU-Net's advanced mode wrote a Python dict literal such as "{(1, 2): 120.0, 2: 35.5}"),
 * num_samples, validation_final, validation_raw (folder names).
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import type { LabelArray } from '../io/volume';
import { readLabelVolume, voxelVolume, writeLabelVolumeLike } from '../evaluation/label-io';
import { parsePythonJson } from '../evaluation/summary';
import { removeAllButLargestComponentWithSizes, type Connectivity, type Shape3 } from '../volume/connected-components';

/** An entry of for_which_classes: one class, or several classes treated as one region. */
export type ClassEntry = number | number[];

export interface PostprocessingJson {
  dc_per_class_pp_all: Record<string, number>;
  dc_per_class_pp_per_class: Record<string, number>;
  dc_per_class_raw: Record<string, number>;
  for_which_classes: ClassEntry[];
  min_valid_object_sizes: string;
  num_samples: number;
  validation_final: string;
  validation_raw: string;
}

/** What applying needs: the entries in order and, in nnU-Net's advanced mode, a minimum size per entry (mm³). */
export interface PostprocessingRules {
  forWhichClasses: ClassEntry[];
  minValidObjectSizes?: Map<string, number>;
}

/** Key of an entry in min_valid_object_sizes: "2" or "1,2". */
export function entryKey(entry: number | readonly number[]): string {
  return typeof entry === 'number' ? String(entry) : entry.join(',');
}

/** Parses nnU-Net's str(dict) of minimum sizes: "None" → undefined; "{(1, 2): 120.0, 2: 35.5}" → Map. */
export function parseMinValidObjectSizes(text: string | null | undefined, file = 'postprocessing.json'): Map<string, number> | undefined {
  if (text === undefined || text === null || text === 'None' || text === '{}') return undefined;
  const out = new Map<string, number>();
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) throw new BadInputError(`${file}: min_valid_object_sizes '${text}' is neither "None" nor a dict`, file);
  const re = /(\(\s*[\d\s,]*\)|\d+)\s*:\s*([-+\d.eE]+|inf)/g;
  for (const m of body.matchAll(re)) {
    const key = m[1].replace(/[()\s]/g, '').replace(/,$/, '');
    out.set(key, Number(m[2]));
  }
  return out;
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
  }
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function writePostprocessingJson(file: string, pp: PostprocessingJson): void {
  writeFileAtomic(file, JSON.stringify(sortedKeys(pp), null, 4) + '\n');
}

/** Reads postprocessing.json written by us or by nnU-Net (Python NaN tokens accepted). */
export function readPostprocessingRules(file: string): PostprocessingRules {
  let raw: Partial<PostprocessingJson>;
  try {
    raw = parsePythonJson(fs.readFileSync(file, 'utf8')) as Partial<PostprocessingJson>;
  } catch (err) {
    throw new BadInputError(`${file}: cannot read postprocessing rules (${(err as Error).message})`, file);
  }
  const fwc = raw.for_which_classes;
  const valid = Array.isArray(fwc) && fwc.every((e) => Number.isInteger(e) || (Array.isArray(e) && e.every((c) => Number.isInteger(c))));
  if (!valid) throw new BadInputError(`${file}: for_which_classes must be a list of labels or label lists, e.g. [[1, 2], 2]`, file);
  if ((fwc as ClassEntry[]).some((e) => (typeof e === 'number' ? e === 0 : e.includes(0)))) {
    throw new BadInputError(`${file}: for_which_classes contains 0 (background cannot be postprocessed)`, file);
  }
  return { forWhichClasses: fwc as ClassEntry[], minValidObjectSizes: parseMinValidObjectSizes(raw.min_valid_object_sizes, file) };
}

/** Applies the rules in place to a label volume. */
export function applyPostprocessing(seg: LabelArray, shape: Shape3, rules: PostprocessingRules, voxelVolumeMm3 = 1, connectivity: Connectivity = 6): void {
  const minSizes = rules.minValidObjectSizes;
  removeAllButLargestComponentWithSizes(seg, shape, rules.forWhichClasses, connectivity, minSizes
    ? (entry) => {
      const size = minSizes.get(entryKey(entry));
      return size === undefined ? undefined : { size, voxelVolume: voxelVolumeMm3 };
    }
    : undefined);
}

/** Reads a segmentation, applies the rules, writes it with the same geometry (load_remove_save). */
export async function applyPostprocessingToFile(input: string, output: string, rules: PostprocessingRules): Promise<void> {
  const vol = await readLabelVolume(input);
  applyPostprocessing(vol.data, vol.shape, rules, voxelVolume(vol));
  await writeLabelVolumeLike(vol, vol.data, output);
}
