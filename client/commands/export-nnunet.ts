/**
 * `nnunet export-nnunet -t TASK -m CONFIGURATION -o OUT [-f 0 1 ...] [--trainer T] [--plans P] [--checkpoint NAME]`:
 * writes a trained model of ours as nnU-Net v1's model folder under OUT/nnUNet/<configuration>/<task>/<trainer>__<plans>/,
 * so that `RESULTS_FOLDER=OUT nnUNet_predict ...` of nnU-Net v1 predicts with it (docs/interop.md, "nnU-Net v1 models").
 */
import type { Command } from 'commander';
import { configFor, printJson } from '../context';
import { resolveTask } from '../task-ref';
import { plansIdentifierFor, stageSettings } from '../settings';
import { DEFAULT_CHECKPOINT } from '../../activities/io/layout';
import { parseConfiguration, parseFolds } from './predict';

interface ExportOpts { task: string; configuration: string; output: string; folds?: string[]; trainer?: string; plans?: string; checkpoint?: string; json?: boolean }

export function register(program: Command): void {
  program
    .command('export-nnunet')
    .description('write a trained model as an nnU-Net v1 model folder (torch checkpoints, .model.pkl, plans.pkl) for nnU-Net\'s own nnUNet_predict')
    .requiredOption('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path')
    .requiredOption('-m, --configuration <name>', 'configuration (2d, 3d_lowres, 3d_fullres, 3d_cascade_fullres)')
    .requiredOption('-o, --output <dir>', 'the folder nnU-Net will use as RESULTS_FOLDER (the model lands in OUT/nnUNet/...)')
    .option('-f, --folds <folds...>', 'folds to export (default: every trained fold_N)')
    .option('--trainer <name>', 'trainer class name (default from config: training.trainer); nnU-Net must know this class')
    .option('--plans <id>', 'plans identifier (default: as planned with planning.gpuMemoryTargetGb)')
    .option('--checkpoint <name>', `checkpoint file name without .model (default ${DEFAULT_CHECKPOINT})`)
    .option('--json', 'print the result as JSON')
    .action(async (opts: ExportOpts, cmd: Command) => {
      const configuration = parseConfiguration(opts.configuration);
      const config = configFor(cmd);
      const { paths } = resolveTask(config, opts.task);
      const settings = stageSettings(config, { trainer: opts.trainer, plans: opts.plans, checkpoint: opts.checkpoint });
      const { exportNnunetModel } = await import('../../activities/inference/export-nnunet');
      const r = exportNnunetModel({
        paths, configuration, trainer: settings.trainer, plansIdentifier: plansIdentifierFor(settings, configuration),
        outputRoot: opts.output, folds: parseFolds(opts.folds), checkpoint: settings.checkpoint,
      });
      if (opts.json) printJson(r);
      else console.log(`exported folds ${r.folds.join(', ')} -> ${r.modelDir}\npredict with nnU-Net v1: RESULTS_FOLDER=${opts.output} nnUNet_predict -t ${paths.taskName} -m ${configuration} -tr ${settings.trainer} -p ${plansIdentifierFor(settings, configuration)} -i IN -o OUT`);
    });
}
