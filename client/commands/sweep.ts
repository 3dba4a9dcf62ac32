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
import type { SweepInput, SweepResult, SweepState, SweepTask } from '../../workflows/sweep-types';
import { configFor, positiveInt, printJson, UsageError, WorkFailedError } from '../context';
import { collect, disableTtaOption, parseConfiguration, parseFold, stepSizeOption, type ValidationFlags } from '../options';
import { resolveTask } from '../task-ref';
import { taskInput } from '../task-input';
import { sweepReportFolder } from '../../activities/io/layout';
import { taskWorkflowIdOf } from '../temporal/task-client';
import { v2DatasetPaths } from '../v2-dataset';

interface SweepFlags extends ValidationFlags {
  tasks: string[];
  configurations?: Configuration[];
  folds?: Fold[];
  name?: string;
  trainer?: string;
  epochs?: number;
  iters?: number;
  maxConcurrent?: number;
  /** Method variants, each a comma-separated list or one name per word: v1, v2, v2:<planner>. */
  variants?: string[];
  detach?: boolean;
  json?: boolean;
}

/** One method variant of `--variants`: v1, v2 (its default planner) or v2:<planner class>. */
export interface SweepVariant { name: string; method: 'v1' | 'v2'; planner?: string }

/** `--variants v1,v2,v2:nnUNetPlannerResEncM` (commas or spaces), else `sweep.variants` of the config; none: no variants. */
export function parseVariants(specs: readonly string[] | undefined): SweepVariant[] {
  const names = (specs ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const variants = names.map((name): SweepVariant => {
    const [method, planner, extra] = name.split(':');
    if ((method !== 'v1' && method !== 'v2') || extra !== undefined || (method === 'v1' && planner !== undefined) || planner === '') {
      throw new UsageError(`--variants ${name}: use v1, v2 or v2:<planner> (e.g. v2:nnUNetPlannerResEncM)`);
    }
    return { name, method, ...(planner ? { planner } : {}) };
  });
  const twice = variants.find((v, i) => variants.findIndex((w) => w.name === v.name) !== i);
  if (twice) throw new UsageError(`--variants: ${twice.name} is named twice`);
  return variants;
}

/** Each task once per variant: the variant's folders (v2: the Dataset), options and workflow id. */
async function variantTasks(config: Config, flags: SweepFlags, variants: readonly SweepVariant[], say: (m: string) => void): Promise<SweepTask[]> {
  const tasks: SweepTask[] = [];
  for (const spec of flags.tasks) {
    const ref = resolveTask(config, spec, 'Task');
    for (const v of variants) {
      const found = v.method === 'v2' ? resolveTask(config, spec, 'Dataset').paths : ref.paths;
      const paths = v.method === 'v2' ? await v2DatasetPaths(config, found, say) : found;
      const input = taskInput(config, paths, { ...flags, configurations: undefined, method: v.method, planner: v.planner });
      const o = input.options ?? {};
      const options = v.method === 'v2' ? { method: o.method, planner: o.planner, gpuMemoryTargetGb: o.gpuMemoryTargetGb, trainer: o.trainer } : {};
      tasks.push({ taskId: ref.id ?? ref.paths.taskName, paths, variant: v.name, workflowId: taskWorkflowIdOf(input), options, task: ref.paths.taskName });
    }
  }
  return tasks;
}

export async function sweepInput(config: Config, flags: SweepFlags, say: (m: string) => void = () => {}): Promise<SweepInput> {
  const variants = parseVariants(flags.variants ?? config.sweep?.variants);
  const refs = flags.tasks.map((t) => resolveTask(config, t, variants.length > 0 ? 'Task' : undefined));
  const name = flags.name ?? [
    refs.map((r) => (r.id !== undefined ? String(r.id).padStart(3, '0') : r.paths.taskName)).join('-'),
    ...(flags.configurations ?? []),
    ...variants.map((v) => v.name.replace(':', '-')),
  ].join('_');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--name ${name}: use letters, digits, '.', '_' and '-'`);
  // The sweep-wide options are v1's; a variant's own (method, planner, trainer) go with its tasks.
  const { options, timing } = taskInput(config, refs[0].paths, { ...flags, configurations: undefined, method: 'v1' });
  return {
    name,
    tasks: variants.length > 0 ? await variantTasks(config, flags, variants, say) : refs.map((r) => ({ taskId: r.id ?? r.paths.taskName, paths: r.paths })),
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
    .option('--variants <variants...>', 'run each task once per method variant and compare them in one report: v1, v2, v2:<planner> (e.g. v1,v2,v2:nnUNetPlannerResEncM; default from config: sweep.variants)')
    .addOption(disableTtaOption())
    .addOption(stepSizeOption())
    .option('--detach', 'start or attach, then return at once (needs a server that keeps running)')
    .option('--json', 'print the sweep result as JSON')
    .action(async (flags: SweepFlags, cmd: Command) => {
      const config = configFor(cmd);
      const say = (m: string): void => { (flags.json ? process.stderr : process.stdout).write(`${m}\n`); };
      const input = await sweepInput(config, flags, say);
      // Loaded here: Temporal's client takes a second to load, and `--help` should not pay for it.
      const { WorkflowFailedError } = await import('@temporalio/client');
      const { sweepStateQuery } = await import('../../workflows/definitions');
      const { openSession } = await import('../temporal/session');
      const { startOrAttachSweep } = await import('../temporal/task-client');
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
