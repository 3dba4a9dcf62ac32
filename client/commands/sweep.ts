/**
 * `nnunet sweep -t 2 4 5 -c 2d 3d_fullres`: one sweep workflow running the task workflows as children (shared
 * with `nnunet run`: same workflow ids, same results), then a CSV + Markdown table of mean foreground Dice per
 * task and configuration, best configuration and wall time.
 */
import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../../config';
import type { Configuration, Fold } from '../../activities/contract';
import { sweepWorkflowId } from '../../workflows/state';
import type { SweepInput, SweepResult, SweepState } from '../../workflows/sweep-types';
import { configFor, positiveInt, printJson, UsageError, WorkFailedError } from '../context';
import { collect, disableTtaOption, parseConfiguration, parseFold, stepSizeOption, type ValidationFlags } from '../options';
import { resolveTask } from '../task-ref';
import { taskInput } from '../task-input';
import { sweepReportFolder } from '../../activities/io/layout';

interface SweepFlags extends ValidationFlags {
  tasks: string[];
  configurations?: Configuration[];
  folds?: Fold[];
  name?: string;
  trainer?: string;
  epochs?: number;
  iters?: number;
  maxConcurrent?: number;
  detach?: boolean;
  json?: boolean;
}

export function sweepInput(config: Config, flags: SweepFlags): SweepInput {
  const refs = flags.tasks.map((t) => resolveTask(config, t));
  const name = flags.name ?? [
    refs.map((r) => (r.id !== undefined ? String(r.id).padStart(3, '0') : r.paths.taskName)).join('-'),
    ...(flags.configurations ?? []),
  ].join('_');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--name ${name}: use letters, digits, '.', '_' and '-'`);
  const { options, timing } = taskInput(config, refs[0].paths, { ...flags, configurations: undefined });
  return {
    name,
    tasks: refs.map((r) => ({ taskId: r.id ?? r.paths.taskName, paths: r.paths })),
    configurations: flags.configurations,
    options,
    timing,
    maxConcurrentTasks: flags.maxConcurrent ?? 1,
    reportDir: sweepReportFolder(config.paths.results, name),
  };
}

function progressLine(s: SweepState): string {
  const done = s.outcomes.map((o) => `${o.workflowId} ${o.status}`).join(', ') || 'none';
  return `sweep ${s.name}: running [${s.running.join(', ')}], waiting ${s.waiting.length}, finished: ${done}`;
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description('benchmark several tasks × configurations × folds in one durable sweep workflow; writes a CSV + Markdown results table')
    .requiredOption('-t, --tasks <tasks...>', 'task ids or folder names (e.g. -t 2 4 5)')
    .option('-c, --configurations <configs...>', 'configurations (default: all that planning creates per task)', collect(parseConfiguration))
    .option('-f, --folds <folds...>', 'folds 0..4 and/or all (default: 0 1 2 3 4)', collect(parseFold))
    .option('--name <name>', 'sweep name (workflow id nnunet-sweep-<name>; default from tasks and configurations)')
    .option('--trainer <name>', 'trainer (default from config)')
    .option('--epochs <n>', 'epochs per fold (default from config)', positiveInt('--epochs'))
    .option('--iters <n>', 'iterations per epoch (default from config)', positiveInt('--iters'))
    .option('--max-concurrent <n>', 'task workflows at once (default 1)', positiveInt('--max-concurrent'))
    .addOption(disableTtaOption())
    .addOption(stepSizeOption())
    .option('--detach', 'start or attach, then return at once (needs a server that keeps running)')
    .option('--json', 'print the sweep result as JSON')
    .action(async (flags: SweepFlags, cmd: Command) => {
      const config = configFor(cmd);
      const input = sweepInput(config, flags);
      // Loaded here: Temporal's client takes a second to load, and `--help` should not pay for it.
      const { WorkflowFailedError } = await import('@temporalio/client');
      const { sweepStateQuery } = await import('../../workflows/definitions');
      const { openSession } = await import('../temporal/session');
      const { startOrAttachSweep } = await import('../temporal/task-client');
      const say = (m: string): void => { (flags.json ? process.stderr : process.stdout).write(`${m}\n`); };
      const embedded = !config.temporal.address;
      const session = await openSession(config, { worker: embedded && !flags.detach, say });
      const stop = new AbortController();
      // The SDK adds an abort listener per RPC (each long poll of result()) and never removes it (as in run-task.ts).
      setMaxListeners(0, stop.signal);
      const onSigint = (): void => { say('\ninterrupted: the sweep stays durable; run the same command again to continue'); stop.abort(); };
      process.once('SIGINT', onSigint);
      try {
        if (flags.detach && embedded && session.server?.owned) {
          throw new UsageError('--detach needs a server that keeps running: set TEMPORAL_ADDRESS, or start `nnunet server` and `nnunet worker` first');
        }
        const { handle, attached, status } = await startOrAttachSweep(session.client, input);
        say(`${attached ? 'attached to' : 'started'} ${sweepWorkflowId(input.name)} (${status.toLowerCase()}); report in ${input.reportDir}`);
        if (flags.detach) {
          if (flags.json) printJson({ workflowId: handle.workflowId, attached, status });
          return;
        }
        let last = '';
        // One state query at a time, awaited before the session closes: a query still retrying when the
        // connection shuts down throws from the SDK's retry timer ('Channel has been shut down') and kills the CLI.
        let inFlight: Promise<void> | undefined;
        const poll = setInterval(() => {
          inFlight ??= handle.query(sweepStateQuery).then((s) => {
            const line = progressLine(s);
            if (line !== last) say((last = line));
          }, () => {}).finally(() => { inFlight = undefined; });
        }, 2000);
        let result: SweepResult;
        try {
          // Cancelled on Ctrl-C, so the long poll never outlives the connection.
          result = await session.client.withAbortSignal(stop.signal, () => handle.result() as Promise<SweepResult>);
        } catch (err) {
          if (stop.signal.aborted) {
            process.exitCode = 130;
            return;
          }
          const why = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
          throw new WorkFailedError(`sweep ${input.name} failed: ${why}`);
        } finally {
          clearInterval(poll);
          // Bounded: with the server gone the query would retry for minutes.
          await Promise.race([inFlight, new Promise((r) => setTimeout(r, 10_000).unref())]);
        }
        if (flags.json) printJson(result);
        else {
          say(fs.existsSync(result.report.markdownFile) ? fs.readFileSync(result.report.markdownFile, 'utf8') : '');
          say(`report: ${[result.report.csvFile, result.report.markdownFile, result.report.plotFile].filter(Boolean).join('\n        ')}`);
        }
        if (result.rows.some((r) => r.status === 'failed')) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSigint);
        await session.close();
      }
    });
}
