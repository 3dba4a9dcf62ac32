/**
 * nnU-Net's validate() of a trained fold: the held-out raw cases through the inference pipeline with the requested
 * TTA and step size into validation_raw/, then summary.json and validation_args.json. The cascade appends each
 * case's out-of-fold lowres map; 3d_lowres also exports every case for the next stage (inference/cascade.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_VALIDATION, describeValidation, validationSettingsProblem, type TaskPaths, type TrainInput, type TrainOutput, type ValidationSettings } from '../contract';
import { writeDirAtomic, writeJsonAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { postprocessFold } from '../postprocessing/fold';
import { scoreStagedFolder, scoringFor } from '../evaluation/scoring';
import { cascadeExtra, exportForNextStage, predictOnGrid } from '../inference/cascade';
import { loadUNetFor, networkPatchPredictor } from '../inference/network-predictor';
import { hasRegionOutputs, labelManagerOf } from '../planning/plans';
import { segmentationFile, softmaxFile, writeSegmentation, writeSoftmax } from '../inference/write-prediction';
import { readDataset } from '../io/dataset';
import { gtSegmentationsFolder, RESULT_FOLDERS, VALIDATION_ARGS_FILE, validationFolder, validationPostprocessedName } from '../io/layout';
import { initBackend } from '../network/backend';
import type { UNet } from '../network/unet';
import type { ResolvedConfiguration } from '../planning/configuration';
import type { ValidationArgs } from './fold-completion';

export { VALIDATION_ARGS_FILE };

/** The settings a fold validates with: the input's, else nnU-Net's (runtime.validationTta: tests' older knob). */
export function validationSettingsOf(input: Pick<TrainInput, 'validation'> & { runtime?: { validationTta?: boolean } }): ValidationSettings {
  const settings = input.validation ?? { ...DEFAULT_VALIDATION, tta: input.runtime?.validationTta ?? DEFAULT_VALIDATION.tta };
  const problem = validationSettingsProblem(settings);
  if (problem) throw new BadInputError(`${problem} (nnU-Net: TTA on, step size 0.5)`);
  return settings;
}

/** A trained network as the validation uses it (the trainer's, or one loaded from the final checkpoint). */
export interface ValidationNetwork {
  network: Pick<UNet, 'predict'>;
  /** 3d_cascade_fullres: where the held-out cases' out-of-fold lowres maps are. */
  previousStageDir?: string;
}

export interface FoldValidation {
  rc: ResolvedConfiguration;
  paths: TaskPaths;
  foldDir: string;
  valCases: string[];
  settings: ValidationSettings;
  saveSoftmax: boolean;
  /** 3d_lowres: the pred_next_stage folder every validated case is exported to. */
  nextStage?: string;
  /** nnU-Net's run_postprocessing_on_folds (default on; nnUNet_train --disable_postprocessing_on_folds turns it off). */
  postprocessOnFold?: boolean;
  /** --val_disable_overwrite: keep the cases the validation folder holds already. */
  keepExisting?: boolean;
  /** nnUNet_train --val_folder: the folder name instead of validation_raw. */
  folderName?: string;
  /** The tensor backend for a re-validation ('auto' or a backend id). */
  backend?: string;
  log: (line: string) => void;
}

