/**
 * nnU-Net v2's determine_postprocessing (nnUNetv2_determine_postprocessing) on a folder of predictions and its
 * references: first keeping the largest component of all foreground together, kept when the foreground mean Dice
 * rises and no label's mean Dice falls; then, with more than one label, each label alone in dataset.json order,
 * kept when that label's mean Dice rises (each on top of the winners so far). Writes postprocessing.pkl
 * ((pp_fns, pp_fn_kwargs) as v2 pickles them), postprocessing.json (means before/after, function names, kwargs)
 * and <predictions>/postprocessed/ (the cases with the chosen steps and their summary.json).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';
import {
  evaluateFolderV2, labelOrRegionKey, readSummaryV2, stringifyPythonJsonV2, type LabelOrRegion, type V2Summary,
} from '../evaluation/summary-v2';
import { readLabelVolume } from '../evaluation/label-io';
import { writeImageFile } from '../io/image-formats/registry';
import type { ReaderWriterName } from '../io/image-formats/reader-writer';
import { PyGlobal, PyTuple, writePickle, type PyValue } from '../io/pickle';
import { v2PostprocessingFiles } from '../io/layout';
import { applyPostprocessingV2, type KeepLargestStepV2 } from './v2-rules';

const PP_MODULE = 'nnunetv2.postprocessing.remove_connected_components';
const PP_FN = 'remove_all_but_largest_component_from_segmentation';

export interface DeterminePostprocessingV2Input {
  predictionsDir: string;
  referenceDir: string;
  fileEnding: string;
  labelsOrRegions: readonly LabelOrRegion[];
  ignoreLabel?: number;
  /** false: postprocessed/ is removed at the end (--remove_postprocessed). */
  keepPostprocessed?: boolean;
  /** Component connectivity: v2's 26 (default), or 6 where v1's postprocessing.json will apply the decision. */
  connectivity?: 6 | 26;
  log?: (line: string) => void;
}

export interface DeterminePostprocessingV2Result {
  kwargs: Array<{ labels_or_regions: LabelOrRegion }>;
  /** Whether kwargs[0] is the all-foreground step. */
  keptLargestForeground: boolean;
  before: number;
  after: number;
  /** Mean Dice per label or region ("(1, 2)") before and after the chosen steps. */
  meanDiceBefore: Record<string, number>;
  meanDiceAfter: Record<string, number>;
}

/** SimpleITKIO.write_seg's data type: uint8 when every label is below 255, else uint16. */
function asWrittenSeg(data: ArrayLike<number>): { data: Uint8Array | Uint16Array; dtype: 'uint8' | 'uint16' } {
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > max) max = data[i]!;
  return max < 255 ? { data: Uint8Array.from(data), dtype: 'uint8' } : { data: Uint16Array.from(data), dtype: 'uint16' };
}

const flat = (r: LabelOrRegion): number[] => (typeof r === 'number' ? [r] : [...r]);

/**
 * apply_postprocessing_to_folder: each of `files` of `src` with `steps` applied, written to `dst` as the dataset's
 * reader/writer writes a seg (by default the one its file ending names).
 */
export async function applyPostprocessingFolderV2(src: string, dst: string, files: readonly string[], steps: readonly KeepLargestStepV2[], readerWriter?: ReaderWriterName, connectivity?: 6 | 26): Promise<void> {
  fs.mkdirSync(dst, { recursive: true });
  for (const f of files) {
    const seg = await readLabelVolume(path.join(src, f), readerWriter);
    applyPostprocessingV2(seg.data, seg.shape, steps, connectivity);
    await writeImageFile(path.join(dst, f), { ...asWrittenSeg(seg.data), shape: seg.shape, geometry: seg.geometry }, 'seg', readerWriter);
  }
}

async function postprocessFolder(input: DeterminePostprocessingV2Input, src: string, dst: string, files: readonly string[], labels: number[]): Promise<V2Summary> {
  await applyPostprocessingFolderV2(src, dst, files, [{ labels }], undefined, input.connectivity);
  return (await evaluateFolderV2({ referenceDir: input.referenceDir, predictionDir: dst, fileEnding: input.fileEnding, labelsOrRegions: input.labelsOrRegions, ignoreLabel: input.ignoreLabel, chill: true })).summary;
}

const means = (s: V2Summary) => ({ foreground_mean: s.foreground_mean, mean: s.mean });

