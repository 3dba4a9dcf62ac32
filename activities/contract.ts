/**
 * The activity contract: names, inputs and outputs of every pipeline step. Small JSON in, small JSON out;
 * volumes, weights and predictions stay on disk and travel as paths. Workflows import only these types.
 */

export const CONFIGURATIONS = ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'] as const;
export type Configuration = (typeof CONFIGURATIONS)[number];
export const FOLDS = [0, 1, 2, 3, 4] as const;
export type Fold = (typeof FOLDS)[number] | 'all';

export const TASK_QUEUES = { cpu: 'nnunet-cpu', gpu: 'nnunet-gpu' } as const;

/** Failure types no retry can fix (BadInputError, OutOfMemoryError of common/errors.ts); every retry policy lists them. */
export const NON_RETRYABLE_TYPES = ['BadInput', 'OutOfMemory'] as const;

/** Where one task lives on disk, resolved by the client from config (absolute paths). */
export interface TaskPaths {
  /** e.g. Task004_Hippocampus (v1) or Dataset004_Hippocampus (v2). */
  taskName: string;
  /** The raw task folder holding dataset.json. */
  rawDir: string;
  /** nnUNet_raw_data_base/nnUNet_cropped_data/<task> */
  croppedDir: string;
  /** nnUNet_preprocessed/<task> */
  preprocessedDir: string;
  /** RESULTS_FOLDER/nnUNet (the configuration folders live below it). */
  resultsDir: string;
}

/**
 * Settings of the machine that runs the activities, from the worker's own Config (keys `worker.*`), not from the
 * task's input: they change how, not what, is computed, and may differ between the machines of one cluster.
 */
export interface WorkerSettings {
  /** Tensor backend: 'auto' (the best that works here) or one of network/backend.ts's ids. */
  backend?: string;
  /** Write model_latest.model every N epochs instead of nnU-Net's 50 (crash tests; machines with long epochs). */
  checkpointEveryEpochs?: number;
  /** Folders of the user's own trainer modules (`training.trainerPaths`), loaded by the training child process. */
  trainerPaths?: string[];
  /** Batch-producing threads of a training (`training.augmentationWorkers`); absent: cores − 1, 1 to 4. */
  augmentationWorkers?: number;
  /** 'bfloat16': the training's convolutions in bfloat16 (`training.precision`); absent: float32. */
  precision?: 'bfloat16';
  /**
   * GPUs this worker trains on, one training at a time on each: its training child sees only that GPU
   * (CUDA_VISIBLE_DEVICES). Ids as CUDA numbers them (`0`) or GPU UUIDs. Empty or absent: CPU slots (below).
   */
  trainingDevices?: string[];
  /** Trainings at once when there are no trainingDevices (CPU slots); default 1. */
  trainingSlots?: number;
}

/**
 * Which nnU-Net a step runs. Absent: nnU-Net v1 (inputs recorded before v2 existed replay unchanged); 'v2': nnU-Net
 * v2's method (activities/<stage>/v2), with v2's files: <preprocessed>/<Dataset>/<plans name>.json, and models under
 * `paths.resultsDir` = nnUNet_results/<Dataset>/<trainer>__<plans name>__<configuration>.
 */
export type Method = 'v2';

/** Context every activity log line carries. */
export interface StepContext {
  task: string;
  configuration?: Configuration;
  fold?: Fold;
}

export interface VerifyInput { paths: TaskPaths }
export interface VerifyOutput { numTrainingCases: number; numTestCases: number; modalities: string[]; labels: Record<string, string> }

export interface FingerprintInput { paths: TaskPaths; numProcesses: number; method?: Method }
export interface FingerprintOutput { fingerprintFile: string; numCases: number }

export interface PlanInput {
  paths: TaskPaths;
  fingerprintFile: string;
  /** Planner name from the planner registry (default: nnU-Net v1's ExperimentPlanner3D_v21 + 2D_v21). */
  planner?: string;
  /** GPU memory target in GB (8 = nnU-Net's default). */
  gpuMemoryTargetGb?: number;
  /** 'v2': `planner` is a v2 planner class (default ExperimentPlanner); writes <preprocessed>/<Dataset>/<plans name>.json. */
  method?: Method;
}
/**
 * The plans identifier of each plans kind. The 2D and 3D planners name their plans apart when the GPU memory target
 * is not the default (2D nnUNetPlansv2.1, 3D nnUNetPlansv2.1_big / _4GB ...), and training writes each configuration
 * under <trainer>__<its own identifier> (nnU-Net v1's -pl2d / -pl3d).
 */
