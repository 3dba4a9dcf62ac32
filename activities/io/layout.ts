/**
 * The on-disk layout: every folder and file name nnunet-ts reads or writes, computed from the task paths. Nothing
 * else builds such a path or parses one back (docs/layout.md draws the whole tree).
 *
 *   nnUNet_raw_data_base/nnUNet_raw_data/<task>/            raw task (dataset.json, imagesTr, labelsTr, imagesTs)
 *   nnUNet_raw_data_base/nnUNet_cropped_data/<task>/        cropped cases, gt_segmentations/, dataset_properties.json
 *   nnUNet_preprocessed/<task>/                             <plans id>_plans_3D.json / _2D.json, splits_final.json,
 *                                                           <data id>_stage<N>/, gt_segmentations/, dataset_properties.json
 *   RESULTS_FOLDER/nnUNet/<configuration>/<task>/<trainer>__<plans id>/   a model: plans.json, postprocessing.json,
 *       gt_niftis/, cv_niftis_raw/, cv_niftis_postprocessed/, pred_next_stage/ (3d_lowres), fold_N/ (checkpoints,
 *       debug.json, progress.png, validation_raw/ with summary.json and validation_args.json)
 *   RESULTS_FOLDER/nnUNet/ensembles/<task>/ensemble_<cfg>__<trainer>__<plans>--.../   ensembled_raw/, ensembled_postprocessed/
 *
 * <plans id> is each model's own identifier: 2d's from the 2D plans, the 3D configurations' from the 3D plans, which
 * differ with a non-default GPU memory target (ensemble_2d__T__nnUNetPlansv2.1--3d_fullres__T__nnUNetPlansv2.1_big).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { plansKindOf, type Configuration, type Fold, type PlansIdentifiers, type TaskPaths } from '../contract';
import { CASCADE_TRAINER, CHECKPOINT_NAMES, DEFAULT_LOWRES_TRAINER, DEFAULT_TRAINER, RESULT_FOLDERS, START_OVER_FILE } from './layout-names';

export * from './layout-names';

// ---- raw, cropped and preprocessed data ----------------------------------------------------------------------

/** The folders of nnUNet_raw_data_base that hold v1 raw tasks and their cropped data. */
export const rawTasksFolder = (rawDataBase: string): string => path.join(rawDataBase, 'nnUNet_raw_data');
export const croppedTasksFolder = (rawDataBase: string): string => path.join(rawDataBase, 'nnUNet_cropped_data');

/** Folder roots of the data (config paths; `raw`: nnU-Net v2's nnUNet_raw, holding Dataset folders). */
export interface LayoutRoots { rawDataBase: string; preprocessed: string; results: string; raw?: string }

/** The raw folder of a task by name: v2 Dataset folders under nnUNet_raw, v1 Task folders under nnUNet_raw_data. */
export function rawTaskFolder(taskName: string, roots: LayoutRoots): string {
  return taskName.startsWith('Dataset') ? path.join(roots.raw ?? roots.rawDataBase, taskName) : path.join(rawTasksFolder(roots.rawDataBase), taskName);
}

/** Every folder of a task, from its raw folder. */
export function taskPathsFor(rawDir: string, roots: LayoutRoots): TaskPaths {
  const taskName = path.basename(rawDir);
  return {
    taskName,
    rawDir: path.resolve(rawDir),
    croppedDir: path.resolve(croppedTasksFolder(roots.rawDataBase), taskName),
    preprocessedDir: path.resolve(roots.preprocessed, taskName),
    resultsDir: path.resolve(roots.results, 'nnUNet'),
  };
}

/** nnU-Net v2's folders of a dataset: as v1's, but models live under nnUNet_results itself (<results>/<Dataset>/...). */
export function taskPathsForV2(rawDir: string, roots: LayoutRoots): TaskPaths {
  return { ...taskPathsFor(rawDir, roots), resultsDir: path.resolve(roots.results) };
}

/** The configuration folders of the results tree (RESULTS_FOLDER/nnUNet/<configuration>). */
export function configurationFolders(results: string, configurations: readonly string[]): string[] {
  return configurations.map((c) => path.join(results, 'nnUNet', c));
}

/** The fingerprint, written into the cropped and the preprocessed folder. */
/**
 * The run's storage marker: written by the client that starts a task, checked by every activity of it, so a
 * worker that does not see the run's folders (no shared filesystem, a wrong mount) says so instead of working
 * on folders of its own (storage-marker.ts).
 */
