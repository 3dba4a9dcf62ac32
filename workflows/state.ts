/**
 * The task workflow's observable state (query `state`): one node per DAG step. Pure types, shared by the
 * workflow (which maintains it) and the client (which renders it).
 */
import type { Configuration, Fold, TrainOutput, TrainProgress, FindBestOutput, PostprocessOutput, PredictTestSetOutput } from '../activities/contract';

/**
 * `queued` is the client's view only: the workflow scheduled the step (it says `running`) but no worker has picked
 * it up yet, e.g. folds waiting for the one training slot (describeTaskState tells them apart).
 */
export type NodeStatus = 'pending' | 'queued' | 'running' | 'done' | 'failed' | 'skipped' | 'cancelled';

export type NodeKind = 'verify' | 'fingerprint' | 'plan' | 'preprocess' | 'train' | 'findBest' | 'postprocess' | 'predict';

export interface DagNode {
  /** Stable id: `verify`, `preprocess/3d_fullres`, `train/3d_lowres/2`, ... */
  id: string;
  kind: NodeKind;
  configuration?: Configuration;
  fold?: Fold;
  status: NodeStatus;
  attempt: number;
  /** ISO times (workflow time, deterministic). */
  startedAt?: string;
  endedAt?: string;
  error?: string;
  /** How long the step itself ran on a worker, when known (training); startedAt..endedAt includes time queued. */
  ranMs?: number;
  /** Training nodes only: the latest heartbeat details. */
  progress?: TrainProgress;
  /** Ids of the nodes this one waits for. */
  dependsOn?: string[];
}

export interface TaskState {
  workflowId: string;
  task: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  nodes: DagNode[];
  result?: TaskResult;
  /** Why selected configurations or folds were dropped or added (e.g. no lowres stage planned). */
  notes?: string[];
}

export interface TaskResult {
  task: string;
  configurations: Configuration[];
  best?: FindBestOutput;
  postprocessing?: PostprocessOutput;
  /** The test set predicted with the winner (nnunet run --predict). */
  prediction?: PredictTestSetOutput;
  /** One row per trained fold. */
  training?: TrainedFold[];
  /** Workflow time when the task started and ended (ISO), and the wall time between them. */
  startedAt?: string;
  endedAt?: string;
  wallTimeMs?: number;
  notes?: string[];
}

export interface TrainedFold {
  configuration: Configuration;
  fold: Fold;
  epochs: number;
  validationMeanDice?: number;
  wallTimeMs: number;
}

export const taskWorkflowId = (taskId: number | string): string =>
  typeof taskId === 'number' ? `nnunet-task-${String(taskId).padStart(3, '0')}` : `nnunet-task-${taskId}`;
export const sweepWorkflowId = (name: string): string => `nnunet-sweep-${name}`;
/**
 * One fold's workflow (nnUNet_train): `nnunet-fold-004-3d_fullres-nnUNetTrainerV2__nnUNetPlansv2.1-0`, one per model
 * folder and fold, so five calls for folds 0-4 run side by side and a second call for the same fold attaches.
 */
export const foldWorkflowId = (taskId: number | string, configuration: Configuration, trainer: string, plansIdentifier: string, fold: Fold): string =>
  foldWorkflowIdUnder(taskWorkflowId(taskId), configuration, trainer, plansIdentifier, fold);
/** The fold workflow id under a task workflow's id: `nnunet-task-004` gives nnUNet_train's ids; other ids (tests) prefix theirs. */
export const foldWorkflowIdUnder = (taskWorkflowIdValue: string, configuration: Configuration, trainer: string, plansIdentifier: string, fold: Fold): string =>
  `${taskWorkflowIdValue.startsWith('nnunet-task-') ? taskWorkflowIdValue.replace('nnunet-task-', 'nnunet-fold-') : `${taskWorkflowIdValue}-fold`}-${configuration}-${trainer}__${plansIdentifier}-${fold}`;
/**
 * One nnU-Net v2 fold's workflow (nnUNetv2_train): `nnunet-v2-fold-Dataset004_Hippocampus-nnUNetTrainer__nnUNetPlans__3d_fullres-0`,
 * named by the Dataset and the v2 model folder: apart from v1's ids, as Task004 and Dataset004 may both exist.
 */
export const v2FoldWorkflowId = (dataset: string, trainer: string, plansName: string, configuration: string, fold: Fold): string =>
  `nnunet-v2-fold-${dataset}-${trainer}__${plansName}__${configuration}-${fold}`;

/** A fold workflow's result: the task result of its one fold, plus the training's own output (for a parent task workflow). */
export interface FoldResult extends TaskResult {
  trainOutput?: TrainOutput;
}