export interface PlansIdentifiers { '2d'?: string; '3d'?: string }

/** The plans kind a configuration is trained from: 2d from the 2D plans, every other one from the 3D plans. */
export const plansKindOf = (configuration: Configuration): '2d' | '3d' => (configuration === '2d' ? '2d' : '3d');

/** Each kind's identifier: its own when given, else the single `plansIdentifier` (inputs recorded before the split). */
export function plansByKind(input: { plansIdentifier: string; plansIdentifiers?: PlansIdentifiers }): Required<PlansIdentifiers> {
  const own = input.plansIdentifiers ?? {};
  return { '2d': own['2d'] ?? input.plansIdentifier, '3d': own['3d'] ?? input.plansIdentifier };
}

export interface PlanOutput {
  plansFiles: { '2d'?: string; '3d'?: string };
  /** The 3D plans' identifier (the 2D one when only 2D was planned). */
  plansIdentifier: string;
  /** Each planned kind's identifier; absent in results recorded before it existed (then `plansIdentifier` is both). */
  plansIdentifiers?: PlansIdentifiers;
  /** The configurations planning created: 3d_lowres and 3d_cascade_fullres only when a lowres stage exists. */
  configurations: Configuration[];
}

export interface PreprocessInput { paths: TaskPaths; plansFile: string; configuration: Configuration; numProcesses: number; method?: Method }
export interface PreprocessOutput { dataDir: string; numCases: number }

/**
 * How a fold's final validation predicts its held-out cases (and, for 3d_lowres, the cascade's next-stage maps):
 * nnU-Net's predict options. Both change the cross-validation Dice slightly; the defaults are nnU-Net's.
 */
export interface ValidationSettings {
  /** Mirroring test-time augmentation (off: 1 network pass per window instead of 8 in 3D, 4 in 2D). */
  tta: boolean;
  /** Sliding-window step as a fraction of the patch, in (0, 1]; 1 = no overlap between windows. */
  stepSize: number;
}

export const DEFAULT_VALIDATION: Readonly<ValidationSettings> = Object.freeze({ tta: true, stepSize: 0.5 });

export const describeValidation = (v: ValidationSettings): string => `mirroring TTA ${v.tta ? 'on' : 'off'}, step size ${v.stepSize}`;

/** Why `v` is not a usable validation setting (a message naming the field), or undefined when it is. */
export function validationSettingsProblem(v: ValidationSettings): string | undefined {
  if (typeof v.tta !== 'boolean') return `validation.tta must be true or false, got ${String(v.tta)}`;
  if (typeof v.stepSize !== 'number' || !(v.stepSize > 0 && v.stepSize <= 1)) return `validation.stepSize must be in (0, 1], got ${String(v.stepSize)}`;
  return undefined;
}

export interface TrainInput {
  paths: TaskPaths;
  plansFile: string;
  /** The plans' identifier (names the model folder); absent in inputs recorded before it: then read from plansFile's name. */
  plansIdentifier?: string;
  configuration: Configuration;
  fold: Fold;
  trainer: string;
  epochs?: number;
  iterationsPerEpoch?: number;
  /** Continue from the newest valid checkpoint (nnUNet_train -c). Retries always continue. */
  continueTraining?: boolean;
  /** Keep the softmax of the validation cases (--npz), needed for ensembling. */
  saveSoftmax?: boolean;
  /** The final validation's TTA and step size; absent = DEFAULT_VALIDATION (histories from before it replay). */
  validation?: ValidationSettings;
  /**
   * nnUNet_train without -c: start the fold over, once per token (the fold workflow's run id). The fold's
   * checkpoints and validation are removed the first time a token is seen; retries with it continue.
   */
  startOver?: string;
  /** nnUNet_train -val: validate the trained fold again, no training (from the final checkpoint, or the best one). */
  validationOnly?: boolean;
  validationCheckpoint?: 'final' | 'best';
  /** nnUNet_train --disable_validation_inference: train, skip the validation. */
  skipValidation?: boolean;
  /** nnUNet_train --disable_next_stage_pred: 3d_lowres writes no pred_next_stage maps. */
  skipNextStage?: boolean;
  /** nnUNet_train -pretrained_weights FILE: a fold starting at epoch 0 takes this checkpoint's weights first. */
  pretrainedWeights?: string;
  /** nnUNet_train --disable_postprocessing_on_folds: the validation decides no fold postprocessing (no fold_X/postprocessing.json). */
  skipFoldPostprocessing?: boolean;
  /** nnUNet_train --val_folder NAME: the validation goes to fold_X/NAME (and NAME_postprocessed) instead of validation_raw. */
  validationFolderName?: string;
  /** nnUNet_train --val_disable_overwrite: cases already in the validation folder are kept, not predicted again. */
  keepExistingValidation?: boolean;
  /**
   * nnUNet_train --disable_saving: no model_best during training, and once the fold is validated its checkpoints
   * are removed (nnU-Net writes neither best nor final, and deletes model_latest at the end).
   */
  disableSaving?: boolean;
  /** nnU-Net v2: plansFile is the v2 plans json, paths.resultsDir is nnUNet_results, trainer a v2 trainer. */
  method?: 'v2';
  /** The v2 plans name (nnUNetPlans, nnUNetResEncUNetMPlans ...): the model folder's <trainer>__<plans>__<configuration>. */
  plansName?: string;
}
export interface TrainOutput {
  foldDir: string;
  finalCheckpoint: string;
  epochs: number;
  /** Mean foreground Dice on the fold's validation cases, when validation ran. */
  validationMeanDice?: number;
  /** How long the finishing attempt ran on its worker (excludes time queued for a training slot). */
  wallTimeMs?: number;
}

