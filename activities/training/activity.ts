/**
 * Activity `train`: one fold of one configuration (nnU-Net v1's, or v2's with TrainInput.method 'v2'), run in a
 * child process (train-process.ts) so the worker's event loop stays free for heartbeats and cancellation. Heartbeats carry TrainProgress after every epoch (and
 * the last one again every 30 s, so a long epoch does not trip the heartbeat timeout). The activity always
 * continues from the newest valid checkpoint, so a retry or a re-run after a crash loses at most the work
 * since the last checkpoint; a finished fold (final checkpoint + validation) returns at once. Temporal
 * cancellation asks the child to write a checkpoint and stop, then reports the cancellation.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NON_RETRYABLE_TYPES, type TrainInput, type TrainOutput, type TrainProgress, type WorkerSettings } from '../contract';
import { OutOfMemoryError } from '../common/errors';
import { describeSlot, slotEnvironment, TrainingSlots, type TrainingSlot } from './slots';
import { ChildTrainingError, runTrainingFoldInChild, type TrainRuntimeOptions } from './train-process';

const KEEPALIVE_MS = 30_000;

/** The worker's settings as the training child's runtime options (backend, checkpoints, where custom trainers are). */
function runtimeOf(settings: WorkerSettings, slot: TrainingSlot): TrainRuntimeOptions {
  const { backend, checkpointEveryEpochs, trainerPaths, augmentationWorkers, precision } = settings;
  return {
    ...(backend ? { backend } : {}), ...(checkpointEveryEpochs ? { checkpointEveryEpochs } : {}), ...(precision ? { precision } : {}),
    ...(augmentationWorkers !== undefined ? { numWorkers: augmentationWorkers } : {}),
    ...(trainerPaths?.length ? { trainerPaths } : {}), slot: describeSlot(slot),
  };
}

/** One fold in a training slot of this worker (`slots`: the worker's, shared by its concurrent trainings). */
export async function train(input: TrainInput, settings: WorkerSettings = {}, slots = new TrainingSlots(settings)): Promise<TrainOutput> {
  const started = Date.now();
  const ctx = Context.current();
  let last = ctx.info.heartbeatDetails as TrainProgress | undefined;
  if (last) ctx.log.info(`resuming after epoch ${last.epoch} of ${last.totalEpochs} (from the newest valid checkpoint)`);
  const beat = () => ctx.heartbeat(last);
  beat();
  // Well inside a short heartbeat timeout too (a cluster may set it below the keep-alive period).
  const keepalive = setInterval(beat, Math.min(KEEPALIVE_MS, (ctx.info.heartbeatTimeoutMs || Infinity) / 3));
  try {
    const result = await slots.run((slot) => {
      ctx.log.info(`training in ${describeSlot(slot)}`);
      return runTrainingFoldInChild({ ...input, continueTraining: true, runtime: runtimeOf(settings, slot) }, {
        env: slotEnvironment(slot),
        signal: ctx.cancellationSignal,
        onProgress: (p) => {
          last = p;
          beat();
          ctx.log.info(`epoch ${p.epoch}/${p.totalEpochs} train loss ${p.trainLoss?.toFixed(4)} val loss ${p.valLoss?.toFixed(4)} pseudo-Dice [${p.pseudoDice?.map((d) => d.toFixed(3)).join(', ')}]`);
        },
        onLog: (line) => ctx.log.debug(line),
      });
    }, ctx.cancellationSignal);
    if (result.status === 'stopped') {
      if (ctx.cancellationSignal.aborted) await ctx.cancelled; // rethrows the cancellation Temporal delivered
      throw new Error(`training stopped unexpectedly after epoch ${result.epoch}; state saved in ${result.checkpoint}`);
    }
    const { status: _status, ...output } = result;
    return { ...output, wallTimeMs: Date.now() - started };
  } catch (err) {
    if (err instanceof ChildTrainingError && (NON_RETRYABLE_TYPES as readonly string[]).includes(err.kind)) {
      throw ApplicationFailure.create({ type: err.kind, message: err.message, nonRetryable: true, details: err.file ? [{ file: err.file }] : [] });
    }
    if (err instanceof OutOfMemoryError) throw ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true });
    throw err;
  } finally {
    clearInterval(keepalive);
  }
}
