/**
 * The workers: which task queues, which activities, how much runs at once. The CPU-queue worker also runs the
 * workflows; a GPU-queue worker runs as many trainings at once as it has training slots (one per GPU, or
 * `--slots N` on CPU; activities/training/slots.ts).
 * `nnunet run` (embedded) creates both in-process with queues 'all'; `nnunet worker --queue gpu` one.
 */
import * as os from 'node:os';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { TASK_QUEUES, type WorkerSettings } from '../activities/contract';
import { trainingSlotCount } from '../activities/training/slots';
import type { Config } from '../config';
import { trainingSlotsOf, type SlotChoice } from './gpus';
import { wrapActivities } from './wrap';

export type QueueSelection = 'cpu' | 'gpu' | 'all';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace?: string;
  queues: QueueSelection;
  /** Activity implementations by name; default: the pipeline's activities + the sweep report. Wrapped either way. */
  activities?: object;
  /** This machine's settings for the pipeline's activities (see workerSettingsOf); unused with `activities`. */
  settings?: WorkerSettings;
  /** Trainings at once on a GPU-queue worker; default: the settings' training slots (one per GPU, or CPU slots). */
  maxConcurrentTraining?: number;
  /** CPU activities at once on a CPU-queue worker (default: the number of cores). */
  maxConcurrentCpu?: number;
  /** A prebuilt workflow bundle (see bundleWorkflows); default: bundle workflows/ now (seconds). */
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
  /** How long running activities get to finish (e.g. checkpoint) when the worker shuts down; default 30 s. */
  shutdownGraceTimeMs?: number;
}

export interface NnunetWorkers {
  workers: Worker[];
  /** Runs until shutdown() (or a fatal worker error). */
  run(): Promise<void>;
  shutdown(): void;
}

/** The module the worker bundles: workflows/index (its .ts source under tsx, its .js under dist). */
export const workflowsPath = require.resolve('../workflows');

/** Bundles the workflow code once; pass the result as workflowBundle to skip re-bundling per worker. */
export async function bundleWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    process.stderr.write(`workflow bundle: ${message}\n`);
  },
  error(message: string) {
    process.stderr.write(`workflow bundle: ${message}\n`);
  },
};

/**
 * The settings of this machine's activities, from its Config (`worker.*`; env NNUNET_BACKEND,
 * NNUNET_CHECKPOINT_EVERY_EPOCHS) and the worker's `--gpus`/`--slots` (default: one slot per visible GPU, else
 * worker.maxConcurrentTraining CPU slots).
 */
export function workerSettingsOf(config: Config, slots: SlotChoice = {}): WorkerSettings {
  const { backend, checkpointEveryEpochs, maxConcurrentTraining } = config.worker;
  const { trainerPaths, augmentationWorkers, precision } = config.training;
  return {
    backend, ...(checkpointEveryEpochs ? { checkpointEveryEpochs } : {}), ...(trainerPaths.length > 0 ? { trainerPaths } : {}),
    ...(augmentationWorkers === 'auto' ? {} : { augmentationWorkers }), ...(precision === 'bfloat16' ? { precision } : {}),
    ...trainingSlotsOf(slots, maxConcurrentTraining),
  };
}

/** The pipeline's activities + the sweep report, loaded only when no others are given (they pull in the stages). */
async function defaultActivities(settings: WorkerSettings = {}): Promise<object> {
  const [{ createPipelineActivities }, { reportActivities }] = await Promise.all([import('../activities'), import('../activities/report/activity')]);
  return { ...createPipelineActivities(settings), ...reportActivities };
}

export async function createWorkers(opts: CreateWorkersOptions): Promise<NnunetWorkers> {
  const activities = wrapActivities(opts.activities ?? (await defaultActivities(opts.settings)));
  const common = {
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    activities,
    ...(opts.identity ? { identity: opts.identity } : {}),
    shutdownGraceTime: opts.shutdownGraceTimeMs ?? 30_000,
  };
  const workers: Worker[] = [];
  if (opts.queues !== 'gpu') {
    const bundle = opts.workflowBundle ?? (await bundleWorkflows());
    workers.push(await Worker.create({
      ...common,
      taskQueue: TASK_QUEUES.cpu,
      workflowBundle: bundle,
      maxConcurrentActivityTaskExecutions: opts.maxConcurrentCpu ?? Math.max(1, os.availableParallelism()),
    }));
  }
  if (opts.queues !== 'cpu') {
    workers.push(await Worker.create({
      ...common,
      taskQueue: TASK_QUEUES.gpu,
      maxConcurrentActivityTaskExecutions: opts.maxConcurrentTraining ?? trainingSlotCount(opts.settings),
    }));
  }
  return {
    workers,
    async run() {
      // If one worker fails, stop the others so run() settles instead of hanging half-alive.
      await Promise.all(workers.map((w) => w.run().catch((err) => {
        for (const other of workers) if (other !== w && other.getState() === 'RUNNING') other.shutdown();
        throw err;
      })));
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