export const storageMarkerFile = (paths: Pick<TaskPaths, 'resultsDir' | 'taskName'>): string =>
  path.join(paths.resultsDir, '.nnunet-storage', `${paths.taskName}.json`);

export const DATASET_PROPERTIES_FILE = 'dataset_properties.json';
export const datasetPropertiesFile = (dir: string): string => path.join(dir, DATASET_PROPERTIES_FILE);

/** nnU-Net v2's fingerprint (nnUNet_preprocessed/<dataset>/dataset_fingerprint.json). */
export const DATASET_FINGERPRINT_FILE = 'dataset_fingerprint.json';
export const datasetFingerprintFile = (preprocessedDir: string): string => path.join(preprocessedDir, DATASET_FINGERPRINT_FILE);
/** nnU-Net v2's plans (nnUNet_preprocessed/<dataset>/<plans name>.json, e.g. nnUNetPlans.json). */
export const plansV2File = (preprocessedDir: string, plansName: string): string => path.join(preprocessedDir, `${plansName}.json`);
/** nnU-Net v2's preprocessed data of one configuration (nnUNet_preprocessed/<dataset>/<data_identifier>/). */
export const dataFolderV2 = (preprocessedDir: string, dataIdentifier: string): string => path.join(preprocessedDir, dataIdentifier);
/** One preprocessed v2 case: <case>.npz (data, seg) and <case>.json (its properties; v2 writes a .pkl). */
export const preprocessedCaseV2Files = (dataFolder: string, caseId: string): { npz: string; properties: string } =>
  ({ npz: path.join(dataFolder, `${caseId}.npz`), properties: path.join(dataFolder, `${caseId}.json`) });

/**
 * The v2 training cache of a data folder: each <case>.npz unpacked to <case>.npy (channels + seg, float32) and
 * <case>.json (class locations as the v1 loader reads them), as v2 unpacks its .npz before training.
 */
export const v2UnpackedFolder = (dataFolder: string): string => path.join(dataFolder, 'unpacked_nnunet_ts');
/** One unpacked case in it, named as the v1 training loader (training/dataloader-cases.ts) reads it. */
export const unpackedCaseV2Files = (unpacked: string, caseId: string): { npy: string; properties: string } =>
  ({ npy: path.join(unpacked, `${caseId}.npy`), properties: path.join(unpacked, `${caseId}.json`) });

/** Reference segmentations: the cropped folder's, copied by preprocessing into the preprocessed folder. */
export const gtSegmentationsFolder = (dir: string): string => path.join(dir, 'gt_segmentations');
/** A case's ground truth there: NIfTI whatever the raw format, as the predictions it is compared with. */
export const gtSegmentationFile = (dir: string, caseId: string): string => path.join(gtSegmentationsFolder(dir), `${caseId}.nii.gz`);

export const SPLITS_FILE_NAME = 'splits_final.json';
export const splitsFile = (paths: Pick<TaskPaths, 'preprocessedDir'>): string => path.join(paths.preprocessedDir, SPLITS_FILE_NAME);
/** nnU-Net v1's split file; when present beside splits_final.json it wins (docs/interop.md). */
export const SPLITS_PKL_FILE_NAME = 'splits_final.pkl';
export const splitsPklFile = (paths: Pick<TaskPaths, 'preprocessedDir'>): string => path.join(paths.preprocessedDir, SPLITS_PKL_FILE_NAME);

/** <plans id>_plans_3D.json / _2D.json: 2d is trained from the 2D plans, every other configuration from the 3D plans. */
export function plansFileName(plansIdentifier: string, kind: '2d' | '3d'): string {
  return `${plansIdentifier}_plans_${kind === '3d' ? '3D' : '2D'}.json`;
}

export function plansFile(paths: Pick<TaskPaths, 'preprocessedDir'>, plansIdentifier: string, configurationOrKind: Configuration | '3d'): string {
  const kind = configurationOrKind === '3d' ? '3d' : plansKindOf(configurationOrKind);
  return path.join(paths.preprocessedDir, plansFileName(plansIdentifier, kind));
}

/**
 * The identifier a plans file is named by, for train inputs recorded before they carried it; undefined when the
 * name does not follow plansFileName.
 */
