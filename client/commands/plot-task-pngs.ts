/**
 * `nnunet plot-task-pngs -t TASK -o OUT [--modality N] [--use-raw]` (nnUNet_plot_task_pngs): a PNG per training
 * case, the slice with the most foreground with the labels overlaid, to eyeball a dataset and its preprocessing.
 */
import type { Command } from 'commander';
import { DATA_IDENTIFIER_V21 } from '../../activities/planning/constants';
import { configFor, printJson, UsageError } from '../context';
import { resolveTask } from '../task-ref';

interface PlotOpts { task: string; output: string; modality: string; useRaw?: boolean; json?: boolean }

export function register(program: Command): void {
  program
    .command('plot-task-pngs')
    .description('write a PNG per training case: the slice with the most foreground, labels overlaid (nnUNet_plot_task_pngs)')
    .requiredOption('-t, --task <task>', 'task id (4), folder name or path')
    .requiredOption('-o, --output <dir>', 'output folder for CASE.png')
    .option('--modality <index>', 'modality index (0 = _0000.nii.gz)', '0')
    .option('--use-raw', 'plot the raw imagesTr/labelsTr instead of the preprocessed data')
    .option('--json', 'print the result as JSON')
    .action(async (opts: PlotOpts, cmd: Command) => {
      const modality = Number(opts.modality);
      if (!Number.isInteger(modality) || modality < 0) throw new UsageError(`-modality_idx takes an index >= 0, got '${opts.modality}'`);
      const { paths } = resolveTask(configFor(cmd), opts.task);
      const { plotTaskPngs } = await import('../../activities/io/task-pngs');
      const cases = await plotTaskPngs({
        rawDir: paths.rawDir, preprocessedDir: paths.preprocessedDir, dataIdentifier: DATA_IDENTIFIER_V21, outDir: opts.output, modality, useRaw: opts.useRaw,
      });
      if (opts.json) printJson({ outputDir: opts.output, cases });
      else console.log(`${cases.length} PNGs -> ${opts.output}`);
    });
}
