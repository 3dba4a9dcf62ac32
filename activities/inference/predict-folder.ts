/**
 * nnUNet_predict's folder loop: the input folder is checked completely before any work (every
 * case has exactly the trained channels `<case>_0000.nii.gz` ..., or in one other image format of the reader/writer
 * registry, each file readable), then each case
 * is predicted and written (write-prediction.ts). Cases whose outputs exist are skipped unless `overwrite`.
 * See docs/inference.md, 'How a case is predicted'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { BadInputError } from '../common/errors';
import { channelFileName } from '../io/dataset';
import { countNonFinite, NON_FINITE_FIX } from '../io/finite';
import { imageEndingOf, readImageFile } from '../io/image-formats/registry';
import { NIFTI_ENDINGS } from '../io/image-formats/nifti-io';
import { channelCount, holdsSeveralChannels } from '../io/image-formats/channels';
import { openRegularSync, readRangeSync } from '../io/read-bytes';
import type { PostprocessingRules } from '../postprocessing/rules';
import { lowresSegmentationExtra } from './cascade';
import { predictCase, type CaseModel } from './predict-case';
import { segmentationFile, softmaxFile, writeSegmentation, writeSoftmax } from './write-prediction';

export const INPUT_ENDING = '.nii.gz';

export interface InputCase { id: string; files: string[] }

/** First bytes of a NIfTI header (gzip or not): sizeof_hdr is 348 (NIfTI-1) or 540 (NIfTI-2), either byte order. */
function niftiHeaderProblem(file: string): string | undefined {
  let head: Buffer;
  try {
    // A FIFO or device is refused before it is opened (opening a FIFO blocks until someone writes to it).
    const { fd, size } = openRegularSync(file);
    try {
      head = readRangeSync(fd, 0, Math.min(size, 4096));
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return (err as Error).message.replace(`${file}: `, '');
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    try {
      head = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (err) {
      return `corrupt gzip data (${(err as Error).message})`;
    }
  }
  if (head.length < 4) return 'too short for a NIfTI header';
  const sizes = [head.readInt32LE(0), head.readInt32BE(0)];
  return sizes.includes(348) || sizes.includes(540) ? undefined : 'not a NIfTI file (bad header size)';
}

/** The one image ending of a folder's `<case>_XXXX<ending>` files (.nii.gz when it holds none). */
function inputEnding(inputDir: string, names: string[]): string {
  const endings = new Set(names.flatMap((f) => {
    const ending = imageEndingOf(f);
    return ending && /_\d{4}$/.test(f.slice(0, f.length - ending.length)) ? [ending] : [];
  }));
  if (endings.size > 1) {
    throw new BadInputError(`${inputDir}: input images in several formats (${[...endings].join(', ')}); keep one format per folder, the one the model was trained on`, inputDir);
  }
  return [...endings][0] ?? INPUT_ENDING;
}

/**
 * The cases of an input folder (`<case>_XXXX.nii.gz`, or one other registered image ending), each with exactly
 * channels 0..numChannels-1. Every problem is collected and reported at once, naming the files and the fix.
 */
export async function listInputCases(inputDir: string, numChannels: number): Promise<InputCase[]> {
  if (!fs.existsSync(inputDir) || !fs.statSync(inputDir).isDirectory()) {
    throw new BadInputError(`${inputDir}: input folder does not exist`, inputDir);
  }
  const names = fs.readdirSync(inputDir).sort();
  const ending = inputEnding(inputDir, names);
  const channels = new Map<string, Set<number>>();
  for (const f of names) {
    const m = /^(.+)_(\d{4})$/.exec(f.slice(0, f.length - ending.length));
    if (!m || !f.endsWith(ending)) continue;
    const set = channels.get(m[1]) ?? new Set<number>();
    set.add(Number(m[2]));
    channels.set(m[1], set);
  }
  if (channels.size === 0) {
    throw new BadInputError(`${inputDir}: no input images; files must be named CASE_0000${INPUT_ENDING}, CASE_0001${INPUT_ENDING}, ... (one per modality)`, inputDir);
  }
  const problems: string[] = [];
  const cases: InputCase[] = [];
  for (const [id, have] of channels) {
    // Colour pictures hold several channels each: their count is checked once the files are read.
    const pictures = holdsSeveralChannels(channelFileName(id, 0, ending));
    const fileCount = pictures && have.size < numChannels ? have.size : numChannels;
    const files = Array.from({ length: fileCount }, (_, c) => path.join(inputDir, channelFileName(id, c, ending)));
    const missing = files.filter((_, c) => !have.has(c)).map((f) => path.basename(f));
    const extra = [...have].filter((c) => c >= fileCount).map((c) => channelFileName(id, c, ending));
    if (missing.length) problems.push(`case ${id}: missing ${missing.join(', ')} (the model takes ${numChannels} modalities)`);
    if (extra.length) problems.push(`case ${id}: unexpected ${extra.join(', ')} (the model takes ${numChannels} modalities: _0000 to _${String(numChannels - 1).padStart(4, '0')})`);
    for (const f of files.filter((_, c) => have.has(c) && NIFTI_ENDINGS.includes(ending as never))) {
      const why = niftiHeaderProblem(f);
      if (why) problems.push(`${f}: ${why}`);
    }
    cases.push({ id, files });
  }
  if (problems.length === 0) for (const c of cases) problems.push(...(await caseImageProblems(c, numChannels)));
  if (problems.length) {
    throw new BadInputError(`${inputDir}: ${problems.length} problem(s) with the input images, nothing was predicted:\n  ${problems.join('\n  ')}`, inputDir);
  }
  return cases;
}

/**
 * Every channel of a case read as prediction will read it, one file at a time: readable, 3D, one grid for all
 * channels, finite values. A bad case is found before the first case is predicted, not after.
 */
async function caseImageProblems(c: InputCase, numChannels: number): Promise<string[]> {
  const problems: string[] = [];
  let first: { file: string; shape: string } | undefined;
  let channels = 0;
  for (const file of c.files) {
    let shape: number[];
    try {
      const v = await readImageFile(file);
      const several = holdsSeveralChannels(file) && v.shape.length === 4;
      channels += several ? channelCount(v) : 1;
      shape = several ? v.shape.slice(1) : v.shape;
      const bad = countNonFinite(v.data, v.dtype);
      if (bad.nan > 0 || bad.inf > 0) problems.push(`${file}: contains ${bad.nan} NaN and ${bad.inf} Inf voxels; ${NON_FINITE_FIX}`);
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      problems.push(err.message.startsWith(file) ? err.message : `${file}: ${err.message}`);
      continue;
    }
    if (shape.length !== 3) {
      problems.push(`${file}: shape ${shape.join('x')} is not 3D; one 3D file per channel is expected (split 4D files into _0000, _0001, ...)`);
    } else if (!first) {
      first = { file, shape: shape.join('x') };
    } else if (shape.join('x') !== first.shape) {
      problems.push(`${file}: shape ${shape.join('x')} differs from ${path.basename(first.file)} (${first.shape}); all channels of a case must share one grid`);
    }
  }
  if (problems.length === 0 && channels !== numChannels) {
    problems.push(`case ${c.id}: its pictures hold ${channels} channels, the model takes ${numChannels} (grayscale is 1 per file, RGB 3)`);
  }
  return problems;
}

export interface PredictFolderOptions {
  inputDir: string;
  outputDir: string;
  model: CaseModel;
  saveNpz?: boolean;
  stepSize?: number;
  useGaussian?: boolean;
  /** Postprocessing rules (the model's postprocessing.json), applied to the label maps. */
  postprocessing?: PostprocessingRules;
  /** 3d_cascade_fullres: folder of the 3d_lowres predictions (`<case>.nii.gz`). */
  lowresDir?: string;
  overwrite?: boolean;
  /** Validated cases (default: listInputCases of inputDir). */
  cases?: InputCase[];
  onCase?: (done: number, total: number, caseId: string) => void;
}

export interface PredictFolderResult { cases: string[]; predicted: string[]; skipped: string[] }

function isDone(outputDir: string, id: string, saveNpz: boolean): boolean {
  return fs.existsSync(segmentationFile(outputDir, id)) && (!saveNpz || fs.existsSync(softmaxFile(outputDir, id)));
}

export async function predictFolder(opts: PredictFolderOptions): Promise<PredictFolderResult> {
  const cases = opts.cases ?? (await listInputCases(opts.inputDir, opts.model.resolved.plans.num_modalities));
  if (opts.lowresDir) {
    const missing = cases.filter((c) => !fs.existsSync(segmentationFile(opts.lowresDir!, c.id))).map((c) => c.id);
    if (missing.length) throw new BadInputError(`${opts.lowresDir}: no 3d_lowres prediction for ${missing.join(', ')}`, opts.lowresDir);
  }
  fs.mkdirSync(opts.outputDir, { recursive: true });
  const result: PredictFolderResult = { cases: cases.map((c) => c.id), predicted: [], skipped: [] };
  let done = 0;
  for (const c of cases) {
    if (!opts.overwrite && isDone(opts.outputDir, c.id, opts.saveNpz ?? false)) {
      result.skipped.push(c.id);
    } else {
      const extra = opts.lowresDir && opts.model.resolved.configuration === '3d_cascade_fullres' ? lowresSegmentationExtra(segmentationFile(opts.lowresDir, c.id), opts.model.resolved.plans) : undefined;
      const pred = await predictCase(c.files, opts.model, { stepSize: opts.stepSize, useGaussian: opts.useGaussian }, extra);
      if (opts.saveNpz) writeSoftmax(opts.outputDir, c.id, pred.probabilities, pred.properties);
      await writeSegmentation(segmentationFile(opts.outputDir, c.id), pred.segmentation, pred.properties, opts.postprocessing);
      result.predicted.push(c.id);
    }
    opts.onCase?.(++done, cases.length, c.id);
  }
  return result;
}
