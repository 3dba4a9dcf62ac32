/**
 * `nnunet fingerprint -t TASK [-p N] [--json]`: crop every training case into nnUNet_cropped_data/<task> and write
 * <preprocessed>/<task>/dataset_properties.json (nnU-Net v1's cropping + DatasetAnalyzer). Returns at once when
 * the fingerprint is current. `--method v2`: nnU-Net v2's dataset_fingerprint.json instead (method-v2.ts). Exit 1 on a bad dataset (the message names the file).
 */
import type { Command } from 'commander';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { configFor, positiveInt, printJson } from '../context';
import { resolveTask } from '../task-ref';
import { assertOutputFoldersWritable } from '../output-folders';
import type { TaskPaths } from '../../activities/contract';
import { fingerprintV2, methodOf } from './method-v2';

interface FingerprintOpts { task: string; processes?: number; method?: string; json?: boolean }

export function register(program: Command): void {
  program
    .command('fingerprint')
    .description('crop cases to their nonzero region and write the dataset fingerprint (dataset_properties.json)')
    .requiredOption('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path of the task folder')
    .option('-p, --processes <n>', 'worker threads (nnU-Net -tf); default: config numProcesses', positiveInt('--processes'))
    .option('--method <v1|v2>', 'v1: nnU-Net v1 (cropped data + dataset_properties.json); v2: nnU-Net v2 (dataset_fingerprint.json)', 'v1')
    .option('--json', 'print the result as JSON')
    .action(async (opts: FingerprintOpts, cmd: Command) => {
      const config = configFor(cmd);
      const method = methodOf(opts.method);
      const { paths } = resolveTask(config, opts.task);
      assertOutputFoldersWritable(config, method === 'v2' ? ['preprocessed'] : ['cropped data', 'preprocessed']);
      const numProcesses = opts.processes ?? config.numProcesses;
      const r = method === 'v2' ? await fingerprintV2(paths, numProcesses, opts.json) : await fingerprintTask(paths, numProcesses, opts.json);
      if (opts.json) printJson(r);
    });
}

/** Crops and fingerprints one task; prints a line unless json (the caller prints the result); shared with plan-and-preprocess. */
export async function fingerprintTask(paths: TaskPaths, numProcesses: number, json?: boolean) {
  const t0 = Date.now();
  const r = await runFingerprint(paths, {
    numProcesses,
    onProgress: json || !process.stderr.isTTY ? undefined : (done, total) => process.stderr.write(`\rfingerprint ${done}/${total} cases`),
  });
  if (!json && process.stderr.isTTY && r.computed) process.stderr.write('\n');
  const seconds = (Date.now() - t0) / 1000;
  if (!json) console.log(`${r.fingerprintFile}: ${r.numCases} cases (${r.computed ? `computed in ${seconds.toFixed(1)} s` : 'up to date'})`);
  return { ...r, seconds };
}