export function plansIdentifierOfLegacyFile(file: string): string | undefined {
  const m = /^(.+)_plans_(2|3)D\.json$/i.exec(path.basename(file));
  return m ? m[1] : undefined;
}

/** A configuration's preprocessed cases: <preprocessed>/<task>/<data identifier>_stage<N>. */
export function stageDataFolder(preprocessedDir: string, dataIdentifier: string, stageIndex: number): string {
  return path.join(preprocessedDir, `${dataIdentifier}_stage${stageIndex}`);
}

/** A preprocessed case as we write it: the (C+1, z, y, x) array with the segmentation last, and its properties. */
export const preprocessedCaseFiles = (stageDir: string, caseId: string): { data: string; properties: string } => ({
  data: path.join(stageDir, `${caseId}.npy`), properties: path.join(stageDir, `${caseId}.json`),
});
/**
 * The same case as nnU-Net v1 keeps it: `<case>.npz` (key `data`; its loader lists cases by these), the unpacked
 * `<case>.npy` it reads, and the properties pickle.
 */
export const nnunetCaseFiles = (stageDir: string, caseId: string): { npz: string; npy: string; pkl: string } => ({
  npz: path.join(stageDir, `${caseId}.npz`), npy: path.join(stageDir, `${caseId}.npy`), pkl: path.join(stageDir, `${caseId}.pkl`),
});
/** nnU-Net v1's own plans file in a preprocessed task folder: <plans id>_plans_3D.pkl / _2D.pkl. */
export function nnunetPlansPklFile(preprocessedDir: string, plansIdentifier: string, kind: '2d' | '3d'): string {
  return path.join(preprocessedDir, plansFileName(plansIdentifier, kind).replace(/\.json$/, '.pkl'));
}
/** nnU-Net v1's fingerprint file (ours: dataset_properties.json). */
export const datasetPropertiesPklFile = (dir: string): string => path.join(dir, 'dataset_properties.pkl');

// ---- results: models, folds, cross-validation, ensembles -----------------------------------------------------

/** One plans identifier for every configuration, or one per plans kind (see plansByKind in the contract). */
export type ModelPlans = string | Required<PlansIdentifiers>;

/** The plans identifier the configuration's model was trained with. */
export function plansFor(configuration: Configuration, plans: ModelPlans): string {
  return typeof plans === 'string' ? plans : plans[plansKindOf(configuration)];
}

/** nnU-Net runs 3d_cascade_fullres with its own trainer class (`-ctr`, default nnUNetTrainerV2CascadeFullRes). */
export function trainerFor(configuration: Configuration, trainer: string, cascadeTrainer?: string): string {
  if (configuration !== '3d_cascade_fullres') return trainer;
  return cascadeTrainer ?? (trainer === DEFAULT_TRAINER ? CASCADE_TRAINER : trainer);
}

export function modelFolder(paths: TaskPaths, configuration: Configuration, trainer: string, plans: ModelPlans): string {
  return path.join(paths.resultsDir, configuration, paths.taskName, `${trainerFor(configuration, trainer)}__${plansFor(configuration, plans)}`);
}

export function foldFolder(model: string, fold: Fold): string {
  return path.join(model, fold === 'all' ? 'all' : `fold_${fold}`);
}

/** Folds of a model folder nnU-Net predicts with by default: every fold_N present (not `all`). */
export function trainedFolds(model: string): Fold[] {
  if (!fs.existsSync(model)) return [];
  return fs.readdirSync(model).map((d) => /^fold_([0-4])$/.exec(d)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]) as Fold).sort();
}

/** The plans a model was trained with, copied into the model folder by training. */
export const modelPlansFile = (model: string): string => path.join(model, 'plans.json');

/** A checkpoint of a fold by name without extension (model_final_checkpoint, model_latest, model_best). */
export const checkpointFile = (foldDir: string, name: string): string => path.join(foldDir, `${name}.model`);

/** The checkpoint file names training writes. */
export const CHECKPOINT_FILES = {
  final: `${CHECKPOINT_NAMES.final}.model`,
  latest: `${CHECKPOINT_NAMES.latest}.model`,
  best: `${CHECKPOINT_NAMES.best}.model`,
} as const;

/** The fold's files beside the checkpoints. */
export const debugFile = (foldDir: string): string => path.join(foldDir, 'debug.json');
export const progressPlotFile = (foldDir: string): string => path.join(foldDir, 'progress.png');
/** nnUNet_train --find_lr's plot of loss against learning rate. */
export const lrFinderPlotFile = (foldDir: string): string => path.join(foldDir, 'lr_finder.png');

