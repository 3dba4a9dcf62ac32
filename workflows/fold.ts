/**
 * foldWorkflow: one fold of one configuration, as `nnUNet_train CONFIG TRAINER TASK FOLD` asks for it. Its id names
 * the model folder and the fold (foldWorkflowId), so any number of folds train at once, each durably: a crash, a
 * lost worker or a Ctrl-C of the client resumes from the newest checkpoint when the same command runs again. The
 * data must be preprocessed (as nnU-Net expects); the training activity says so clearly when it is not.
 * It answers the task workflow's `state` query and `cancel` signal with its single node, so the client's live
 * view, `nnunet status` and `nnunet cancel` work on it unchanged.
 */
import { ActivityFailure, CancellationScope, CancelledFailure, ApplicationFailure, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { PipelineActivities, TrainInput } from '../activities/contract';
import { nodeIds } from './dag';
import { cancelSignal, taskStateQuery } from './definitions';
import type { StepTiming } from './options';
import type { DagNode, FoldResult, TaskState } from './state';
import { failedAttempt, failureMessage, stepOptions } from './task';

export interface FoldWorkflowInput {
  /** The train activity's input; `startOver: true` means nnUNet_train without -c (the run id becomes the token). */
  train: Omit<TrainInput, 'startOver'> & { startOver?: boolean };
  timing?: StepTiming;
}

const now = (): string => new Date().toISOString(); // workflow time: deterministic

export async function foldWorkflow(input: FoldWorkflowInput): Promise<FoldResult> {
  const { train: ask, timing } = input;
  const node: DagNode = {
    id: nodeIds.train(ask.configuration, ask.fold), kind: 'train', configuration: ask.configuration, fold: ask.fold, status: 'running', attempt: 1, startedAt: now(),
  };
  const result: FoldResult = { task: ask.paths.taskName, configurations: [ask.configuration], startedAt: node.startedAt, notes: [] };
  let status: TaskState['status'] = 'running';
  const scope = new CancellationScope();
  setHandler(taskStateQuery, (): TaskState => ({
    workflowId: workflowInfo().workflowId, task: ask.paths.taskName, status, nodes: [node], result: status === 'completed' ? result : undefined, notes: result.notes,
  }));
  setHandler(cancelSignal, () => scope.cancel());
  // The first run of this workflow id's chain starts over; a retry of the activity keeps the same token and continues.
  const { startOver, ...rest } = ask;
  const trainInput: TrainInput = { ...rest, ...(startOver ? { startOver: workflowInfo().runId } : {}) };
  try {
    const acts = proxyActivities<PipelineActivities>(stepOptions('train', node.id, timing));
    const out = await scope.run(() => acts.train(trainInput));
    node.status = 'done';
    node.progress = { epoch: out.epochs, totalEpochs: out.epochs, checkpoint: out.finalCheckpoint };
    node.ranMs = out.wallTimeMs;
    const dice = out.validationMeanDice === undefined ? 'no validation' : `validation mean foreground Dice ${out.validationMeanDice.toFixed(4)}`;
    result.notes!.push(`${out.foldDir}: ${out.epochs} epochs, ${dice}`);
    result.trainOutput = out;
    result.training = [{ configuration: ask.configuration, fold: ask.fold, epochs: out.epochs, validationMeanDice: out.validationMeanDice, wallTimeMs: out.wallTimeMs ?? 0 }];
  } catch (err) {
    node.endedAt = now();
    if (isCancellation(err)) {
      node.status = 'cancelled';
      node.error = 'cancelled by request';
      status = 'cancelled';
      throw new CancelledFailure('fold workflow cancelled');
    }
    node.status = 'failed';
    node.error = failureMessage(err);
    node.attempt = failedAttempt(err) ?? node.attempt;
    status = 'failed';
    // The activity's own failure (type, message, attempt), so a parent task workflow reports it as before.
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure) throw ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, nonRetryable: true, details: cause.details as unknown[] | undefined });
    throw ApplicationFailure.nonRetryable(`${node.id} failed: ${node.error}`, 'NodeFailed');
  }
  node.endedAt = result.endedAt = now();
  result.wallTimeMs = Date.parse(result.endedAt) - Date.parse(result.startedAt!);
  status = 'completed';
  return result;
}
