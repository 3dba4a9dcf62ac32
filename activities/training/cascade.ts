/**
 * The nnU-Net v1 cascade on the training side (spec §4.6, §5.12):
 * - after a 3d_lowres fold trains, its validation softmax (on the lowres preprocessed grid) is resampled with
 *   order 1 to the fullres (stage 1) preprocessed shape, argmaxed and stored as
 *   `RESULTS/3d_lowres/<task>/<lowres trainer>__<plans>/pred_next_stage/<case>_segFromPrevStage.npy`
 *   (uint8, (z, y, x) of the fullres grid; nnU-Net writes the same folder with `.npz`, we keep `.npy` so the
 *   batch loader reads only the slab a patch needs). Five lowres folds give every training case one.
 * - nnUNetTrainerV2CascadeFullRes trains 3d_cascade_fullres on the fullres stage with those maps as (K−1)
 *   one-hot input channels (loader + augmentation: batch-worker.ts), and validates with the held-out case's map.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Configuration, TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import { readNpySync, writeNpy } from '../io/npy';
import { oneHotForeground } from '../inference/cascade';
import type { Probabilities } from '../inference/export';
import { numClassesOf, predictPreprocessedCase, type CaseModel, type PredictCaseOptions, type CasePrediction, type ExtraChannels, type ExtraChannelsFor } from '../inference/predict-case';
import { stages, type Plans } from '../planning/plans';
import { modelFolder } from '../postprocessing/results-layout';
import { stageFor, stageParams } from '../preprocessing/preprocess';
import { preprocessTestCase, type TestCaseProperties } from '../preprocessing/test-case';
import { transposedShape } from '../preprocessing/transpose';
import { resizeData, resampledShape, type Shape3 } from '../volume/resample';
import { previousStageFile, readNpyLayout } from './dataloader-cases';
import { NnUNetTrainerV2, type CascadeInput } from './trainer';

export const CASCADE_TRAINER = 'nnUNetTrainerV2CascadeFullRes';
/** nnUNetTrainerV2CascadeFullRes's default previous_trainer. */
export const DEFAULT_LOWRES_TRAINER = 'nnUNetTrainerV2';
export const PRED_NEXT_STAGE_DIR = 'pred_next_stage';

/** Foreground labels 1..K−1 whose one-hot maps the cascade appends. */
export const foregroundLabels = (plans: Plans): number[] => Array.from({ length: plans.num_classes }, (_, i) => i + 1);

/** `.../3d_lowres/<task>/<lowres trainer>__<plans id>/pred_next_stage`. */
export function nextStageDir(paths: TaskPaths, plansIdentifier: string, lowresTrainer = DEFAULT_LOWRES_TRAINER): string {
  return path.join(modelFolder(paths, '3d_lowres', lowresTrainer, plansIdentifier), PRED_NEXT_STAGE_DIR);
}

/** The task has a cascade only when the plans have a lowres stage (spec §3.6). */
export function requireTwoStages(plans: Plans, plansFile: string, configuration: Configuration): void {
  if (stages(plans).length < 2) {
    throw new BadInputError(`${plansFile}: the plans have one stage only, so the task has no 3d_lowres / 3d_cascade_fullres (${configuration}); train 3d_fullres instead`, plansFile);
  }
}

/**
 * The fullres (stage 1) preprocessed shape of a case: the stored `.npy`'s when preprocessed (what nnU-Net reads),
 * else what preprocessing would make of the cropped case.
 */
