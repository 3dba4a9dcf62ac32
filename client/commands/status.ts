/**
 * `nnunet status -t 4`: the task's DAG as a tree with progress bars; --json prints the state raw; --watch follows it.
 * `--workflow ID`: a fold workflow's single node instead (nnUNet_train's and nnUNetv2_train's print their id).
 * `--method v2 [--planner P]`: the `nnunet run --method v2` of that planner (its own workflow id); the defaults
 * come from the config (planning.method, planning.v2Planner) as for `nnunet run`.
 */
import type { Command } from 'commander';
import type { TaskPaths } from '../../activities/contract';
import { taskPathsForV2 } from '../../activities/io/layout';
import type { Config } from '../../config';
import { configFor, printJson, UsageError, WorkFailedError } from '../context';
import { methodFor, v2PlannerFor } from '../settings';
import { dataRoots, resolveTask } from '../task-ref';
import { taskWorkflowIdOf } from '../temporal/task-client';

export interface StatusFlags {
  task?: string;
  workflow?: string;
  method?: string;
  planner?: string;
  json?: boolean;
  watch?: boolean;
}

/**
 * The task a status call means and its workflow id: `nnunet run`'s id for the method and planner (flags, else the
 * config); v2 looks for a Dataset folder first, as `nnunet run --method v2` runs on one.
 */
export function statusTarget(config: Config, flags: StatusFlags): { paths: TaskPaths; workflowId: string } {
  const v2 = methodFor(config, flags.method) === 'v2';
  if (flags.planner && !v2) throw new UsageError('--planner names a v2 planner: add --method v2');
  const found = resolveTask(config, flags.task!, v2 ? 'Dataset' : 'Task').paths;
  const paths = v2 && found.taskName.startsWith('Dataset') ? taskPathsForV2(found.rawDir, dataRoots(config)) : found;
  const options = v2 ? { method: 'v2' as const, planner: v2PlannerFor(config, flags.planner) } : {};
  return { paths, workflowId: taskWorkflowIdOf({ paths, options }) };
}

export function register(program: Command): void {
  program
    .command('status')
    .description("show a task's pipeline state: every step with status, attempt, times, errors and training progress")
    .option('-t, --task <task>', 'task id (4) or folder name (Task004_Hippocampus)')
    .option('--method <v1|v2>', 'the run of this method (default from config: planning.method); v2 runs have their own workflow per planner')
    .option('--planner <class>', 'with --method v2: the v2 planner the run used (default from config: planning.v2Planner, else ExperimentPlanner)')
    .option('--workflow <id>', 'a fold workflow instead of the task workflow (the id nnUNet_train / nnUNetv2_train print: nnunet-fold-…, nnunet-v2-fold-…)')
    .option('--json', 'print the raw state as JSON')
    .option('--watch', 'keep refreshing until the task ends')
    .action(async (flags: StatusFlags, cmd: Command) => {
      const config = configFor(cmd);
      // Loaded here: Temporal's client takes a second to load, and `--help` should not pay for it.
      const { openSession } = await import('../temporal/session');
      const { describeTaskState } = await import('../temporal/task-client');
      const { renderTaskState } = await import('../render/tree');
      const { watchTask } = await import('../render/watch');
      const { outcomeLines, readTaskView } = await import('../task-view');
      if (!flags.task && !flags.workflow) throw new UsageError('which task? pass -t TASK (or --workflow ID for one fold\'s workflow)');
      const target = flags.task ? statusTarget(config, flags) : undefined;
      const paths = target?.paths;
      const workflowId = flags.workflow ?? target!.workflowId;
      const say = (m: string): void => { process.stderr.write(`${m}\n`); };
      // Embedded: uses the server a running `nnunet run`/`nnunet server` started, else starts one headless.
      const session = await openSession(config, { ui: false, queryWorker: true, say: flags.json ? () => {} : say });
      try {
        const view = await readTaskView(session.client, workflowId);
        if (!view) throw new UsageError(`no workflow ${workflowId} on ${session.address}${flags.workflow ? '' : `: start it with \`nnunet run -t ${flags.task}${methodFor(config, flags.method) === 'v2' ? ' --method v2' : ''}\``}`);
        if (flags.watch && view.status === 'RUNNING' && view.state && !flags.json) {
          const abort = new AbortController();
          process.once('SIGINT', () => abort.abort());
          await watchTask({ poll: () => describeTaskState(session.client, workflowId), signal: abort.signal });
          return;
        }
        if (flags.json) printJson(view);
        else {
          console.log(view.state ? renderTaskState(view.state, { color: process.stdout.isTTY === true }) : `${workflowId}: ${view.status.toLowerCase()}`);
          if (view.note) say(view.note);
          if (view.status !== 'RUNNING') for (const l of outcomeLines(view.state, view.result, undefined, paths)) console.log(l);
        }
        if (view.status === 'FAILED' || view.status === 'TERMINATED' || view.status === 'TIMED_OUT') {
          process.exitCode = new WorkFailedError('').exitCode;
        }
      } finally {
        await session.close();
      }
    });
}
