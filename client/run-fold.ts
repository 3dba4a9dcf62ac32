/**
 * `nnunet train ... --via-temporal` (what nnUNet_train runs) and nnUNetv2_train: one fold as its own durable
 * workflow (foldWorkflow), started or attached under an id naming the model folder and the fold, then followed
 * like `nnunet run`.
 */
import type { TaskPaths, TrainInput } from '../activities/contract';
import type { Config } from '../config';
import type { FoldWorkflowInput } from '../workflows/fold';
import type { Client } from '@temporalio/client';
import { nodeIds } from '../workflows/dag';
import { taskStateQuery } from '../workflows/definitions';
import { foldWorkflowId, v2FoldWorkflowId } from '../workflows/state';
import { UsageError } from './context';
import { followWorkflow } from './run-task';
import { taskWorkflowIdFor, v2TaskWorkflowIdFor } from './temporal/task-client';

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
  // nnUNetv2_train spells them --c and --val.
  const [c, val] = input.method === 'v2' ? ['--c', '--val'] : ['-c', '-val'];
  if (attached && status === 'RUNNING') return `${fold} is already running (another call started it): attached to it, neither started over nor restarted`;
  if (input.validationOnly) return `${val}: validating ${fold} again from its ${input.validationCheckpoint ?? 'final'} checkpoint, no training`;
  return flags.continue
    ? `${c}: ${fold} continues from its newest valid checkpoint (a finished fold only validates what is missing)`
    : `no ${c}: ${fold} starts over (its checkpoints and validation are removed first, as nnU-Net trains from scratch); pass ${c} to continue instead`;
}

/** The fold's workflow id: nnUNet_train's, or nnUNetv2_train's (named by the Dataset and the v2 model folder). */
function foldWorkflowIdOf(paths: TaskPaths, input: TrainInput): string {
  if (input.method === 'v2') return v2FoldWorkflowId(paths.taskName, input.trainer, input.plansName ?? '', input.configuration, input.fold);
  return foldWorkflowId(taskIdOf(paths.taskName), input.configuration, input.trainer, input.plansIdentifier ?? '', input.fold);
}

/** The `nnunet run` workflow that would train this fold: v1's, or the v2 run of the fold's plans. */
function runningTaskWorkflowIdOf(paths: TaskPaths, input: TrainInput): string {
  return input.method === 'v2' ? v2TaskWorkflowIdFor(paths.taskName, input.plansName ?? '') : taskWorkflowIdFor(paths.taskName);
}

/**
 * `nnunet run` trains each fold as a child fold workflow with this same id: a running one is simply attached to, and
 * a fold the running task has not started yet is trained here while the task, reaching it, waits for this workflow
 * and uses its result (workflows/task.ts). Only a fold the task trains as a plain activity (runs recorded before the
 * fold workflow) would be trained twice into one folder: refused.
 */
export async function refuseFoldOfRunningTask(client: Client, paths: TaskPaths, input: TrainInput, foldWorkflowIdValue: string): Promise<void> {
  const taskWorkflowId = runningTaskWorkflowIdOf(paths, input);
  const handle = client.workflow.getHandle(taskWorkflowId);
  let state;
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return;
    state = await handle.query(taskStateQuery);
  } catch {
    return; // no task workflow (or no worker answering its query): nothing to collide with
  }
  const node = state.nodes.find((n) => n.id === nodeIds.train(input.configuration, input.fold));
  if (node?.status === 'pending') {
    process.stderr.write(`${paths.taskName} ${input.configuration} fold ${input.fold} is also part of the running workflow ${taskWorkflowId}, which will wait for this training and use it\n`);
    return;
  }
  if (node && (node.status === 'running' || node.status === 'queued')) {
    const fold = await client.workflow.getHandle(foldWorkflowIdValue).describe().catch(() => undefined);
    if (fold?.status.name === 'RUNNING') return;
    const v2 = input.method === 'v2' ? ' --method v2' : '';
    throw new UsageError(`${paths.taskName} ${input.configuration} fold ${input.fold} is being trained by the running \`nnunet run${v2}\` workflow ${taskWorkflowId} (${node.status}); `
      + `follow it with \`nnunet run -t ${paths.taskName}${v2}\` (or \`nnunet status${v2}\`), and train this fold on its own once that run has ended`);
  }
}

export async function runFoldCommand(config: Config, paths: TaskPaths, input: TrainInput, flags: FoldRunFlags): Promise<void> {
  const wfInput: FoldWorkflowInput = {
    train: { ...input, startOver: !flags.continue && !input.validationOnly },
    timing: { trainHeartbeatTimeoutMs: config.training.heartbeatTimeoutSeconds * 1000 },
  };
  const workflowId = foldWorkflowIdOf(paths, input);
  // Every call is a new request (start over, continue or validate): a completed run is never just re-reported.
  const target = { workflowType: 'foldWorkflow' as const, workflowId, args: [wfInput], rerunCompleted: true };
  const beforeStart = (client: Client) => refuseFoldOfRunningTask(client, paths, input, workflowId);
  await followWorkflow(config, paths, flags, target, { beforeStart, afterStart: (attached, status) => continueNote(input, flags, attached, status) });
}
