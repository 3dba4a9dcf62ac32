/**
 * `nnunet train ... --via-temporal` (what nnUNet_train runs): one fold as its own durable workflow (foldWorkflow),
 * started or attached under an id naming the model folder and the fold, then followed like `nnunet run`.
 */
import type { TaskPaths, TrainInput } from '../activities/contract';
import type { Config } from '../config';
import type { FoldWorkflowInput } from '../workflows/fold';
import { foldWorkflowId } from '../workflows/state';
import { followWorkflow } from './run-task';

export interface FoldRunFlags {
  /** nnUNet_train -c: continue from the newest checkpoint; without it the fold starts over (nnU-Net's meaning). */
  continue?: boolean;
  json?: boolean;
  detach?: boolean;
}

function taskIdOf(taskName: string): number | string {
  const m = /^(?:Task|Dataset)(\d+)(?:_|$)/.exec(taskName);
  return m ? Number(m[1]) : taskName;
}

/** What -c (or its absence) meant for this call, said once the workflow is started or attached. */
function continueNote(input: TrainInput, flags: FoldRunFlags, attached: boolean, status: string): string {
  const fold = `${input.configuration} fold ${input.fold}`;
  if (attached && status === 'RUNNING') return `${fold} is already running (another call started it): attached to it, neither started over nor restarted`;
  if (input.validationOnly) return `-val: validating ${fold} again from its ${input.validationCheckpoint ?? 'final'} checkpoint, no training`;
  return flags.continue
    ? `-c: ${fold} continues from its newest valid checkpoint (a finished fold only validates what is missing)`
    : `no -c: ${fold} starts over (its checkpoints and validation are removed first, as nnU-Net trains from scratch); pass -c to continue instead`;
}

export async function runFoldCommand(config: Config, paths: TaskPaths, input: TrainInput, flags: FoldRunFlags): Promise<void> {
  const wfInput: FoldWorkflowInput = {
    train: { ...input, startOver: !flags.continue && !input.validationOnly },
    timing: { trainHeartbeatTimeoutMs: config.training.heartbeatTimeoutSeconds * 1000 },
  };
  const workflowId = foldWorkflowId(taskIdOf(paths.taskName), input.configuration, input.trainer, input.plansIdentifier ?? '', input.fold);
  // Every call is a new request (start over, continue or validate): a completed run is never just re-reported.
  const target = { workflowType: 'foldWorkflow' as const, workflowId, args: [wfInput], rerunCompleted: true };
  await followWorkflow(config, paths, flags, target, { afterStart: (attached, status) => continueNote(input, flags, attached, status) });
}
