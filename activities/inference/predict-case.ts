/**
 * One raw case through a trained configuration: preprocess as in training (crop, transpose, resample,
 * normalize), sliding-window softmax per fold averaged over folds (2D models: slice by slice along the first
 * transposed axis), optional cascade channels, then export (export.ts) to a label map on the raw image's grid.
 * The network is hidden behind `PatchPredictor`, so any function of a patch (a test's known function, a tfjs
 * U-Net with mirroring) can be plugged in.
 * See docs/inference.md, 'How a case is predicted'.
 */
import type { Configuration } from '../contract';
import { holdsSeveralChannels } from '../io/image-formats/channels';
import { BadInputError } from '../common/errors';
import { resolveConfiguration, type ResolvedConfiguration } from '../planning/configuration';
import { labelManagerOf, type Plans, type StagePlan } from '../planning/plans';
import { preprocessTestCaseFor, type PreprocessedTestCase, type TestCaseProperties } from '../preprocessing/test-case';
import type { Shape3 } from '../volume/resample';
import { argmaxClasses, toCroppedOriginal, uncropProbabilities, type Probabilities } from './export';
import { gaussianImportanceMap } from './gaussian';
import { slidingWindowPredict, type PatchPredictor } from './sliding-window';

export type { PatchPredictor } from './sliding-window';

/** A trained configuration ready to predict: the resolved configuration and one patch predictor per fold. */
export interface CaseModel {
  resolved: ResolvedConfiguration;
  /** One per fold; their softmax outputs are averaged. */
  folds: PatchPredictor[];
}

export interface PredictCaseOptions {
  /** Fraction of the patch between tiles (nnU-Net 0.5). */
  stepSize?: number;
  useGaussian?: boolean;
  onTile?: (done: number, total: number) => void;
}

export interface CasePrediction {
  /** Class-first probabilities on the raw image grid (background 1 outside the crop box). */
  probabilities: Probabilities;
  /** Argmax label map on the raw image grid. */
  segmentation: Uint8Array;
  properties: TestCaseProperties;
}

/** The plan stage a configuration predicts with. */
export function stageOf(plans: Plans, configuration: Configuration, plansFile: string): StagePlan {
  return resolveConfiguration(plans, plansFile, configuration).stage;
}

export const numClassesOf = (plans: Plans): number => plans.num_classes + 1;

/** Softmax on the preprocessed grid of a (C, z, y, x) input, averaged over the model's folds. */
export async function predictPreprocessed(
  input: Float32Array, channels: number, shape: Shape3, model: CaseModel, opts: PredictCaseOptions = {},
): Promise<Probabilities> {
  const patch = model.resolved.network.patchSize;
  const K = model.resolved.network.numClasses;
  const sum = new Float32Array(K * shape[0] * shape[1] * shape[2]);
  const gaussian = gaussianImportanceMap(patch);
  const window = { stepSize: opts.stepSize ?? 0.5, useGaussian: opts.useGaussian ?? true, gaussian, onTile: opts.onTile };
  for (const predictor of model.folds) {
    const probs = patch.length === 2
      ? await predictSlices(input, channels, shape, patch, K, predictor, window)
      : (await slidingWindowPredict(input, channels, shape, patch, K, predictor, window)).probabilities;
    for (let i = 0; i < sum.length; i++) sum[i] += probs[i];
  }
  const folds = model.folds.length;
  if (folds > 1) for (let i = 0; i < sum.length; i++) sum[i] /= folds;
  return { data: sum, numClasses: K, shape };
}

/** 2D model on a 3D volume: each slice along axis 0 through the 2D sliding window, stacked (K, z, y, x). */
async function predictSlices(
  input: Float32Array, channels: number, shape: Shape3, patch: number[], K: number, predictor: PatchPredictor,
  window: Parameters<typeof slidingWindowPredict>[6],
): Promise<Float32Array> {
  const [nz, ny, nx] = shape;
  const plane = ny * nx;
  const n = nz * plane;
  const out = new Float32Array(K * n);
  const slice = new Float32Array(channels * plane);
  for (let z = 0; z < nz; z++) {
    for (let c = 0; c < channels; c++) slice.set(input.subarray(c * n + z * plane, c * n + (z + 1) * plane), c * plane);
    const { probabilities } = await slidingWindowPredict(slice, channels, [ny, nx], patch, K, predictor, window);
    for (let k = 0; k < K; k++) out.set(probabilities.subarray(k * plane, (k + 1) * plane), k * n + z * plane);
  }
  return out;
}

/** Input channels appended after the image's (the cascade's one-hot previous-stage maps). */
export interface ExtraChannels { data: Float32Array; channels: number }
export type ExtraChannelsFor = (shape: Shape3, properties: TestCaseProperties) => ExtraChannels | Promise<ExtraChannels>;

/**
 * A preprocessed case with its `extra` channels appended: softmax on the preprocessed grid, averaged over the
 * folds (`grid`), and that exported to the raw image grid (`prediction`).
 */
export async function predictPreprocessedCase(
  pre: PreprocessedTestCase, model: CaseModel, extra?: ExtraChannelsFor, opts: PredictCaseOptions = {},
): Promise<{ grid: Probabilities; prediction: CasePrediction }> {
  const shape: Shape3 = [pre.shape[0], pre.shape[1], pre.shape[2]];
  const n = shape[0] * shape[1] * shape[2];
  let input = pre.data.subarray(0, pre.numChannels * n);
  let channels = pre.numChannels;
  if (extra) {
    const e = await extra(shape, pre.properties);
    const joined = new Float32Array(input.length + e.data.length);
    joined.set(input);
    joined.set(e.data, input.length);
    input = joined;
    channels += e.channels;
  }
  const grid = await predictPreprocessed(input, channels, shape, model, opts);
  const { plans } = model.resolved;
  const labels = labelManagerOf(plans);
  // Region outputs are sigmoids: outside the crop box no region is present (all 0), not background 1.
  const probabilities = uncropProbabilities(toCroppedOriginal(grid, plans.transpose_backward, pre.properties), pre.properties, !labels?.hasRegions);
  const segmentation = labels ? labels.convertProbabilitiesToSegmentation(probabilities.data, probabilities.numClasses) : argmaxClasses(probabilities);
  // A region model's stored probabilities say so (write-prediction.ts refuses to ensemble them as softmax).
  const properties = labels?.hasRegions ? { ...pre.properties, regions_class_order: labels.regionsClassOrder } : pre.properties;
  return { grid, prediction: { probabilities, segmentation, properties } };
}

/** One case: raw channel files (in modality order) to probabilities and labels on the raw grid; `extra`: the cascade's input (cascade.ts). */
export async function predictCase(imageFiles: string[], model: CaseModel, opts: PredictCaseOptions = {}, extra?: ExtraChannelsFor): Promise<CasePrediction> {
  const { plans, configuration } = model.resolved;
  // A colour picture holds several channels: the files are counted against the model's channels after reading.
  const several = imageFiles.some((f) => holdsSeveralChannels(f));
  if (!several && imageFiles.length !== plans.num_modalities) {
    throw new BadInputError(`${imageFiles[0] ?? 'case'}: ${imageFiles.length} channel files given, the model was trained on ${plans.num_modalities}`, imageFiles[0]);
  }
  if (configuration === '3d_cascade_fullres' && !extra) throw new BadInputError(`${imageFiles[0]}: 3d_cascade_fullres needs the case's 3d_lowres segmentation`, imageFiles[0]);
  const pre = await preprocessTestCaseFor(imageFiles, model.resolved);
  return (await predictPreprocessedCase(pre, model, extra, opts)).prediction;
}