/** Details a training activity heartbeats; the workflow shows them in `state`. */
export interface TrainProgress {
  epoch: number;
  totalEpochs: number;
  trainLoss?: number;
  valLoss?: number;
  pseudoDice?: number[];
  checkpoint?: string;
}

export interface FindBestInput {
  paths: TaskPaths;
  trainer: string;
  /** Every configuration's plans identifier, unless `plansIdentifiers` names its kind's. */
  plansIdentifier: string;
  plansIdentifiers?: PlansIdentifiers;
  configurations: Configuration[];
  folds: Fold[];
  strict?: boolean;
  /** nnU-Net's --disable_postprocessing: no postprocessing.json for any candidate, no -pp in the printed commands. */
  disablePostprocessing?: boolean;
  /** 'v2': v2's find_best_configuration (plansIdentifier = the plans name); it also determines the winner's postprocessing. */
  method?: Method;
}
export interface CandidateResult {
  name: string;
  configurations: Configuration[];
  meanForegroundDice: number;
  /** Cross-validation Dice per foreground label ("1", "2", ...). */
  dicePerClass?: Record<string, number>;
}
export interface FindBestOutput {
  winner: CandidateResult;
  candidates: CandidateResult[];
  /** Per-class cross-validation Dice of the winner. */
  winnerDicePerClass: Record<string, number>;
  predictCommands: string[];
}

export interface PostprocessInput {
  paths: TaskPaths;
  winner: CandidateResult;
  trainer: string;
  /** As in FindBestInput: the fallback for a kind absent from `plansIdentifiers`. */
  plansIdentifier: string;
  plansIdentifiers?: PlansIdentifiers;
  folds: Fold[];
  /** nnUNet_determine_postprocessing -val NAME: the folds' validation folder to pool (default validation_raw). */
  validationFolderName?: string;
  /** 'v2': reports the postprocessing v2's find-best determined for the winner (postprocessing.pkl beside its predictions). */
  method?: Method;
}
export interface PostprocessOutput { postprocessingFile: string; removeAllButLargestForeground: boolean; forClasses: number[]; diceBefore: number; diceAfter: number }

/** The test set (the raw task's imagesTs) predicted with find-best's winner and its postprocessing. */
export interface PredictTestSetInput {
  paths: TaskPaths;
  winner: CandidateResult;
  trainer: string;
  plansIdentifier: string;
  plansIdentifiers?: PlansIdentifiers;
  /** 'v2': v2's predictor (the winner's folds; an ensemble's members averaged) and the winner's postprocessing.pkl. */
  method?: Method;
}
export interface PredictTestSetOutput { outputDir: string; cases: number }

/** The activity interface the workflows proxy. Names are the registered activity names. */
export interface PipelineActivities {
  verifyDataset(input: VerifyInput): Promise<VerifyOutput>;
  fingerprint(input: FingerprintInput): Promise<FingerprintOutput>;
  plan(input: PlanInput): Promise<PlanOutput>;
  preprocess(input: PreprocessInput): Promise<PreprocessOutput>;
  train(input: TrainInput): Promise<TrainOutput>;
  findBestConfiguration(input: FindBestInput): Promise<FindBestOutput>;
  postprocess(input: PostprocessInput): Promise<PostprocessOutput>;
  predictTestSet(input: PredictTestSetInput): Promise<PredictTestSetOutput>;
}
