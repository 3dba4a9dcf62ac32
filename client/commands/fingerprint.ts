/**
 * `nnunet fingerprint -t TASK [-p N] [--json]`: crop every training case into nnUNet_cropped_data/<task> and write
 * <preprocessed>/<task>/dataset_properties.json (nnU-Net v1's cropping + DatasetAnalyzer). Returns at once when
 * the fingerprint is current. Exit 1 on a bad dataset (the message names the file).
 */
import type { Command } from 'commander';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { configFor, positiveInt, printJson } from '../context';
import { resolveTask } from '../task-ref';

interface FingerprintOpts { task: string; processes?: number; json?: boolean }

export function register(program: Command): void {
  program
    .command('fingerprint')
    .description('crop cases to their nonzero region and write the dataset fingerprint (dataset_properties.json)')
    .requiredOption('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path of the task folder')
    .option('-p, --processes <n>', 'worker threads (nnU-Net -tf); default: config numProcesses', positiveInt('--processes'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: FingerprintOpts, cmd: Command) => {
      const config = configFor(cmd);
      const { paths } = resolveTask(config, opts.task);
      const t0 = Date.now();
      const r = await runFingerprint(paths, {
        numProcesses: opts.processes ?? config.numProcesses,
        onProgress: opts.json || !process.stderr.isTTY ? undefined : (done, total) => process.stderr.write(`\rfingerprint ${done}/${total} cases`),
      });
      if (!opts.json && process.stderr.isTTY && r.computed) process.stderr.write('\n');
      const seconds = (Date.now() - t0) / 1000;
      if (opts.json) printJson({ ...r, seconds });
      else console.log(`${r.fingerprintFile}: ${r.numCases} cases (${r.computed ? `computed in ${seconds.toFixed(1)} s` : 'up to date'})`);
    });
}