/** nnU-Net's log name: training_log_2026_11_27_11_04_23.txt. */
export function trainingLogFile(foldDir: string, d = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return path.join(foldDir, `training_log_${d.getFullYear()}_${d.getMonth() + 1}_${d.getDate()}_${two(d.getHours())}_${two(d.getMinutes())}_${two(d.getSeconds())}.txt`);
}

/** A fold's validation predictions (validation_raw/, or nnUNet_train --val_folder's name) and the arguments they were made with. */
export const validationFolder = (foldDir: string, name: string = RESULT_FOLDERS.validation): string => path.join(foldDir, name);
/** Where a fold's validation under `name` goes once postprocessed (nnU-Net's validate(): `<name>_postprocessed`). */
export const validationPostprocessedName = (name: string): string =>
  name === RESULT_FOLDERS.validation ? RESULT_FOLDERS.validationPostprocessed : `${name}_postprocessed`;
export const VALIDATION_ARGS_FILE = 'validation_args.json';
export const startOverFile = (foldDir: string): string => path.join(foldDir, START_OVER_FILE);
export const validationArgsFile = (foldDir: string, name?: string): string => path.join(validationFolder(foldDir, name), VALIDATION_ARGS_FILE);

/** The evaluation of a folder of predictions. */
export const summaryFile = (dir: string): string => path.join(dir, 'summary.json');
/** The postprocessing rules of a model or ensemble folder (and of a prediction folder they were applied to). */
export const postprocessingFile = (dir: string): string => path.join(dir, 'postprocessing.json');

/** The pooled cross-validation of a model: all folds' validation_raw (raw) and postprocessed. */
export const cvRawFolder = (model: string): string => path.join(model, RESULT_FOLDERS.cvRaw);
export const cvPostprocessedFolder = (model: string): string => path.join(model, RESULT_FOLDERS.cvPostprocessed);

/** The model's own gt_niftis folder (nnU-Net copies the reference segmentations there after validating a fold). */
export const modelGtNiftisFolder = (model: string): string => path.join(model, RESULT_FOLDERS.gtNiftis);

/** The model's gt_niftis (nnU-Net copies them there after validation), else the preprocessed gt_segmentations. */
export function gtFolder(model: string, preprocessedDir: string): string {
  const own = path.join(model, RESULT_FOLDERS.gtNiftis);
  return fs.existsSync(own) ? own : gtSegmentationsFolder(preprocessedDir);
}

/** find-best's outputs: RESULTS_FOLDER/nnUNet/ensembles/<task> (prediction_commands.txt, summary.csv, ensembles). */
export const ensemblesFolder = (paths: TaskPaths): string => path.join(paths.resultsDir, 'ensembles', paths.taskName);
export const predictionCommandsFile = (paths: TaskPaths): string => path.join(ensemblesFolder(paths), 'prediction_commands.txt');
export const findBestSummaryCsv = (paths: TaskPaths): string => path.join(ensemblesFolder(paths), 'summary.csv');

/** nnU-Net's ensemble folder name: ensemble_<cfg>__<trainer>__<plans>--<cfg>__<trainer>__<plans>. */
export function ensembleFolder(paths: TaskPaths, configurations: readonly Configuration[], trainer: string, plans: ModelPlans): string {
  const names = configurations.map((c) => `${c}__${trainerFor(c, trainer)}__${plansFor(c, plans)}`);
  return path.join(ensemblesFolder(paths), `ensemble_${names.join('--')}`);
}
export const ensembledRawFolder = (ensemble: string): string => path.join(ensemble, RESULT_FOLDERS.ensembledRaw);

// ---- the cascade and predictions -----------------------------------------------------------------------------

/** `.../3d_lowres/<task>/<lowres trainer>__<plans id>/pred_next_stage`: the 3d_lowres maps the cascade trains on. */
export function nextStageFolder(paths: TaskPaths, plansIdentifier: string, lowresTrainer = DEFAULT_LOWRES_TRAINER): string {
  return path.join(modelFolder(paths, '3d_lowres', lowresTrainer, plansIdentifier), RESULT_FOLDERS.predNextStage);
}

