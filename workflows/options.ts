/**
 * Input of the task workflow: where the task lives, what to run, and per-step Temporal timing.
 * Pure types and defaults, shared by workflows and client.
 */
import { TASK_QUEUES, type TaskPaths } from '../activities/contract';
import type { DagOptions } from './dag';

export interface TaskOptions extends DagOptions {
  /** Worker processes for fingerprint/preprocess (nnU-Net's -tf/-tl); default 8. */
  numProcesses?: number;
  /** Worker processes for 3d_lowres preprocessing (nnU-Net's -tl); default numProcesses. */
  numProcessesLowres?: number;
  /** Skip dataset verification (nnU-Net runs it only with --verify_dataset_integrity); default false. */
  skipVerify?: boolean;
  planner?: string;
  gpuMemoryTargetGb?: number;
  /** Keep validation softmax for ensembling; default true when find-best runs. */
  saveSoftmax?: boolean;
  /** nnUNet_train -c: continue from the newest checkpoint (retries always continue). */
  continueTraining?: boolean;
  /** find-best: fail when a fold's results are missing instead of using what exists. */
  strictFindBest?: boolean;
}

/** Temporal timing per step; milliseconds. Tests shorten these, users rarely touch them. */
export interface StepTiming {
  /** Training: how long one attempt may run (default 14 days). */
  trainStartToCloseMs?: number;
  /** Training: the activity heartbeats every epoch and every ≤ 30 s; a silent worker is presumed dead after this (default 1 min). */
  trainHeartbeatTimeoutMs?: number;
  /** CPU steps: how long one attempt may run (default 24 h). */
  cpuStartToCloseMs?: number;
  /** CPU steps: the worker heartbeats them every 10 s; a silent one is presumed lost after this (default 1 min). */
  cpuHeartbeatTimeoutMs?: number;
  /** Retries of transient faults: first delay (default 10 s), cap (default 10 min), attempts (default 5; 0 = unlimited). */
  retryInitialIntervalMs?: number;
  retryMaximumIntervalMs?: number;
  retryMaximumAttempts?: number;
  /** nnunet run: how often a training node re-checks whether the nnUNet_train fold workflow holding its id has ended (default 30 s). */
  runningFoldPollMs?: number;
}

export const DEFAULT_TIMING: Required<StepTiming> = {
  trainStartToCloseMs: 14 * 24 * 3600_000,
  trainHeartbeatTimeoutMs: 60_000,
  cpuStartToCloseMs: 24 * 3600_000,
  cpuHeartbeatTimeoutMs: 60_000,
  retryInitialIntervalMs: 10_000,
  retryMaximumIntervalMs: 10 * 60_000,
  retryMaximumAttempts: 5,
  runningFoldPollMs: 30_000,
};

/**
 * The heartbeat timeouts of workflows started before they became one minute (patch SHORT_HEARTBEATS_PATCH):
 * a replay of such a history must schedule its steps with the options it recorded.
 */
export const LEGACY_HEARTBEAT_TIMEOUTS: StepTiming = { trainHeartbeatTimeoutMs: 5 * 60_000, cpuHeartbeatTimeoutMs: 5 * 60_000 };
export const SHORT_HEARTBEATS_PATCH = 'one-minute-heartbeat-timeouts';

export interface TaskWorkflowInput {
  paths: TaskPaths;
  options?: TaskOptions;
  timing?: StepTiming;
}

/** Workflow tasks go to the CPU queue: every CPU worker also runs workflows; GPU workers run only training. */
export const WORKFLOW_TASK_QUEUE = TASK_QUEUES.cpu;