export async function determinePostprocessingV2(input: DeterminePostprocessingV2Input): Promise<DeterminePostprocessingV2Result> {
  const log = input.log ?? (() => undefined);
  const out = v2PostprocessingFiles(input.predictionsDir);
  const temp = path.join(out.postprocessedDir, 'temp');
  const files = fs.readdirSync(input.predictionsDir).filter((f) => f.endsWith(input.fileEnding)).sort();
  const refs = fs.readdirSync(input.referenceDir).filter((f) => f.endsWith(input.fileEnding));
  if (!refs.every((f) => files.includes(f))) log('WARNING: Not all files in folder_ref were found in folder_predictions. Determining postprocessing should always be done on the entire dataset!');
  const baselineFile = path.join(input.predictionsDir, 'summary.json');
  if (!fs.existsSync(baselineFile)) {
    await evaluateFolderV2({ referenceDir: input.referenceDir, predictionDir: input.predictionsDir, fileEnding: input.fileEnding, labelsOrRegions: input.labelsOrRegions, ignoreLabel: input.ignoreLabel, chill: true });
  }
  const baseline = readSummaryV2(baselineFile);
  const kwargs: Array<{ labels_or_regions: LabelOrRegion }> = [];
  // as pickled: the foreground step's labels are a list, a region a tuple
  const pickled: PyValue[] = [];
  const allForeground = [...new Set(input.labelsOrRegions.flatMap(flat))].sort((a, b) => a - b);
  const fgDir = path.join(temp, 'keep_largest_fg');
  const fg = await postprocessFolder(input, input.predictionsDir, fgDir, files, allForeground);
  let improved = fg.foreground_mean.Dice > baseline.foreground_mean.Dice && Object.keys(fg.mean).every((k) => !(fg.mean[k]!.Dice < baseline.mean[k]!.Dice));
  const keptLargestForeground = improved;
  let source = input.predictionsDir;
  let current = baseline;
  if (improved) {
    log(`Results were improved by removing all but the largest foreground region. Mean dice before: ${baseline.foreground_mean.Dice} after: ${fg.foreground_mean.Dice}`);
    source = fgDir; current = fg; kwargs.push({ labels_or_regions: allForeground }); pickled.push({ labels_or_regions: allForeground });
  } else log('Removing all but the largest foreground region did not improve results!');
  if (input.labelsOrRegions.length > 1) {
    const winner = path.join(temp, 'keep_largest_perClassOrRegion_currentWinner');
    for (const r of input.labelsOrRegions) {
      const key = labelOrRegionKey(r);
      const here = path.join(temp, 'keep_largest_perClassOrRegion');
      const pp = await postprocessFolder(input, source, here, files, flat(r));
      improved = pp.mean[key]!.Dice > current.mean[key]!.Dice;
      if (improved) {
        log(`Results were improved by removing all but the largest component for ${key}. Dice before: ${current.mean[key]!.Dice} after: ${pp.mean[key]!.Dice}`);
        fs.rmSync(winner, { recursive: true, force: true });
        fs.renameSync(here, winner);
        source = winner; current = pp; kwargs.push({ labels_or_regions: r });
        pickled.push({ labels_or_regions: typeof r === 'number' ? r : PyTuple.fromItems(r) });
      } else {
        log(`Removing all but the largest component for ${key} did not improve results! Dice before: ${current.mean[key]!.Dice} after: ${pp.mean[key]!.Dice}`);
        fs.rmSync(here, { recursive: true, force: true });
      }
    }
  }
  for (const f of fs.readdirSync(source)) if (fs.statSync(path.join(source, f)).isFile()) fs.copyFileSync(path.join(source, f), path.join(out.postprocessedDir, f));
  writePickle(out.pkl, PyTuple.fromItems([pickled.map(() => new PyGlobal(PP_MODULE, PP_FN)), pickled]));
  const final = readSummaryV2(path.join(out.postprocessedDir, 'summary.json'));
  writeFileAtomic(out.json, stringifyPythonJsonV2({
    input_folder: means(baseline), postprocessed: means(final), postprocessing_fns: kwargs.map(() => PP_FN), postprocessing_kwargs: kwargs,
  }));
  fs.rmSync(temp, { recursive: true, force: true });
  if (input.keepPostprocessed === false) fs.rmSync(out.postprocessedDir, { recursive: true, force: true });
  const dice = (s: V2Summary) => Object.fromEntries(Object.entries(s.mean).map(([k, m]) => [k, m.Dice]));
  return { kwargs, keptLargestForeground, before: baseline.foreground_mean.Dice, after: final.foreground_mean.Dice, meanDiceBefore: dice(baseline), meanDiceAfter: dice(final) };
}