export function fullresShape(plans: Plans, plansFile: string, preprocessedDir: string, caseId: string, props: TestCaseProperties): Shape3 {
  const sel = stageFor(plans, '3d_fullres', preprocessedDir, plansFile);
  const npy = path.join(sel.dataDir, `${caseId}.npy`);
  if (fs.existsSync(npy)) return readNpyLayout(npy, 'preprocessed case').shape.slice(1) as Shape3;
  const p = stageParams(plans, sel, plansFile);
  const cropT = transposedShape(props.size_after_cropping as unknown as Shape3, p.transposeForward);
  const spacingT = p.transposeForward.map((a) => props.original_spacing[a]!);
  return resampledShape(cropT, spacingT, p.targetSpacing);
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
  const file = previousStageFile(dir, caseId);
  writeNpy(file, { data: seg, shape: [...shape], dtype: 'uint8' });
  return file;
}

/** Every case must have its previous-stage map before the cascade trains; the error names the lowres folds to run. */
export function requirePreviousStage(dir: string, caseIds: readonly string[], foldOfCase: (id: string) => number | undefined): void {
  const missing = caseIds.filter((id) => !fs.existsSync(previousStageFile(dir, id)));
  if (missing.length === 0) return;
  const folds = [...new Set(missing.map(foldOfCase).filter((f): f is number => f !== undefined))].sort();
  const which = folds.length ? `fold${folds.length > 1 ? 's' : ''} ${folds.join(', ')}` : 'all folds';
  throw new BadInputError(
    `${previousStageFile(dir, missing[0]!)}: no 3d_lowres prediction for ${missing.length} case(s) (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); `
    + `3d_cascade_fullres trains on the out-of-fold 3d_lowres predictions: train 3d_lowres ${which} first (nnunet train 3d_lowres ${DEFAULT_LOWRES_TRAINER} TASK FOLD)`,
    previousStageFile(dir, missing[0]!),
  );
}

/** A case's previous-stage map as (K−1) one-hot channels on the given grid. */
export function previousStageOneHot(dir: string, caseId: string, shape: Shape3, numClasses: number): Float32Array {
  const file = previousStageFile(dir, caseId);
  if (!fs.existsSync(file)) requirePreviousStage(dir, [caseId], () => undefined);
  const seg = readNpySync(file);
  if (seg.shape.join(',') !== shape.join(',')) {
    throw new BadInputError(`${file}: shape (${seg.shape.join(', ')}) differs from the case's fullres grid (${shape.join(', ')}); train the 3d_lowres fold of this case again`, file);
  }
  return oneHotForeground(seg.data, numClasses);
}

export interface GridPrediction { prediction: CasePrediction; grid: Probabilities; properties: TestCaseProperties }

/**
 * One raw case as the fold validation predicts it: preprocess, (cascade) append the previous-stage one-hot
 * channels, softmax on the preprocessed grid (kept for pred_next_stage), exported to the raw image grid.
 */
export async function predictOnGrid(imageFiles: string[], model: CaseModel, extra?: ExtraChannelsFor, opts: PredictCaseOptions = {}): Promise<GridPrediction> {
  const pre = preprocessTestCase(imageFiles, model.plans, model.configuration, model.plansFile);
  const { grid, prediction } = await predictPreprocessedCase(pre, model, extra, opts);
  return { prediction, grid, properties: pre.properties };
}

/** Cascade input of a case for validation: the held-out case's own out-of-fold lowres map. */
export function cascadeExtra(dir: string, caseId: string, plans: Plans): (shape: Shape3) => ExtraChannels {
  const K = numClassesOf(plans);
  return (shape) => ({ data: previousStageOneHot(dir, caseId, shape, K), channels: K - 1 });
}

/** nnUNetTrainerV2CascadeFullRes: nnUNetTrainerV2 on the fullres stage with the previous stage's one-hot maps as input. */
export class NnUNetTrainerV2CascadeFullRes extends NnUNetTrainerV2 {
  protected override cascadeInput(): CascadeInput {
    const dir = this.setup.previousStageDir;
    if (!dir) throw new BadInputError(`${CASCADE_TRAINER} needs the 3d_lowres pred_next_stage folder (TrainerSetup.previousStageDir)`);
    return { previousStageDir: dir, labels: foregroundLabels(this.setup.plans) };
  }
}
