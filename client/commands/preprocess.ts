/**
 * `nnunet preprocess -t TASK [-c CONFIG ...] [-p N] [--json]`: nnU-Net v1's preprocessing of every planned
 * configuration (or those named) into <preprocessed>/<task>/<data identifier>_stage<N>. Per-case idempotent.
 * `--method v2`: nnU-Net v2's DefaultPreprocessor from a v2 plans.json instead (method-v2.ts).
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { CONFIGURATIONS, plansKindOf, type Configuration, type PlansIdentifiers, type TaskPaths } from '../../activities/contract';
import { plansFile } from '../../activities/io/layout';
import { readPlansFile } from '../../activities/planning/plans-file';
import { hasLowresStage } from '../../activities/planning/plans';
import { runPreprocess } from '../../activities/preprocessing/preprocess';
import { configFor, positiveInt, printJson, UsageError } from '../context';
import { resolveTask } from '../task-ref';
import { stageSettings } from '../settings';
import { assertOutputFoldersWritable } from '../output-folders';
import { methodOf, preprocessV2 } from './method-v2';

interface PreprocessOpts { task: string; configurations?: string[]; plansIdentifier?: string; processes?: number; method?: string; plansFile?: string; json?: boolean }

const plansFileFor = (paths: TaskPaths, ids: Required<PlansIdentifiers>, configuration: Configuration): string =>
  plansFile(paths, ids[plansKindOf(configuration)], configuration);

/** Every configuration the plans on disk allow (the cascade's fullres shares 3d_fullres's data). */
export function plannedConfigurations(paths: TaskPaths, ids: Required<PlansIdentifiers>): Configuration[] {
  const out: Configuration[] = [];
  if (fs.existsSync(plansFileFor(paths, ids, '2d'))) out.push('2d');
  const p3 = plansFileFor(paths, ids, '3d_fullres');
  if (fs.existsSync(p3)) out.push('3d_fullres', ...(hasLowresStage(readPlansFile(p3)) ? (['3d_lowres'] as const) : []));
  return out;
}

export function register(program: Command): void {
  program
    .command('preprocess')
    .description('resample, normalize and store the cropped cases for each planned configuration')
    .requiredOption('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path of the task folder')
    .option('-c, --configurations <names...>', `configurations (${CONFIGURATIONS.join(', ')}); default: all planned`)
    .option('--plans-identifier <id>', 'plans identifier of the plans files (default: as planned with planning.gpuMemoryTargetGb)')
    .option('-p, --processes <n>', 'worker threads (nnU-Net -tl/-tf); default: config numProcesses', positiveInt('--processes'))
    .option('--method <v1|v2>', 'v1: nnU-Net v1; v2: nnU-Net v2 DefaultPreprocessor from a v2 plans.json', 'v1')
    .option('--plans-file <file>', 'v2: the plans.json (default <preprocessed>/<task>/<--plans-identifier or nnUNetPlans>.json)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: PreprocessOpts, cmd: Command) => {
      const config = configFor(cmd);
      const { paths } = resolveTask(config, opts.task);
      assertOutputFoldersWritable(config, ['preprocessed']);
      if (methodOf(opts.method) === 'v2') {
        const results = await preprocessV2(paths, { plansFile: opts.plansFile, plansName: opts.plansIdentifier, configurations: opts.configurations,
          numProcesses: opts.processes ?? config.numProcesses, json: opts.json });
        if (opts.json) printJson(results);
        return;
      }
      for (const c of opts.configurations ?? []) {
        if (!(CONFIGURATIONS as readonly string[]).includes(c)) throw new UsageError(`unknown configuration "${c}"; use ${CONFIGURATIONS.join(', ')}`);
      }
      const settings = stageSettings(config, { plans: opts.plansIdentifier, processes: opts.processes });
      const ids = settings.plansIdentifiers;
      const configurations = (opts.configurations as Configuration[] | undefined) ?? plannedConfigurations(paths, ids);
      if (configurations.length === 0) {
        throw new UsageError(`task ${opts.task}: no ${[...new Set([ids['2d'], ids['3d']])].join(' / ')} plans in ${paths.preprocessedDir}; run \`nnunet plan -t ${opts.task}\` first`);
      }
      const results = await preprocessTask(paths, opts.task, configurations, { plansIdentifiers: ids, numProcesses: settings.numProcesses, json: opts.json });
      if (opts.json) printJson(results);
    });
}

export interface PreprocessTaskOptions {
  plansIdentifiers: Required<PlansIdentifiers>;
  numProcesses: number;
  /** Worker threads for 3d_lowres (nnU-Net's -tl); default numProcesses. */
  numProcessesLowres?: number;
  /** Print nothing (the caller prints the returned results as JSON). */
  json?: boolean;
}

/** Preprocesses the given configurations of one task in order; shared with plan-and-preprocess. */
export async function preprocessTask(paths: TaskPaths, taskRef: string, configurations: Configuration[], opts: PreprocessTaskOptions) {
  const results = [];
  for (const configuration of configurations) {
    const file = plansFileFor(paths, opts.plansIdentifiers, configuration);
    if (!fs.existsSync(file)) throw new UsageError(`${file}: no such plans file; run \`nnunet plan -t ${taskRef}\` first`);
    const t0 = Date.now();
    const r = await runPreprocess(paths, file, configuration, {
      numProcesses: (configuration === '3d_lowres' ? opts.numProcessesLowres : undefined) ?? opts.numProcesses,
      onProgress: opts.json || !process.stderr.isTTY ? undefined : (done, total) => process.stderr.write(`\r${configuration}: ${done}/${total} cases`),
    });
    if (!opts.json && process.stderr.isTTY && r.computedCases > 0) process.stderr.write('\n');
    const seconds = (Date.now() - t0) / 1000;
    results.push({ configuration, ...r, seconds });
    if (!opts.json) console.log(`${configuration}: ${r.dataDir} (${r.numCases} cases, ${r.computedCases} computed, ${seconds.toFixed(1)} s)`);
  }
  return results;
}
