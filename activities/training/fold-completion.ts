/**
 * Whether a fold is finished, so that a re-run or retry returns at once: a valid final checkpoint and a validation
 * summary (3d_lowres: and the pred_next_stage map of every validation case), and with which settings that
 * validation ran (validation_args.json, nnU-Net's record of its validate() arguments).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_VALIDATION, validationSettingsProblem, type TrainOutput, type ValidationSettings } from '../contract';
import { meanForegroundDice, readSummary } from '../evaluation/summary';
import { hasNextStageMaps } from '../inference/cascade';
import { CHECKPOINT_FILES, summaryFile, validationArgsFile, validationFolder } from '../io/layout';
import { readCheckpoint } from './checkpoint';

/** The keys of nnU-Net's validation_args.json that apply here. */
export interface ValidationArgs {
  do_mirroring: boolean;
  use_sliding_window: true;
  step_size: number;
  use_gaussian: true;
  save_softmax: boolean;
  validation_folder_name: string;
}

/**
 * The fold's outputs when it is complete (a fold trained before the cascade export lacks its maps, so it validates
 * again with -c); undefined otherwise, or when the final checkpoint cannot be read.
 */
export function completedOutput(foldDir: string, nextStage?: { dir: string; valCases: () => string[] }, validationName?: string): TrainOutput | undefined {
  const finalFile = path.join(foldDir, CHECKPOINT_FILES.final);
  const summary = summaryFile(validationFolder(foldDir, validationName));
  if (!fs.existsSync(finalFile) || !fs.existsSync(summary)) return undefined;
  if (nextStage && !hasNextStageMaps(nextStage.dir, nextStage.valCases())) return undefined;
  try {
    const epochs = readCheckpoint(finalFile).meta.epoch;
    return { foldDir, finalCheckpoint: finalFile, epochs, validationMeanDice: meanForegroundDice(readSummary(summary)) };
  } catch {
    return undefined;
  }
}

export const sameValidation = (a: ValidationSettings, b: ValidationSettings): boolean => a.tta === b.tta && a.stepSize === b.stepSize;

/**
 * The settings a fold's existing validation used. Folds validated before validation_args.json was written used
 * nnU-Net's defaults (the only settings the product path had); an unreadable file gives undefined (validate again).
 */
export function recordedValidation(foldDir: string, validationName?: string): ValidationSettings | undefined {
  const file = validationArgsFile(foldDir, validationName);
  if (!fs.existsSync(file)) return { ...DEFAULT_VALIDATION };
  try {
    const args = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ValidationArgs>;
    const used = { tta: args.do_mirroring, stepSize: args.step_size } as ValidationSettings;
    return validationSettingsProblem(used) ? undefined : used;
  } catch {
    return undefined;
  }
}
