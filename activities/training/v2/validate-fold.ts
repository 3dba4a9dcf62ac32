/**
 * nnUNetTrainer.perform_actual_validation: every validation case of the fold, taken from the preprocessed data
 * (<data_identifier>/<case>.npz + .json), predicted with the fold's trained network (sliding window, step 0.5,
 * mirroring over the trainer's inference axes), exported onto the raw image as export_prediction_from_logits does
 * into fold_X/validation/<case><file_ending> (with --npz also <case>.npz + <case>.pkl), then evaluated against
 * nnUNet_preprocessed/<Dataset>/gt_segmentations into validation/summary.json (compute_metrics_on_folder,
 * chill: only the predicted cases). A cascade stage stacks the previous stage's segmentation (one-hot) onto each
 * case; a stage with next stages also writes predicted_next_stage (cascade.ts).
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import { evaluateFolderV2, labelsFromDatasetJson, type V2Summary } from '../../evaluation/summary-v2';
import { exportLogitsV2 } from '../../inference/v2/export';
import { predictPreprocessedV2 } from '../../inference/v2/model-predictor';
import { exportModelV2, foregroundLabelsV2, modelReaderWriter, withPreviousStage, writeExportedCaseV2 } from '../../inference/v2/predict-files';
import {
  dataFolderV2, datasetJsonFile, gtSegmentationsFolder, preprocessedCaseV2Files, v2FoldFolder, v2PredictionFiles, v2ValidationFolder, V2_CHECKPOINT_FILES,
} from '../../io/layout';
import { readNpz } from '../../io/npz';
import { loadV2Model, type LoadedV2Model } from '../../network/v2/model-folder';
import type { CasePropertiesV2 } from '../../preprocessing/v2/run-case';
import type { PlansV2 } from '../../planning/v2/experiment';
import type { Shape3 } from '../../volume/crop';
import { exportForNextStagesV2, previousStageName, readPreviousStageSeg, type PreviousStageV2 } from './cascade';

export interface ValidateFoldV2Input {
  /** <results>/<Dataset>/<Trainer>__<Plans>__<configuration>. */
  modelDir: string;
  fold: number | 'all';
  /** nnUNet_preprocessed/<Dataset>: the preprocessed cases and gt_segmentations. */
  preprocessedDir: string;
  valCases: readonly string[];
  /** --val_best: checkpoint_best.pth instead of checkpoint_final.pth. */
  checkpoint?: 'final' | 'best';
  /** --npz: <case>.npz (softmax probabilities) + <case>.pkl next to each segmentation. */
  saveProbabilities?: boolean;
  /** 3d_cascade_fullres: where the previous stage's segmentations of the validation cases are (cascade.ts). */
  previousStage?: PreviousStageV2;
  log?: (line: string) => void;
}

export interface ValidateFoldV2Result { validationDir: string; summaryFile: string; summary: V2Summary }

/** One preprocessed case: data (C × z × y × x) and its properties (v2 pickles them; our preprocessing writes JSON). */
function readPreprocessedCase(dataFolder: string, caseId: string): { data: Float32Array; shape: Shape3; properties: CasePropertiesV2 } {
  const files = preprocessedCaseV2Files(dataFolder, caseId);
  if (!fs.existsSync(files.npz)) throw new BadInputError(`${files.npz}: validation case missing; run nnUNetv2_preprocess again`, files.npz);
  const data = readNpz(files.npz).data;
  if (!data || data.shape.length !== 4) throw new BadInputError(`${files.npz}: expected 'data' (C, z, y, x); preprocess again`, files.npz);
  let properties: CasePropertiesV2;
  try {
    properties = JSON.parse(fs.readFileSync(files.properties, 'utf8')) as CasePropertiesV2;
  } catch (err) {
    throw new BadInputError(`${files.properties}: cannot read the case properties (${(err as Error).message}); preprocess again`, files.properties);
  }
  const [, z, y, x] = data.shape as number[];
  return { data: Float32Array.from(data.data as ArrayLike<number>), shape: [z!, y!, x!], properties };
}

/** The network input of a case: the data, with the previous stage's one-hot foreground stacked on for a cascade. */
function networkInput(model: LoadedV2Model, input: ValidateFoldV2Input, caseId: string, c: { data: Float32Array; shape: Shape3 }): Float32Array {
  if (!previousStageName(model.configuration)) return c.data;
  if (!input.previousStage) throw new Error(`${input.modelDir}: a cascade stage validates with its previous stage's segmentations (ValidateFoldV2Input.previousStage)`);
  const prev = readPreviousStageSeg(input.previousStage, caseId);
  if (prev.shape.join(',') !== c.shape.join(',')) {
    throw new BadInputError(`${prev.file}: shape (${prev.shape.join(', ')}) differs from the preprocessed case's (${c.shape.join(', ')}); train ${input.previousStage.previous} again`, prev.file);
  }
  return withPreviousStage(c.data, prev.data, foregroundLabelsV2(model));
}

async function predictCases(model: LoadedV2Model, input: ValidateFoldV2Input, validationDir: string): Promise<void> {
  const dataFolder = dataFolderV2(input.preprocessedDir, String(model.configuration.data_identifier));
  const heads = model.description.numClasses;
  const exportModel = exportModelV2(model);
  const nextStage = {
    plans: model.plans as unknown as PlansV2, modelDir: input.modelDir, preprocessedDir: input.preprocessedDir, model: exportModel, heads,
    foregroundLabelCount: foregroundLabelsV2(model).length, log: input.log,
  };
  for (const caseId of input.valCases) {
    input.log?.(`predicting ${caseId}`);
    const c = readPreprocessedCase(dataFolder, caseId);
    const logits = await predictPreprocessedV2(model, networkInput(model, input, caseId, c), c.shape);
    const exported = exportLogitsV2(logits, heads, c.shape, c.properties, exportModel, input.saveProbabilities === true);
    await writeExportedCaseV2(v2PredictionFiles(validationDir, caseId, model.datasetJson.file_ending), exported, c.properties, heads, modelReaderWriter(model));
    exportForNextStagesV2(nextStage, caseId, logits, c.shape);
  }
}

/** Predicts and evaluates the fold's validation cases; returns v2's summary (foreground_mean.Dice is the headline). */
export async function validateFoldV2(input: ValidateFoldV2Input): Promise<ValidateFoldV2Result> {
  const checkpointName = V2_CHECKPOINT_FILES[input.checkpoint ?? 'final'];
  const model = loadV2Model(input.modelDir, { folds: [input.fold], checkpointName });
  const validationDir = v2ValidationFolder(v2FoldFolder(input.modelDir, input.fold));
  fs.mkdirSync(validationDir, { recursive: true });
  try {
    await predictCases(model, input, validationDir);
  } finally {
    model.dispose();
  }
  const gt = gtSegmentationsFolder(input.preprocessedDir);
  if (!fs.existsSync(gt)) throw new BadInputError(`${gt}: missing; nnUNetv2_preprocess writes the reference segmentations there, run it again`, gt);
  const { labelsOrRegions, ignoreLabel } = labelsFromDatasetJson(model.datasetJson.labels as Record<string, number | number[]>, datasetJsonFile(input.modelDir));
  const { summary, outputFile } = await evaluateFolderV2({
    referenceDir: gt, predictionDir: validationDir, fileEnding: model.datasetJson.file_ending, labelsOrRegions, ignoreLabel, chill: true,
  });
  input.log?.(`Mean Validation Dice:  ${summary.foreground_mean.Dice}`);
  return { validationDir, summaryFile: outputFile, summary };
}
