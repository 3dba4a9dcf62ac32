/**
 * Prediction of an nnU-Net v1 model that `nnunet move-to-v2` placed into the v2 tree, asked for through v2's
 * commands (nnUNetv2_predict, nnUNetv2_predict_from_modelfolder). Its networks are v1's Generic_UNet, so it is
 * predicted with the v1 method, exactly as `nnunet predict` would predict the original folder: v1 preprocessing,
 * sliding window and softmax averaging, the model's own postprocessing.json, <case>.nii.gz outputs (docs/interop.md),
 * with the model's dataset.json and plans.json beside them as v2 leaves them.
 * v2's checkpoint names map onto v1's (checkpoint_final.pth → model_final_checkpoint, best, latest).
 */
import * as fs from 'node:fs';
import type { Fold } from '../contract';
import { writeFileAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { CHECKPOINT_NAMES, datasetJsonFile, modelPlansFile, V2_CHECKPOINT_FILES } from '../io/layout';
import type { V1ModelMarker } from '../io/move-to-v2';
import { predictModelFolderV1, type PredictFolderResult } from './predict-task';

export interface PredictMovedV1Options {
  modelDir: string;
  marker: V1ModelMarker;
  inputDir: string;
  outputDir: string;
  /** v2's -f: fold numbers or 'all'. */
  folds: ReadonlyArray<number | 'all'>;
  /** v2's -chk (checkpoint_final.pth, checkpoint_best.pth, checkpoint_latest.pth). */
  checkpoint: string;
  saveNpz?: boolean;
  tta?: boolean;
  stepSize?: number;
  /** A cascade's 3d_lowres predictions (v2's -prev_stage_predictions). */
  lowresDir?: string;
  overwrite?: boolean;
  onCase?: (done: number, total: number, caseId: string) => void;
}

/** v2's checkpoint file name as v1's checkpoint name. */
export function v1CheckpointName(v2Name: string, modelDir: string): string {
  const key = (Object.keys(V2_CHECKPOINT_FILES) as Array<keyof typeof V2_CHECKPOINT_FILES>).find((k) => V2_CHECKPOINT_FILES[k] === v2Name);
  if (!key) {
    throw new BadInputError(`-chk ${v2Name}: ${modelDir} is an nnU-Net v1 model; its checkpoints are ${Object.values(CHECKPOINT_NAMES).join(', ')} (ask for them as ${Object.values(V2_CHECKPOINT_FILES).join(', ')})`, modelDir);
  }
  return CHECKPOINT_NAMES[key];
}

function v1Folds(folds: ReadonlyArray<number | 'all'>, modelDir: string): Fold[] {
  return folds.map((f) => {
    if (f !== 'all' && !(Number.isInteger(f) && f >= 0 && f <= 4)) throw new BadInputError(`fold ${f}: an nnU-Net v1 model has folds 0-4 and all`, modelDir);
    return f as Fold;
  });
}

/** Predicts, then leaves dataset.json and plans.json beside the outputs as v2's predictor does (apply_postprocessing reads them). */
export async function predictMovedV1Model(o: PredictMovedV1Options): Promise<PredictFolderResult> {
  const r = await predictModelFolderV1({
    modelDir: o.modelDir, configuration: o.marker.configuration, plansIdentifier: o.marker.plans_identifier,
    folds: v1Folds(o.folds, o.modelDir), checkpoint: v1CheckpointName(o.checkpoint, o.modelDir),
    inputDir: o.inputDir, outputDir: o.outputDir, saveNpz: o.saveNpz, tta: o.tta, stepSize: o.stepSize,
    lowresDir: o.lowresDir, overwrite: o.overwrite, onCase: o.onCase,
  });
  for (const file of [datasetJsonFile, modelPlansFile]) writeFileAtomic(file(o.outputDir), fs.readFileSync(file(o.modelDir)));
  return r;
}