/** Predicts the held-out cases into validation_raw/ and evaluates them; logs windows and network passes per case. */
export async function validateFold(net: ValidationNetwork, job: FoldValidation): Promise<number> {
  const { rc, paths, foldDir, valCases, settings, nextStage, log } = job;
  const folderName = job.folderName ?? RESULT_FOLDERS.validation;
  log(`validating ${valCases.length} held-out cases into ${folderName}/ (${describeValidation(settings)})`);
  const dataset = readDataset(paths.rawDir);
  const byId = new Map(dataset.training.map((c) => [c.id, c]));
  let passes = 0;
  const counted = { predict: (x: Parameters<UNet['predict']>[0]) => { passes++; return net.network.predict(x); } };
  const predictor = networkPatchPredictor(counted, { patchSize: rc.network.patchSize, inChannels: rc.network.inChannels, tta: settings.tta, sigmoid: hasRegionOutputs(rc.plans) });
  const model = { resolved: rc, folds: [predictor] };
  const finalDir = validationFolder(foldDir, folderName);
  const args: ValidationArgs = {
    do_mirroring: settings.tta, use_sliding_window: true, step_size: settings.stepSize, use_gaussian: true,
    save_softmax: job.saveSoftmax, validation_folder_name: folderName,
  };
  let meanDice = NaN;
  await writeDirAtomic(finalDir, async (tmp) => {
    for (const id of valCases) {
      const c = byId.get(id);
      if (!c) throw new BadInputError(`${dataset.jsonFile}: validation case ${id} is not among the training cases`, dataset.jsonFile);
      if (job.keepExisting && !nextStage && keepPrediction(finalDir, tmp, id, job.saveSoftmax)) {
        log(`kept ${id}: its prediction is in ${folderName}/ already (--val_disable_overwrite)`);
        continue;
      }
      let windows = 0;
      passes = 0;
      const extra = net.previousStageDir ? cascadeExtra(net.previousStageDir, id, rc.plans) : undefined;
      const { prediction: pred, grid, properties } = await predictOnGrid(c.images, model, extra, { stepSize: settings.stepSize, onTile: () => { windows++; } });
      log(`validated ${id}: ${windows} sliding windows, ${passes} network passes`);
      if (nextStage) exportForNextStage(rc, nextStage, id, grid, properties);
      await writeSegmentation(segmentationFile(tmp, id), pred.segmentation, pred.properties);
      if (job.saveSoftmax) writeSoftmax(tmp, id, pred.probabilities, pred.properties);
    }
    meanDice = await evaluateValidation(rc, tmp, finalDir, gtSegmentationsFolder(paths.preprocessedDir));
    writeJsonAtomic(path.join(tmp, VALIDATION_ARGS_FILE), args);
  });
  log(`validation mean foreground Dice: ${meanDice.toFixed(4)}`);
  if (labelManagerOf(rc.plans)) {
    log('postprocessing of this fold: skipped (its connected-component rules are not determined for regions or an ignore label yet)');
  } else if (job.postprocessOnFold !== false) {
    const pp = await postprocessFold(foldDir, paths.preprocessedDir, folderName);
    log(`postprocessing of this fold: ${path.basename(pp.postprocessingFile)} (${pp.json.for_which_classes.length ? JSON.stringify(pp.json.for_which_classes) : 'none'}), ${validationPostprocessedName(folderName)}/ written`);
  }
  return meanDice;
}

/**
 * nnU-Net's validate(overwrite=False): a case whose segmentation (and, with --npz, softmax) the finished folder holds
 * is not predicted again; its files are carried into the staged folder. A cascade's lowres fold always predicts,
 * because pred_next_stage needs the softmax.
 */
function keepPrediction(finalDir: string, stagedDir: string, id: string, saveSoftmax: boolean): boolean {
  if (!fs.existsSync(segmentationFile(finalDir, id)) || (saveSoftmax && !fs.existsSync(softmaxFile(finalDir, id)))) return false;
  for (const name of fs.readdirSync(finalDir).filter((n) => n.startsWith(`${id}.`))) fs.copyFileSync(path.join(finalDir, name), path.join(stagedDir, name));
  return true;
}

/**
 * summary.json of the staged validation folder and its mean foreground Dice: v1's per class, or for regions and
 * the ignore label v2's per label or region with ignored voxels counting nowhere (evaluation/scoring.ts, as
 * find-best scores the pooled folds).
 */
async function evaluateValidation(rc: ResolvedConfiguration, stagedDir: string, finalDir: string, gtDir: string): Promise<number> {
  const classes = Array.from({ length: rc.network.numClasses }, (_, i) => i);
  return (await scoreStagedFolder(scoringFor(labelManagerOf(rc.plans), classes), stagedDir, finalDir, gtDir)).meanForegroundDice;
}

/** A finished fold validated with other settings than `job.settings`: validation only, from the final checkpoint. */
export async function revalidateFold(done: TrainOutput, used: ValidationSettings | undefined, job: FoldValidation, previousStageDir?: string): Promise<number> {
  const { log } = job;
  log(`the validation in ${job.folderName ?? RESULT_FOLDERS.validation}/ used ${used ? describeValidation(used) : 'unrecorded settings'}; `
    + `validating again with ${describeValidation(job.settings)} from ${path.basename(done.finalCheckpoint)}`);
  const backend = await initBackend({ preference: job.backend });
  log(`backend: ${backend.id} (${backend.detail})`);
  const network = loadUNetFor(job.rc, done.finalCheckpoint);
  try {
    return await validateFold({ network, previousStageDir }, job);
  } finally {
    network.dispose();
  }
}
