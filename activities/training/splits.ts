/**
 * nnU-Net's cross-validation split (nnUNetTrainerV2.do_split) and its `splits_final.json` file.
 * Default: sorted case ids cut by sklearn's KFold(n_splits=5, shuffle=True, random_state=12345), which shuffles
 * the index positions with numpy's legacy RandomState(12345).shuffle. Same case names here and there give
 * the same folds, so results compare fold by fold with nnU-Net's.
 * See docs/network.md, 'Splits'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { MT19937 } from '../common/mt19937';

export const SPLIT_SEED = 12345;
export const NUM_SPLITS = 5;
export { SPLITS_FILE_NAME } from '../io/layout';
import { SPLITS_FILE_NAME, SPLITS_PKL_FILE_NAME } from '../io/layout';
import { readSplitsPkl } from '../io/nnunet-pickles';

/** One fold: the case ids to train on and to validate on (nnU-Net's {'train': keys, 'val': keys}). */
export interface FoldSplit {
  train: string[];
  val: string[];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** sklearn KFold chunk sizes: the first n % k chunks get one extra element. */
export function kFoldSizes(n: number, k: number): number[] {
  if (k < 2 || n < k) throw new BadInputError(`cannot cut ${n} cases into ${k} folds: need at least ${k} training cases`);
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** The default 5-fold split of nnU-Net for these case ids (order of the input does not matter). */
export function createDefaultSplits(caseIds: readonly string[], numSplits = NUM_SPLITS, seed = SPLIT_SEED): FoldSplit[] {
  const keys = [...caseIds].sort(byCodePoint);
  const order = Array.from({ length: keys.length }, (_, i) => i);
  new MT19937(seed).shuffle(order);
  const splits: FoldSplit[] = [];
  let start = 0;
  for (const size of kFoldSizes(keys.length, numSplits)) {
    const isVal = new Uint8Array(keys.length);
    for (const idx of order.slice(start, start + size)) isVal[idx] = 1;
    start += size;
    // sklearn returns train/test indices in ascending order, hence sorted keys in both lists.
    splits.push({ train: keys.filter((_, i) => !isVal[i]), val: keys.filter((_, i) => isVal[i]) });
  }
  return splits;
}

/**
 * The train/val cases of one fold. 'all' trains and "validates" on every case; a fold index beyond the
 * splits gives nnU-Net's random 80:20 split with RandomState(12345 + fold). Lists come back sorted.
 */
export function selectFold(splits: readonly FoldSplit[], fold: number | 'all', caseIds: readonly string[]): FoldSplit {
  const keys = [...caseIds].sort(byCodePoint);
  if (fold === 'all') return { train: keys, val: [...keys] };
  if (!Number.isInteger(fold) || fold < 0) throw new BadInputError(`fold must be 'all' or an integer >= 0, got ${fold}`);
  const chosen = splits[fold];
  if (chosen) return { train: [...chosen.train].sort(byCodePoint), val: [...chosen.val].sort(byCodePoint) };
  const trainIdx = new MT19937(SPLIT_SEED + fold).choiceWithoutReplacement(keys.length, Math.trunc(keys.length * 0.8));
  const inTrain = new Uint8Array(keys.length);
  for (const i of trainIdx) inTrain[i] = 1;
  return { train: trainIdx.map((i) => keys[i]!).sort(byCodePoint), val: keys.filter((_, i) => !inTrain[i]) };
}

const splitsSchema = z.array(z.object({ train: z.array(z.string()).min(1), val: z.array(z.string()) })).min(1);

/** Checks a (possibly user-edited) split against the dataset's cases; throws BadInputError naming the problem. */
export function validateSplits(splits: readonly FoldSplit[], caseIds: readonly string[], file = SPLITS_FILE_NAME): void {
  const known = new Set(caseIds);
  splits.forEach((fold, f) => {
    const seen = new Set<string>();
    for (const [part, ids] of [['train', fold.train], ['val', fold.val]] as const) {
      for (const id of ids) {
        if (!known.has(id)) {
          throw new BadInputError(`${file}: fold ${f} ${part} lists unknown case '${id}' (not among the ${known.size} preprocessed cases); remove it or fix its name, or delete the file to regenerate the default split`, file);
        }
        if (seen.has(id)) {
          throw new BadInputError(`${file}: fold ${f} lists case '${id}' more than once (in train and val, or twice in one list); each case may appear once per fold`, file);
        }
        seen.add(id);
      }
    }
  });
}

/** Reads and validates splits_final.json (nnU-Net's format: a list of {"train": [...], "val": [...]}). */
export function readSplitsFile(file: string, caseIds: readonly string[]): FoldSplit[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BadInputError(`${file}: cannot read the splits file as JSON (${(err as Error).message}); fix it or delete it to regenerate the default split`, file);
  }
  const parsed = splitsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BadInputError(`${file}: expected a non-empty list of {"train": [case ids], "val": [case ids]} (${parsed.error.issues[0]?.message ?? 'invalid'} at ${parsed.error.issues[0]?.path.join('.') ?? ''}); fix it or delete it to regenerate the default split`, file);
  }
  validateSplits(parsed.data, caseIds, file);
  return parsed.data;
}

export function writeSplitsFile(file: string, splits: readonly FoldSplit[]): void {
  writeJsonAtomic(file, splits);
}

/** Reads and validates nnU-Net's splits_final.pkl (a list of OrderedDict{train, val} of numpy str arrays). */
export function readSplitsPklFile(file: string, caseIds: readonly string[]): FoldSplit[] {
  const splits = readSplitsPkl(file);
  validateSplits(splits, caseIds, file);
  return splits;
}

/**
 * nnU-Net's behaviour: an existing splits file is respected (and validated), otherwise the default is written.
 * nnU-Net's splits_final.pkl beside `file` wins over it: it is the file nnU-Net v1 reads, so a folder shared
 * with nnU-Net trains the same folds in both.
 */
export function loadOrCreateSplits(file: string, caseIds: readonly string[]): FoldSplit[] {
  const pkl = path.join(path.dirname(file), SPLITS_PKL_FILE_NAME);
  if (fs.existsSync(pkl)) return readSplitsPklFile(pkl, caseIds);
  if (fs.existsSync(file)) return readSplitsFile(file, caseIds);
  const splits = createDefaultSplits(caseIds);
  writeSplitsFile(file, splits);
  return splits;
}
