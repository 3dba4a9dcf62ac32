/**
 * Every activity the worker registers, by name. activities/ is two things: the domain library (each stage
 * folder's plain functions over files and arrays, which the CLI, tests and benchmarks also call directly) and,
 * in each stage's activity.ts, a thin adapter from the contract (contract.ts) to that library. This file only
 * gathers the adapters (the worker wraps them with logging context and error mapping). The stage order and
 * import rules: docs/architecture.md.
 */
import type { PipelineActivities, WorkerSettings } from './contract';
import { verifyDataset } from './io/activity';
import { fingerprint } from './fingerprint/activity';
import { plan } from './planning/activity';
import { preprocess } from './preprocessing/activity';
import { train } from './training/activity';
import { TrainingSlots } from './training/slots';
import { findBestConfiguration, predictTestSet } from './ensembling/activity';
import { postprocess } from './postprocessing/activity';

/** The pipeline's activities, run with this worker's settings (from its Config). */
export function createPipelineActivities(settings: WorkerSettings = {}): PipelineActivities {
  const trainingSlots = new TrainingSlots(settings); // one pool per worker: concurrent trainings take distinct slots
  return {
    verifyDataset,
    fingerprint,
    plan,
    preprocess,
    train: (input) => train(input, settings, trainingSlots),
    findBestConfiguration,
    postprocess,
    predictTestSet: (input) => predictTestSet(input, settings),
  };
}
