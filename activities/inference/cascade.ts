/**
 * The nnU-Net v1 cascade in one place (docs/training.md, "Cascade"), apart from its trainer class
 * (training/cascade.ts), which only switches these inputs on:
 * - Training side: after a 3d_lowres fold trains, its validation softmax (on the lowres preprocessed grid) is
 *   resampled with order 1 to the fullres (stage 1) preprocessed shape, argmaxed and stored in the lowres model's
 *   pred_next_stage/ as <case>_segFromPrevStage.npy (uint8, (z, y, x) of the fullres grid; nnU-Net writes .npz, we
 *   keep .npy so the batch loader reads only the slab a patch needs). Five lowres folds give every training case
 *   one. 3d_cascade_fullres trains and validates with those maps as (K−1) one-hot input channels.
 * - Inference side: the 3d_lowres segmentation of the same case (a NIfTI on the raw grid) is brought onto the
 *   preprocessed fullres grid and one-hot encoded for labels 1..K-1, appended to the image channels. v1 resizes
 *   the uncropped lowres map straight to the cropped grid (misaligned when cropping removed voxels); like v2 we
 *   crop it with the case's crop box first, which is also how the training-time input was aligned.
 */
import * as fs from 'node:fs';
import type { Configuration } from '../contract';
import { BadInputError } from '../common/errors';
import { DEFAULT_LOWRES_TRAINER, RESULT_FOLDERS, segFromPrevStageFile } from '../io/layout';
import { readNifti } from '../io/nifti';
import { readNpyHeader, readNpySync, writeNpy } from '../io/npy';
import { sibling, type ResolvedConfiguration } from '../planning/configuration';
import { stages, type Plans } from '../planning/plans';
import { stageParamsOf } from '../preprocessing/preprocess';
import { preprocessedNpy } from '../preprocessing/preprocess-case';
import { preprocessTestCaseFor, type TestCaseProperties } from '../preprocessing/test-case';
import { transposeChannels, transposedShape } from '../preprocessing/transpose';
import { cropInto, type BBox3 } from '../volume/crop';
import { resampledShape, resizeData, resizeSegmentation, type Shape3 } from '../volume/resample';
import type { Probabilities } from './export';
import {
  predictPreprocessedCase, type CaseModel, type CasePrediction, type ExtraChannels, type ExtraChannelsFor, type PredictCaseOptions,
} from './predict-case';

/** Foreground labels 1..K−1 whose one-hot maps the cascade appends. */
export const foregroundLabels = (plans: Plans): number[] => Array.from({ length: plans.num_classes }, (_, i) => i + 1);

/** (K-1) one-hot channels (labels 1..K-1) of a label map, float32, channel-first. */
export function oneHotForeground(seg: ArrayLike<number>, numClasses: number): Float32Array {
  const n = seg.length;
  const out = new Float32Array((numClasses - 1) * n);
  for (let i = 0; i < n; i++) {
    const l = seg[i];
    if (l >= 1 && l < numClasses) out[(l - 1) * n + i] = 1;
  }
  return out;
}

// ---- training side: pred_next_stage ----------------------------------------------------------------------------

/** The task has a cascade only when the plans have a lowres stage. */
export function requireTwoStages(rc: ResolvedConfiguration, configuration: Configuration): void {
  if (stages(rc.plans).length < 2) {
    throw new BadInputError(`${rc.plansFile}: the plans have one stage only, so the task has no 3d_lowres / 3d_cascade_fullres (${configuration}); train 3d_fullres instead`, rc.plansFile);
  }
}

/**
 * The fullres (stage 1) preprocessed shape of a case: the stored `.npy`'s when preprocessed (what nnU-Net reads),
 * else what preprocessing would make of the cropped case.
 */
export function fullresShape(rc: ResolvedConfiguration, caseId: string, props: TestCaseProperties): Shape3 {
  const fullres = sibling(rc, '3d_fullres');
  const npy = fullres.dataDir === undefined ? undefined : preprocessedNpy(fullres.dataDir, caseId);
  if (npy && fs.existsSync(npy)) return storedShape(npy).slice(1) as Shape3;
  const p = stageParamsOf(fullres);
  const cropT = transposedShape(props.size_after_cropping as unknown as Shape3, p.transposeForward);
  const spacingT = p.transposeForward.map((a) => props.original_spacing[a]!);
  return resampledShape(cropT, spacingT, p.targetSpacing);
}

function storedShape(file: string): number[] {
  const fd = fs.openSync(file, 'r');
  try {
    return readNpyHeader(fd, file).shape;
  } finally {
    fs.closeSync(fd);
  }
}

/** nnU-Net's pred_next_stage export: softmax resized per class (order 1, no separate z) to `target`, argmax (first max wins). */
export function segmentationForNextStage(p: Probabilities, target: Shape3): Uint8Array {
  const n = p.shape[0] * p.shape[1] * p.shape[2];
  const m = target[0] * target[1] * target[2];
  const best = new Float64Array(m).fill(-Infinity);
  const seg = new Uint8Array(m);
  for (let k = 0; k < p.numClasses; k++) {
    const r = resizeData(p.data.subarray(k * n, (k + 1) * n), p.shape, target, 1);
    for (let i = 0; i < m; i++) if (r[i]! > best[i]!) { best[i] = r[i]!; seg[i] = k; }
  }
  return seg;
}

export function writeSegFromPrevStage(dir: string, caseId: string, seg: Uint8Array, shape: Shape3): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = segFromPrevStageFile(dir, caseId);
  writeNpy(file, { data: seg, shape: [...shape], dtype: 'uint8' });
  return file;
}

