/**
 * `nnunet find-best -t TASK [-m 2d 3d_fullres ...] [--trainer T] [--plans P | --pl2d P2 --pl3d P3] [--folds 0 1 2 3 4]
 * [--no-ensembling] [--no-postprocessing] [--strict]` (nnUNet_find_best_configuration): scores every configuration and
 * pairwise ensemble on the pooled cross-validation, determines postprocessing for the winner and prints the commands to
 * predict with it. 2d models live under the 2D plans' identifier, the 3D ones under the 3D plans' (nnU-Net's -pl2d / -pl3d).
 */
import type { Command } from 'commander';
import { CONFIGURATIONS, FOLDS, type Configuration } from '../../activities/contract';
import { findBest, type FindBestResult } from '../../activities/ensembling/find-best';
import { postprocess } from '../../activities/postprocessing/activity';
import type { PlansIdentifiers, PostprocessOutput } from '../../activities/contract';
import { PLANS_IDENTIFIER_V21 } from '../../activities/planning/constants';
import type { Config } from '../../config/schema';
import { configFor, printJson, UsageError } from '../context';
import { plansIdentifiersFor, stageSettings } from '../settings';
import { CASCADE_TRAINER } from '../../activities/io/layout';
import { resolveTask } from '../task-ref';
import { parseConfiguration, parseFolds } from './predict';

interface FindBestOpts {
  task: string; configurations?: string[]; trainer?: string; cascadeTrainer?: string; plans?: string; pl2d?: string; pl3d?: string; folds?: string[];
  ensembling: boolean; postprocessing: boolean; strict?: boolean; json?: boolean;
}

const fmt = (v: number): string => (Number.isNaN(v) ? '   NaN' : v.toFixed(4));

function report(r: FindBestResult, pp: PostprocessOutput | undefined): string {
  const lines = r.candidates.map((c) => `  ${fmt(c.meanForegroundDice)}  ${c.name}${c === r.winner ? '   <- best' : ''}`);
  if (r.skipped.length) lines.push('skipped:', ...r.skipped.map((s) => `  ${s}`));
  if (r.postprocessingSkipped.length) lines.push('no postprocessing determined for:', ...r.postprocessingSkipped.map((s) => `  ${s}`));
  if (pp) lines.push(`postprocessing: ${pp.postprocessingFile} (Dice ${fmt(pp.diceBefore)} -> ${fmt(pp.diceAfter)})`);
  lines.push('', 'predict test cases with:', ...r.predictCommands.map((c) => `  ${c}`), '', `(also in ${r.commandsFile}; per-class Dice in ${r.summaryCsv})`);
  return ['mean foreground Dice (pooled cross-validation, before postprocessing):', ...lines].join('\n');
}

/**
 * Each kind's plans identifier: --pl2d / --pl3d, else --plans, else what planning writes by default: the 2D planner's
 * nnUNetPlansv2.1 and the 3D planner's for the configured GPU memory target (nnUNetPlansv2.1, _big, _4GB ...).
 */
export function plansIdentifiersFrom(opts: Pick<FindBestOpts, 'plans' | 'pl2d' | 'pl3d'>, config: Pick<Config, 'planning'>): Required<PlansIdentifiers> {
  return plansIdentifiersFor(config, { plans: opts.plans, plans2d: opts.pl2d, plans3d: opts.pl3d });
}

export function register(program: Command): void {
  program
    .command('find-best')
    .description('pick the best configuration or pairwise ensemble from the cross-validation results (nnUNet_find_best_configuration)')
    .requiredOption('-t, --task <task>', 'task id (4), folder name or path')
    .option('-m, --configurations <names...>', `configurations to compare (default: ${CONFIGURATIONS.join(' ')}; absent ones are skipped unless --strict)`)
    .option('--trainer <name>', 'trainer class name (default from config: training.trainer)')
    .option('--cascade-trainer <name>', `trainer of 3d_cascade_fullres (only ${CASCADE_TRAINER})`)
    .option('--plans <id>', 'plans identifier of every configuration (default: as planned, see --pl2d / --pl3d)')
    .option('--pl2d <id>', `plans identifier of 2d (default: --plans, else ${PLANS_IDENTIFIER_V21})`)
    .option('--pl3d <id>', 'plans identifier of the 3D configurations (default: --plans, else the 3D planner\'s for planning.gpuMemoryTargetGb)')
    .option('--folds <folds...>', 'cross-validation folds', FOLDS.map(String))
    .option('--no-ensembling', 'compare single configurations only')
    .option('--no-postprocessing', 'do not determine postprocessing (for any configuration or ensemble)')
    .option('--strict', 'a configuration without results is an error (nnU-Net v1), not skipped')
    .option('--json', 'print the result as JSON')
    .action(async (opts: FindBestOpts, cmd: Command) => {
      if (opts.cascadeTrainer && opts.cascadeTrainer !== CASCADE_TRAINER) {
        throw new UsageError(`--cascade-trainer ${opts.cascadeTrainer}: only ${CASCADE_TRAINER} is supported`);
      }
      const configurations: Configuration[] = (opts.configurations ?? [...CONFIGURATIONS]).map(parseConfiguration);
      const folds = parseFolds(opts.folds) ?? [...FOLDS];
      const config = configFor(cmd);
      const { paths } = resolveTask(config, opts.task);
      const plansIdentifiers = plansIdentifiersFrom(opts, config);
      const plans = { plansIdentifier: plansIdentifiers['3d'], plansIdentifiers };
      const { trainer } = stageSettings(config, { trainer: opts.trainer });
      const input = { paths, trainer, ...plans, configurations, folds, strict: opts.strict, ensembling: opts.ensembling, disablePostprocessing: !opts.postprocessing };
      const r = await findBest(input);
      const pp = opts.postprocessing ? await postprocess({ paths, winner: r.winner, trainer, ...plans, folds }) : undefined;
      if (opts.json) printJson({ ...r, postprocessing: pp });
      else console.log(report(r, pp));
    });
}
