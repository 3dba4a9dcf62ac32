/** `nnunet status -t 4`: the task's DAG as a tree with progress bars; --json prints the state raw; --watch follows it. */
import type { Command } from 'commander';
import { configFor, printJson, UsageError, WorkFailedError } from '../context';
import { resolveTask } from '../task-ref';

interface StatusFlags {
  task: string;
  json?: boolean;
  watch?: boolean;
}

export function register(program: Command): void {
  program
    .command('status')
    .description("show a task's pipeline state: every step with status, attempt, times, errors and training progress")
    .requiredOption('-t, --task <task>', 'task id (4) or folder name (Task004_Hippocampus)')
    .option('--json', 'print the raw state as JSON')
    .option('--watch', 'keep refreshing until the task ends')
    .action(async (flags: StatusFlags, cmd: Command) => {
      const config = configFor(cmd);
      // Loaded here: Temporal's client takes a second to load, and `--help` should not pay for it.
      const { openSession } = await import('../temporal/session');
      const { describeTaskState, taskWorkflowIdFor } = await import('../temporal/task-client');
      const { renderTaskState } = await import('../render/tree');
      const { watchTask } = await import('../render/watch');
      const { outcomeLines, readTaskView } = await import('../task-view');
      const paths = resolveTask(config, flags.task).paths;
      const workflowId = taskWorkflowIdFor(paths.taskName);
      const say = (m: string): void => { process.stderr.write(`${m}\n`); };
      // Embedded: uses the server a running `nnunet run`/`nnunet server` started, else starts one headless.
      const session = await openSession(config, { ui: false, queryWorker: true, say: flags.json ? () => {} : say });
      try {
        const view = await readTaskView(session.client, workflowId);
        if (!view) throw new UsageError(`no workflow ${workflowId} on ${session.address}: start it with \`nnunet run -t ${flags.task}\``);
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
