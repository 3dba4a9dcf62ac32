/**
 * Every activity the worker registers, by name. activities/ is two things: the domain library (each stage
 * folder's plain functions over files and arrays, which the CLI, tests and benchmarks also call directly) and,
 * in each stage's activity.ts, a thin adapter from the contract (contract.ts) to that library. This file only
 * gathers the adapters (the worker wraps them with logging context and error mapping). The stage order and
 * import rules: docs/architecture.md.
 */
import { Context } from '@temporalio/activity';
import type { PipelineActivities, WorkerSettings } from './contract';
import { requireSharedStorage, taskPathsOf } from './io/storage-marker';
import { verifyDataset } from './io/activity';
import { fingerprint } from './fingerprint/activity';
import { plan } from './planning/activity';
import { preprocess } from './preprocessing/activity';
import { train } from './training/activity';
import { TrainingSlots } from './training/slots';
import { findBestConfiguration, predictTestSet } from './ensembling/activity';
import { postprocess } from './postprocessing/activity';

/**
 * The activity, refusing to start on a worker that does not see the run's storage (io/storage-marker.ts): the
 * attempt fails retryably, logged as an error on this worker, and another worker takes the retry.
 */
function onSharedStorage<I, O>(name: string, activity: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input) => {
    const paths = taskPathsOf(input);
    if (paths) {
      try {
        requireSharedStorage(paths);
      } catch (err) {
        Context.current().log.error(`${name} refused: ${(err as Error).message}`);
        throw err;
      }
    }
    return activity(input);
  };
}

/** Every activity of `activities`, behind the shared-storage check. */
function guarded(activities: PipelineActivities): PipelineActivities {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) out[name] = onSharedStorage(name, fn as (input: unknown) => Promise<unknown>);
  return out as unknown as PipelineActivities;
}

/** The pipeline's activities, run with this worker's settings (from its Config). */
export function createPipelineActivities(settings: WorkerSettings = {}): PipelineActivities {
  const trainingSlots = new TrainingSlots(settings); // one pool per worker: concurrent trainings take distinct slots
  return guarded({
    verifyDataset,
    fingerprint,
    plan,
    preprocess,
    train: (input) => train(input, settings, trainingSlots),
    findBestConfiguration,
    postprocess,
    predictTestSet: (input) => predictTestSet(input, settings),
  });
}