/** A validated 3d_lowres case exported for the next stage: its softmax on the fullres grid, argmaxed. */
export function exportForNextStage(rc: ResolvedConfiguration, dir: string, caseId: string, grid: Probabilities, props: TestCaseProperties): void {
  const target = fullresShape(rc, caseId, props);
  writeSegFromPrevStage(dir, caseId, segmentationForNextStage(grid, target), target);
}

/** Every case must have its previous-stage map before the cascade trains; the error names the lowres folds to run. */
export function requirePreviousStage(dir: string, caseIds: readonly string[], foldOfCase: (id: string) => number | undefined): void {
  const missing = caseIds.filter((id) => !fs.existsSync(segFromPrevStageFile(dir, id)));
  if (missing.length === 0) return;
  const folds = [...new Set(missing.map(foldOfCase).filter((f): f is number => f !== undefined))].sort();
  const which = folds.length ? `fold${folds.length > 1 ? 's' : ''} ${folds.join(', ')}` : 'all folds';
  throw new BadInputError(
    `${segFromPrevStageFile(dir, missing[0]!)}: no 3d_lowres prediction for ${missing.length} case(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); `
    + `3d_cascade_fullres trains on the out-of-fold 3d_lowres predictions: train 3d_lowres ${which} first (nnunet train 3d_lowres ${DEFAULT_LOWRES_TRAINER} TASK FOLD)`,
    segFromPrevStageFile(dir, missing[0]!),
  );
}

/** Whether every given case has its pred_next_stage map (a 3d_lowres fold is complete only then). */
export const hasNextStageMaps = (dir: string, caseIds: readonly string[]): boolean => caseIds.every((id) => fs.existsSync(segFromPrevStageFile(dir, id)));

/** A case's previous-stage map as (K−1) one-hot channels on the given grid. */
export function previousStageOneHot(dir: string, caseId: string, shape: Shape3, numClasses: number): Float32Array {
  const file = segFromPrevStageFile(dir, caseId);
  if (!fs.existsSync(file)) requirePreviousStage(dir, [caseId], () => undefined);
  const seg = readNpySync(file);
  if (seg.shape.join(',') !== shape.join(',')) {
    throw new BadInputError(`${file}: shape (${seg.shape.join(', ')}) differs from the case's fullres grid (${shape.join(', ')}); train the 3d_lowres fold of this case again`, file);
  }
  return oneHotForeground(seg.data, numClasses);
}

/** Cascade input of a case for validation: the held-out case's own out-of-fold lowres map. */
export function cascadeExtra(dir: string, caseId: string, plans: Plans): (shape: Shape3) => ExtraChannels {
  const K = plans.num_classes + 1;
  return (shape) => ({ data: previousStageOneHot(dir, caseId, shape, K), channels: K - 1 });
}

export interface GridPrediction { prediction: CasePrediction; grid: Probabilities; properties: TestCaseProperties }

/**
 * One raw case as the fold validation predicts it: preprocess, (cascade) append the previous-stage one-hot
 * channels, softmax on the preprocessed grid (kept for pred_next_stage), exported to the raw image grid.
 */
export async function predictOnGrid(imageFiles: string[], model: CaseModel, extra?: ExtraChannelsFor, opts: PredictCaseOptions = {}): Promise<GridPrediction> {
  const pre = await preprocessTestCaseFor(imageFiles, model.resolved);
  const { grid, prediction } = await predictPreprocessedCase(pre, model, extra, opts);
  return { prediction, grid, properties: pre.properties };
}

/** The folder name of the maps, for messages. */
export const PRED_NEXT_STAGE_DIR = RESULT_FOLDERS.predNextStage;

// ---- inference side: a 3d_lowres segmentation as input ---------------------------------------------------------

/** Crops, transposes and resizes (per label, order 1) a label map in the raw image's grid onto the preprocessed grid. */
export function lowresToPreprocessedGrid(
  seg: ArrayLike<number>, originalShape: Shape3, bbox: number[][], transposeForward: readonly number[], targetShape: Shape3,
): Float32Array {
  const box = bbox.map((r) => [r[0], r[1]] as const) as unknown as BBox3;
  const cropShape: Shape3 = [box[0][1] - box[0][0], box[1][1] - box[1][0], box[2][1] - box[2][0]];
  const cropped = new Float32Array(cropShape[0] * cropShape[1] * cropShape[2]);
  cropInto(seg, originalShape, box, cropped);
  const t = transposeChannels(cropped, cropShape, transposeForward);
  return resizeSegmentation(t, transposedShape(cropShape, transposeForward), targetShape, 1);
}

/** Reads the lowres prediction NIfTI and returns its one-hot channels on the preprocessed grid. */
export async function cascadeChannels(
  lowresFile: string, originalShape: Shape3, bbox: number[][], transposeForward: readonly number[], targetShape: Shape3, numClasses: number,
): Promise<Float32Array> {
  const v = await readNifti(lowresFile);
  if (v.shape.length !== 3 || v.shape.some((d, i) => d !== originalShape[i])) {
    throw new BadInputError(`${lowresFile}: the 3d_lowres prediction has shape ${v.shape.join('x')}, the case ${originalShape.join('x')}; predict 3d_lowres on the same images`, lowresFile);
  }
  return oneHotForeground(lowresToPreprocessedGrid(v.data, originalShape, bbox, transposeForward, targetShape), numClasses);
}

/** The cascade input of a case at inference: its 3d_lowres segmentation file as one-hot channels. */
export function lowresSegmentationExtra(lowresFile: string, plans: Plans): ExtraChannelsFor {
  const K = plans.num_classes + 1;
  return async (shape, props) => ({
    data: await cascadeChannels(lowresFile, props.original_size_of_raw_data as unknown as Shape3, props.crop_bbox, plans.transpose_forward, shape, K),
    channels: K - 1,
  });
}
