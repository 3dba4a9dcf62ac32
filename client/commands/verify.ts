/**
 * `nnunet verify -t TASK [--json] [--strict-geometry]`: nnU-Net's --verify_dataset_integrity on its own. Reads
 * every file of the task, lists every problem (case and file), writes nothing. Exit 1 when the dataset is bad.
 */
import type { Command } from 'commander';
import { BadInputError } from '../../activities/common/errors';
import { resolveTask } from '../../activities/io/dataset';
import { formatProblem, verifyDatasetFolder } from '../../activities/io/verify';
import { configFor, printJson, UsageError } from '../context';

interface VerifyOpts { task: string; json?: boolean; strictGeometry?: boolean }

export function register(program: Command): void {
  program
    .command('verify')
    .description('check a task folder as nnU-Net\'s verify_dataset_integrity does (files, shapes, geometry, labels, NaN)')
    .requiredOption('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path of the task folder')
    .option('--strict-geometry', 'treat image/label origin and direction mismatches as errors (nnU-Net only warns)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: VerifyOpts, cmd: Command) => {
      const { paths } = configFor(cmd);
      let rawDir: string;
      try {
        rawDir = resolveTask(opts.task, paths).rawDir;
      } catch (err) {
        if (err instanceof BadInputError) throw new UsageError(err.message);
        throw err;
      }
      const report = await verifyTask(rawDir, { strictGeometry: opts.strictGeometry, json: opts.json });
      if (opts.json) printJson(report);
      if (!report.ok) process.exitCode = 1;
    });
}

/** Verifies one task folder, listing its problems unless json (the caller prints the report); shared with plan-and-preprocess. */
export async function verifyTask(rawDir: string, opts: { strictGeometry?: boolean; json?: boolean } = {}) {
  const report = await verifyDatasetFolder(rawDir, { strictGeometry: opts.strictGeometry });
  if (!opts.json) {
    // Problems (and warnings) are diagnostics: stderr; the verdict of a good dataset is the output: stdout.
    for (const p of report.problems) console.error(formatProblem(p));
    const nErr = report.problems.filter((p) => p.severity === 'error').length;
    const s = report.summary;
    if (report.ok && s) {
      console.log(`${rawDir}: OK (${s.numTrainingCases} training, ${s.numTestCases} test cases; modalities ${s.modalities.join(', ')}; labels ${Object.values(s.labels).join(', ')})`);
    } else {
      console.error(`${rawDir}: ${nErr} problem${nErr === 1 ? '' : 's'}`);
    }
  }
  return report;
}