/** A case's previous-stage map in pred_next_stage (nnU-Net writes .npz; .npy lets the loader read one slab). */
export const segFromPrevStageFile = (dir: string, caseId: string): string => path.join(dir, `${caseId}_segFromPrevStage.npy`);

/** Where nnUNet_predict of 3d_cascade_fullres puts its own 3d_lowres pass when no -l folder is given. */
export const lowresPredictionsFolder = (outputDir: string): string => path.join(outputDir, '3d_lowres_predictions');

// ---- nnunet-ts's own bookkeeping beside nnU-Net's files ------------------------------------------------------

/** The digest of the fold predictions a pooled folder (cv_niftis_raw, ensembled_raw) was built from, beside it. */
export const sourcesDigestFile = (outDir: string): string => path.join(path.dirname(outDir), `.${path.basename(outDir)}.sources.sha256`);
/** What the postprocessing of a model or ensemble folder was determined from. */
export const postprocessingManifestFile = (dir: string): string => path.join(dir, '.postprocessing.manifest.json');

// ---- raw task contents, predictions and reports the CLI points at ----------------------------------------------

/** A task folder's dataset.json (raw; copied into the cropped and preprocessed folders by the fingerprint). */
export const datasetJsonFile = (dir: string): string => path.join(dir, 'dataset.json');
/** The raw task's test images (nnU-Net's imagesTs). */
export const testImagesFolder = (paths: Pick<TaskPaths, 'rawDir'>): string => path.join(paths.rawDir, 'imagesTs');

/** Where the commands printed after a run predict into: RESULTS_FOLDER/predictions/<task>/<winner>[/<configuration>]. */
export function predictionsFolder(paths: TaskPaths, winner: string, part?: string): string {
  const dir = path.join(path.dirname(paths.resultsDir), 'predictions', paths.taskName, winner);
  return part === undefined ? dir : path.join(dir, part);
}

/** A sweep's report folder: RESULTS_FOLDER/sweeps/<name>. */
export const sweepReportFolder = (results: string, name: string): string => path.join(results, 'sweeps', name);

// ---- model zips (nnUNet_export_model_to_zip / nnUNet_install_pretrained_model_from_zip) ------------------------

/** RESULTS_FOLDER/nnUNet: nnU-Net's network_training_output_dir, the root model zips are relative to. */
export const networkTrainingOutputFolder = (results: string): string => path.join(results, 'nnUNet');
/** nnU-Net's own plans file of a model folder (ours is modelPlansFile). */
export const modelPlansPklFile = (model: string): string => path.join(model, 'plans.pkl');
/** The trainer description nnU-Net keeps beside a checkpoint. */
export const checkpointPklFile = (checkpoint: string): string => `${checkpoint}.pkl`;
export const networkArchitectureFile = (foldDir: string): string => path.join(foldDir, 'network_architecture.pdf');
/** Downloaded model zips, kept (and resumed) here until installed: RESULTS_FOLDER/nnUNet/.downloads/<name>. */
export const downloadedZipFile = (results: string, name: string): string => path.join(networkTrainingOutputFolder(results), '.downloads', name);

// --- nnU-Net v2 model folders (<nnUNet_results>/DatasetXXX_Name/<trainer>__<plans>__<configuration>/)

/** A v2 fold folder: fold_0 ... fold_4, and fold_all for a model trained on every case. */
export const v2FoldFolder = (model: string, fold: number | string): string => path.join(model, `fold_${fold}`);
/** Folds of a v2 model folder that hold this checkpoint (nnUNetPredictor.auto_detect_available_folds: never fold_all). */
export function v2TrainedFolds(model: string, checkpointName: string): number[] {
  if (!fs.existsSync(model)) return [];
  return fs.readdirSync(model).map((d) => /^fold_(\d+)$/.exec(d)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1])).filter((f) => fs.existsSync(path.join(v2FoldFolder(model, f), checkpointName)))
    .sort((a, b) => a - b);
}
export const v2CheckpointFile = (model: string, fold: number | 'all', checkpointName: string): string => path.join(v2FoldFolder(model, fold), checkpointName);

// ---- nnU-Net v2's results tree: nnUNet_results/DatasetXXX_NAME/... ------------------------------------------------

/** A v2 model folder: <results>/<dataset>/<trainer>__<plans>__<configuration>. */
export const v2ModelFolder = (results: string, dataset: string, trainer: string, plans: string, configuration: string): string =>
  path.join(results, dataset, `${trainer}__${plans}__${configuration}`);
