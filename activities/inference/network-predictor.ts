/**
 * The tfjs U-Net as a PatchPredictor: the channel-first patch becomes a [1, ...patch, C] tensor, every
 * mirror variant (all subsets of the mirror axes: 8 in 3D, 4 in 2D; only the identity with TTA off) goes through
 * the network, softmax is applied per pass (v1) and flipped back, and the mean comes back class-first.
 * Models come from the trainer's checkpoints (`<fold>/model_final_checkpoint.model`, training/checkpoint.ts) or
 * nnU-Net v1's torch checkpoints (network/torch-weights.ts), matched to the network's parameters by name.
 * See docs/inference.md, 'How a case is predicted'.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Configuration, Fold } from '../contract';
import { BadInputError } from '../common/errors';
import { buildUNet, type UNet } from '../network/unet';
import { hasRegionOutputs, type Plans } from '../planning/plans';
import { loadWeightsFor } from '../network/torch-weights';
import { checkpointFile, foldFolder, trainedFolds } from '../io/layout';
import { inChannelsOf, resolveConfiguration, type ResolvedConfiguration } from '../planning/configuration';
import type { CaseModel } from './predict-case';
import type { PatchPredictor } from './sliding-window';

export interface NetworkPredictorOptions {
  patchSize: readonly number[];
  inChannels: number;
  /** Spatial axes (0-based, array order) to mirror over; default all. */
  mirrorAxes?: readonly number[];
  /** Mirroring test-time augmentation (nnU-Net default on; --disable_tta turns it off). */
  tta?: boolean;
  /** Region outputs: sigmoid per channel instead of the softmax over channels (LabelManager.applyInferenceNonlin). */
  sigmoid?: boolean;
}

/** Every subset of `axes` (the empty one first). */
export function mirrorVariants(axes: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const a of axes) out = [...out, ...out.map((s) => [...s, a])];
  return out;
}

export function networkPatchPredictor(model: Pick<UNet, 'predict'>, opts: NetworkPredictorOptions): PatchPredictor {
  const dims = opts.patchSize.length;
  const spatial = Array.from({ length: dims }, (_, i) => i);
  const variants = opts.tta === false ? [[]] : mirrorVariants(opts.mirrorAxes ?? spatial);
  return async (patch) => {
    const x = tf.tidy(() => tf.tensor(patch, [opts.inChannels, ...opts.patchSize], 'float32').transpose([...spatial.map((a) => a + 1), 0]).expandDims(0));
    // One tidy per mirror pass: only the running sum outlives a pass (one tidy for all 8 kept every pass's logits).
    let sum: tf.Tensor | undefined;
    for (const axes of variants) {
      const flip = axes.map((a) => a + 1);
      const next = tf.tidy(() => {
        const input = flip.length ? tf.reverse(x, flip) : x;
        let p = opts.sigmoid ? tf.sigmoid(model.predict(input)) : tf.softmax(model.predict(input), -1);
        if (flip.length) p = tf.reverse(p, flip);
        return sum ? tf.add(sum, p) : p;
      });
      sum?.dispose();
      sum = next;
    }
    x.dispose();
    const out = tf.tidy(() => tf.div(sum!, variants.length).squeeze([0]).transpose([dims, ...spatial]));
    sum!.dispose();
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
}

/** Input channels of a configuration's network: the modalities, plus K-1 one-hot channels for the cascade. */
export const networkInChannels = inChannelsOf;

/** loadUNetFor with the configuration resolved from the plans here. */
export function loadUNet(plans: Plans, configuration: Configuration, plansFile: string, checkpointFile: string): UNet {
  return loadUNetFor(resolveConfiguration(plans, plansFile, configuration), checkpointFile);
}

/** Builds the configuration's U-Net and loads a checkpoint's weights into it, by parameter name: ours or nnU-Net v1's torch file. */
export function loadUNetFor(rc: ResolvedConfiguration, checkpointFile: string): UNet {
  if (!fs.existsSync(checkpointFile)) throw new BadInputError(`${checkpointFile}: checkpoint missing; train this fold first or pick another with -chk`, checkpointFile);
  const { network } = rc;
  const net = buildUNet(rc.stage, {
    inChannels: network.inChannels, numClasses: network.numClasses, deepSupervision: false,
    baseFeatures: network.baseFeatures, maxFeatures: network.maxFeatures,
  });
  let weights: Float32Array[];
  try {
    weights = loadWeightsFor(net.architecture, checkpointFile);
  } catch (err) {
    net.dispose();
    throw err;
  }
  try {
    net.setWeights(weights);
  } catch (err) {
    net.dispose();
    throw new BadInputError(`${checkpointFile}: ${(err as Error).message}; the checkpoint was trained with other plans`, checkpointFile);
  }
  return net;
}

/** Folds of a model folder nnU-Net predicts with by default: every fold_N present (not `all`). */
export function availableFolds(modelDir: string): Fold[] {
  return trainedFolds(modelDir);
}

export interface LoadedModel extends CaseModel { dispose(): void; checkpoints: string[] }

/** The networks of a trained configuration, one PatchPredictor per fold. */
export function loadModel(modelDir: string, resolved: ResolvedConfiguration, folds: readonly Fold[], checkpoint: string, tta = true): LoadedModel {
  if (folds.length === 0) throw new BadInputError(`${modelDir}: no trained folds (${foldFolder('', 0)} ... ${foldFolder('', 4)}); train first or pass -f`, modelDir);
  const { patchSize, inChannels } = resolved.network;
  const checkpoints = folds.map((f) => checkpointFile(foldFolder(modelDir, f), checkpoint));
  const nets: UNet[] = [];
  try {
    for (const file of checkpoints) nets.push(loadUNetFor(resolved, file));
  } catch (err) {
    nets.forEach((n) => n.dispose());
    throw err;
  }
  return {
    resolved, checkpoints,
    folds: nets.map((n) => networkPatchPredictor(n, { patchSize, inChannels, tta, sigmoid: hasRegionOutputs(resolved.plans) })),
    dispose: () => nets.forEach((n) => n.dispose()),
  };
}
