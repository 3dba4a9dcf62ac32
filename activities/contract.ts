/**
 * The activity contract: names, inputs and outputs of every pipeline step. Small JSON in, small JSON out;
 * volumes, weights and predictions stay on disk and travel as paths. Workflows import only these types.
 */

export const CONFIGURATIONS = ['2d', '3d_fullres', '3d_lowres', '3d_cascade_fullres'] as const;
export type Configuration = (typeof CONFIGURATIONS)[number];
export const FOLDS = [0, 1, 2, 3, 4] as const;
export type Fold = (typeof FOLDS)[number] | 'all';

export const TASK_QUEUES = { cpu: 'nnunet-cpu', gpu: 'nnunet-gpu' } as const;

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

/** Context every activity log line carries. */
export interface StepContext {
  task: string;
  configuration?: Configuration;
  fold?: Fold;
}

export interface VerifyInput { paths: TaskPaths }
export interface VerifyOutput { numTrainingCases: number; numTestCases: number; modalities: string[]; labels: Record<string, string> }

export interface FingerprintInput { paths: TaskPaths; numProcesses: number }
export interface FingerprintOutput { fingerprintFile: string; numCases: number }

export interface PlanInput {
  paths: TaskPaths;
  fingerprintFile: string;
  /** Planner name from the planner registry (default: nnU-Net v1's ExperimentPlanner3D_v21 + 2D_v21). */
  planner?: string;
  /** GPU memory target in GB (8 = nnU-Net's default). */
  gpuMemoryTargetGb?: number;
}
export interface PlanOutput {
  plansFiles: { '2d'?: string; '3d'?: string };
  plansIdentifier: string;
  /** The configurations planning created: 3d_lowres and 3d_cascade_fullres only when a lowres stage exists. */
  configurations: Configuration[];
}

export interface PreprocessInput { paths: TaskPaths; plansFile: string; configuration: Configuration; numProcesses: number }
export interface PreprocessOutput { dataDir: string; numCases: number }

export interface TrainInput {
  paths: TaskPaths;
  plansFile: string;
  configuration: Configuration;
  fold: Fold;
  trainer: string;
  epochs?: number;
  iterationsPerEpoch?: number;
  /** Continue from the newest valid checkpoint (nnUNet_train -c). Retries always continue. */
  continueTraining?: boolean;
  /** Keep the softmax of the validation cases (--npz), needed for ensembling. */
  saveSoftmax?: boolean;
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
  plansIdentifier: string;
  configurations: Configuration[];
  folds: Fold[];
  strict?: boolean;
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

export interface PostprocessInput { paths: TaskPaths; winner: CandidateResult; trainer: string; plansIdentifier: string; folds: Fold[] }
export interface PostprocessOutput { postprocessingFile: string; removeAllButLargestForeground: boolean; forClasses: number[]; diceBefore: number; diceAfter: number }

/** The activity interface the workflows proxy. Names are the registered activity names. */
export interface PipelineActivities {
  verifyDataset(input: VerifyInput): Promise<VerifyOutput>;
  fingerprint(input: FingerprintInput): Promise<FingerprintOutput>;
  plan(input: PlanInput): Promise<PlanOutput>;
  preprocess(input: PreprocessInput): Promise<PreprocessOutput>;
  train(input: TrainInput): Promise<TrainOutput>;
  findBestConfiguration(input: FindBestInput): Promise<FindBestOutput>;
  postprocess(input: PostprocessInput): Promise<PostprocessOutput>;
}