/** One case predicted by nnU-Net v2's predictor: <case><file_ending>, and with --save_probabilities <case>.npz + <case>.pkl. */
export const v2PredictionFiles = (outputDir: string, caseId: string, fileEnding: string): { segmentation: string; probabilities: string; properties: string } =>
  ({ segmentation: path.join(outputDir, caseId + fileEnding), probabilities: path.join(outputDir, `${caseId}.npz`), properties: path.join(outputDir, `${caseId}.pkl`) });
/** What nnUNetPredictor.predict_from_files leaves beside the predictions: its arguments, dataset.json and plans.json. */
export const v2PredictionArgsFile = (outputDir: string): string => path.join(outputDir, 'predict_from_raw_data_args.json');
/** v2's determine_postprocessing outputs in a prediction folder: the rules and their report, and the postprocessed copies. */
export const v2PostprocessingFiles = (predictionsDir: string): { pkl: string; json: string; postprocessedDir: string } => ({
  pkl: path.join(predictionsDir, 'postprocessing.pkl'), json: path.join(predictionsDir, 'postprocessing.json'), postprocessedDir: path.join(predictionsDir, 'postprocessed'),
});
/** A raw dataset's reference label maps (nnUNet_raw/<Dataset>/labelsTr). */
export const rawLabelsFolder = (rawDir: string): string => path.join(rawDir, 'labelsTr');
/** A v2 fold's validation predictions and their summary.json: fold_X/validation. */
export const v2ValidationFolder = (foldDir: string): string => path.join(foldDir, RESULT_FOLDERS.v2Validation);
/** A v2 stage's segmentations for its next stage (3d_cascade_fullres): <model>/predicted_next_stage/<next configuration>. */
export const v2PredictedNextStageFolder = (model: string, nextConfiguration: string): string => path.join(model, RESULT_FOLDERS.v2PredictedNextStage, nextConfiguration);
/** A case's segmentation there (nnUNetDatasetNumpy.save_seg: `seg`, (z, y, x), uint8). */
export const v2NextStageSegFile = (folder: string, caseId: string): string => path.join(folder, `${caseId}.npz`);
/** v2's pooled cross-validation of some folds: crossval_results_folds_0_1_2_3_4. */
export const v2CrossvalFolder = (model: string, folds: readonly string[]): string => path.join(model, `crossval_results_folds_${folds.join('_')}`);
/** v2's ensembles of a dataset: <results>/<dataset>/ensembles/ensemble___<model>___<model>___<folds>. */
export const v2EnsemblesFolder = (results: string, dataset: string): string => path.join(results, dataset, 'ensembles');
/** find_best_configuration's outputs beside the model folders. */
export const v2InferenceInformationFiles = (results: string, dataset: string): string[] =>
  ['inference_information.json', 'inference_information.txt'].map((f) => path.join(results, dataset, f));
/** What nnUNetv2_find_best_configuration writes beside the model folders. */
export const v2FindBestFiles = (results: string, dataset: string): { information: string; instructions: string } =>
  ({ information: path.join(results, dataset, 'inference_information.json'), instructions: path.join(results, dataset, 'inference_instructions.txt') });
/**
 * The test set `nnunet run --method v2` predicts with find-best's winner: <results>/predictions/<dataset>/<winner>/
 * with each member's raw predictions in <configuration>/, an ensemble's average in ensemble/, and the winner's
 * postprocessing applied in postprocessed/ (v1's test set goes to the same predictions/<task>/ tree).
 */
export const v2TestSetFolder = (results: string, dataset: string, winner: string, part: string): string => path.join(results, 'predictions', dataset, winner, part);
/** The part of v2TestSetFolder holding a cascade member's previous stage (its -prev_stage_predictions). */
export const v2PreviousStagePart = (previousConfiguration: string): string => `prev_stage_${previousConfiguration}`;
/** A v2 model zip being downloaded (resumable) before it is installed: <results>/.downloads/<name>. */
export const v2DownloadedZipFile = (results: string, name: string): string => path.join(results, '.downloads', name);
/** The marker `nnunet move-to-v2` leaves in a v1 model folder it placed into the v2 tree (io/move-to-v2.ts). */
export const v1ModelMarkerFile = (modelDir: string): string => path.join(modelDir, 'nnunet_ts_v1_model.json');
