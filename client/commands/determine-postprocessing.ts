/**
 * `nnunet determine-postprocessing -m CONFIGURATION -t TASK [--trainer T] [--plans P]` (nnUNet_determine_postprocessing):
 * nnU-Net's consolidate_folds for one trained model: the folds' validation_raw pooled into cv_niftis_raw, the
 * connected-component rules decided on it, written as the model's postprocessing.json (which predict applies) and
 * cv_niftis_postprocessed. For a configuration chosen by hand instead of by find-best.
 */
import type { Command } from 'commander';
import { CONFIGURATIONS, FOLDS } from '../../activities/contract';
import { RESULT_FOLDERS } from '../../activities/io/layout';
import { configFor, printJson, UsageError } from '../context';
import { plansIdentifiersFor, stageSettings } from '../settings';
import { resolveTask } from '../task-ref';
import { parseConfiguration, parseFolds } from './predict';

interface DetermineOpts { configuration: string; task: string; trainer?: string; plans?: string; valFolder: string; folds?: string[]; json?: boolean }

const fmt = (v: number): string => (Number.isNaN(v) ? 'NaN' : v.toFixed(4));

export function register(program: Command): void {
  program
    .command('determine-postprocessing')
    .description('decide the postprocessing of one trained configuration from its cross-validation (nnUNet_determine_postprocessing)')
    .requiredOption('-m, --configuration <name>', `configuration (${CONFIGURATIONS.join(', ')})`)
    .requiredOption('-t, --task <task>', 'task id (4), folder name or path')
    .option('--trainer <name>', 'trainer class name (default from config: training.trainer; the cascade\'s own for 3d_cascade_fullres)')
    .option('--plans <id>', 'plans identifier (default: as planned)')
    .option('--val-folder <name>', `validation folder of the folds (nnUNet_train --val_folder's name)`, RESULT_FOLDERS.validation)
    .option('--folds <folds...>', 'cross-validation folds', FOLDS.map(String))
    .option('--json', 'print the result as JSON')
    .action(async (opts: DetermineOpts, cmd: Command) => {
      const configuration = parseConfiguration(opts.configuration);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(opts.valFolder)) throw new UsageError(`-val ${opts.valFolder}: a folder name inside each fold_X (e.g. ${RESULT_FOLDERS.validation})`);
      const config = configFor(cmd);
      const { paths } = resolveTask(config, opts.task);
      const plansIdentifiers = plansIdentifiersFor(config, { plans: opts.plans });
      const { trainer } = stageSettings(config, { trainer: opts.trainer });
      const { postprocess } = await import('../../activities/postprocessing/activity');
      const r = await postprocess({
        paths, trainer, plansIdentifier: plansIdentifiers['3d'], plansIdentifiers, folds: parseFolds(opts.folds) ?? [...FOLDS],
        winner: { name: configuration, configurations: [configuration], meanForegroundDice: NaN },
        ...(opts.valFolder !== RESULT_FOLDERS.validation ? { validationFolderName: opts.valFolder } : {}),
      });
      if (opts.json) printJson(r);
      else console.log(`${configuration}: ${r.postprocessingFile} (mean foreground Dice ${fmt(r.diceBefore)} -> ${fmt(r.diceAfter)}; `
        + `largest component of all foreground: ${r.removeAllButLargestForeground ? 'yes' : 'no'}; per class: ${r.forClasses.join(', ') || 'none'})`);
    });
}
