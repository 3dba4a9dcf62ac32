/**
 * A loaded nnU-Net v2 model folder (network/v2/model-folder.ts) predicting a preprocessed case as
 * nnUNetPredictor.predict_logits_from_preprocessed_data does: the configuration's patch size, the trainer's
 * mirroring axes (when mirroring is on, nnU-Net's default), every loaded fold.
 */
import type { LoadedV2Model } from '../../network/v2/model-folder';
import { mirroredLogitsPredictor, predictLogitsV2 } from './sliding-window';

export interface PredictV2Options {
  /** use_mirroring (default true): mirror over inference_allowed_mirroring_axes. */
  mirroring?: boolean;
  /** tile_step_size (default 0.5). */
  stepSize?: number;
}

/** The patch size of the model's configuration, checked against the network's dimensionality. */
export function patchSizeOf(model: LoadedV2Model): number[] {
  const patch = model.configuration.patch_size;
  const dims = model.description.spec.dims;
  if (!Array.isArray(patch) || patch.length !== dims || !patch.every((p) => Number.isInteger(p) && p >= 1)) {
    throw new RangeError(`${model.dir}: configuration ${model.configurationName} has patch_size ${JSON.stringify(patch)}, not ${dims} positive ints`);
  }
  return patch as number[];
}

/** Logits (heads × shape, float16 values) of a preprocessed channel-first case (C × shape). */
export async function predictPreprocessedV2(model: LoadedV2Model, image: Float32Array, shape: readonly number[], options: PredictV2Options = {}): Promise<Float32Array> {
  const patchSize = patchSizeOf(model);
  const { inChannels, numClasses } = model.description;
  const axes = options.mirroring === false ? [] : model.mirrorAxes ?? [];
  const folds = model.networks.map((net) => mirroredLogitsPredictor(net, patchSize, inChannels, axes));
  return predictLogitsV2(image, inChannels, shape, patchSize, numClasses, folds, { stepSize: options.stepSize });
}
