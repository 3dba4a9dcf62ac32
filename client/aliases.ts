/**
 * nnU-Net's own commands (nnUNet_train, nnUNet_predict, ...) as thin argv translations onto `nnunet` commands.
 * nnU-Net's flags are single-dash words (-tr, -pl3d) that commander cannot express, so each alias has a table:
 * nnU-Net flag → our long option (or: ignored with a reason, or refused with a reason). One alias may become
 * several steps, run in order, stopping at the first failure. A step whose `nnunet` command has not landed yet fails with "not implemented yet".
 */
import { Command } from 'commander';
import { registerAll } from './commands';
import { UsageError } from './context';
import { PRETRAINED_ALIASES } from './pretrained-aliases';
import { canonicalArgv, defaultsFor, optionLines, usageLine } from './nnunet-argparse';

type Arity = 0 | 1 | '+';
/** `to`: our option; `ignore`: accepted, no effect (why); `refuse`: not supported (why). */
type FlagRule = { arity: Arity } & ({ to: string } | { ignore: string } | { refuse: string });

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
  notes: string[];
}

export class NotImplementedYet extends Error {
  readonly exitCode = 1;
}

/**
 * Splits nnU-Net argv by a flag table; unknown flags are usage errors naming the alias. Every spelling nnU-Net's
 * argparse takes (long forms, `--flag=value`, unique prefixes of long names) is read as the table's key, and
 * nnU-Net's defaults that matter (nnUNet_predict -m 3d_fullres) are filled in.
 */
export function parseNnunetArgs(alias: string, rawArgv: string[], rules: Record<string, FlagRule>): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Map(), notes: [] };
  const argv = canonicalArgv(alias, rawArgv);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-') || /^-\d/.test(token)) {
      out.positionals.push(token);
      continue;
    }
    const rule = rules[token];
    if (!rule) throw new UsageError(`${alias}: unknown option ${token}; known: ${Object.keys(rules).join(' ')}`);
    const values: string[] = [];
    if (rule.arity === 1) {
      if (i + 1 >= argv.length) throw new UsageError(`${alias}: ${token} needs a value`);
      values.push(argv[++i]);
    } else if (rule.arity === '+') {
      while (i + 1 < argv.length && (!argv[i + 1].startsWith('-') || /^-\d/.test(argv[i + 1]))) values.push(argv[++i]);
      if (values.length === 0) throw new UsageError(`${alias}: ${token} needs at least one value`);
    }
    if ('refuse' in rule) throw new NotImplementedYet(`${alias}: ${token} is not supported: ${rule.refuse}`);
    if ('ignore' in rule) {
      out.notes.push(`${token} ignored: ${rule.ignore}`);
      continue;
    }
    out.flags.set(token, [...(out.flags.get(token) ?? []), ...values]);
  }
  for (const [name, values] of defaultsFor(alias, new Set(out.flags.keys()))) if (rules[name] && 'to' in rules[name]) out.flags.set(name, values);
  return out;
}

/** Our options for the parsed flags, in the order given. */
function forward(parsed: ParsedArgs, rules: Record<string, FlagRule>, skip: string[] = []): string[] {
  const args: string[] = [];
  for (const [flag, values] of parsed.flags) {
    const rule = rules[flag];
    if (skip.includes(flag) || !('to' in rule)) continue;
    args.push(rule.to, ...values);
  }
  return args;
}

function required(alias: string, parsed: ParsedArgs, flag: string): string[] {
  const v = parsed.flags.get(flag);
  if (!v?.length) throw new UsageError(`${alias}: ${flag} is required`);
  return v;
}

const TRAIN_RULES: Record<string, FlagRule> = {
  '--npz': { arity: 0, to: '--npz' },
  // nnU-Net: without -c the fold trains from scratch; with -c it continues from model_latest.
  '-c': { arity: 0, to: '--continue' },
  '--continue_training': { arity: 0, to: '--continue' },
  '-val': { arity: 0, to: '--validation-only' },
  '--validation_only': { arity: 0, to: '--validation-only' },
  '--valbest': { arity: 0, to: '--valbest' },
  '-p': { arity: 1, to: '--plans-identifier' },
  '--disable_validation_inference': { arity: 0, to: '--no-validation' },
  '--disable_next_stage_pred': { arity: 0, to: '--no-next-stage' },
  '--fp32': { arity: 0, ignore: 'training runs in float32' },
  '--deterministic': { arity: 0, ignore: 'training is seeded already: sampling, augmentation and initialisation use fixed seeds (numpy\'s MT19937), and no cuDNN autotuning runs' },
  '--use_compressed_data': { arity: 0, ignore: 'preprocessed data is stored uncompressed (.npy)' },
  '--disable_saving': { arity: 0, to: '--disable-saving' },
  '--val_disable_overwrite': { arity: 0, to: '--val-disable-overwrite' },
  '--disable_postprocessing_on_folds': { arity: 0, to: '--no-fold-postprocessing' },
  '--val_folder': { arity: 1, to: '--val-folder' },
  '-pretrained_weights': { arity: 1, to: '--pretrained-weights' },
  '--pretrained_weights': { arity: 1, to: '--pretrained-weights' },
  '--find_lr': { arity: 0, to: '--find-lr' },
};

const PLAN_RULES: Record<string, FlagRule> = {
  '-t': { arity: '+', to: '-t' },
  '--task_ids': { arity: '+', to: '-t' },
  '--verify_dataset_integrity': { arity: 0, to: '--verify' },
  '-pl3d': { arity: 1, to: '--pl3d' },
  '--planner3d': { arity: 1, to: '--pl3d' },
  '-pl2d': { arity: 1, to: '--pl2d' },
  '--planner2d': { arity: 1, to: '--pl2d' },
  '-no_pp': { arity: 0, to: '--no-pp' },
  // Process counts (nnU-Net v1: -tf for cropping, the fingerprint and full-resolution/2D preprocessing, -tl for the
  // 3d_lowres stage); translatePlanAndPreprocess maps them (to -p and --lowres-processes).
  '-tl': { arity: 1, to: '--lowres-processes' },
  '-tf': { arity: 1, to: '-p' },
  // nnU-Net v1 spells these with one dash; they go with -pl3d ExperimentPlanner3D_v21_Pretrained.
  '-overwrite_plans': { arity: 1, to: '--overwrite-plans' },
  '-overwrite_plans_identifier': { arity: 1, to: '--overwrite-plans-identifier' },
};

const FIND_BEST_RULES: Record<string, FlagRule> = {
  '-t': { arity: '+', to: '-t' },
  '-m': { arity: '+', to: '--configurations' },
  '-tr': { arity: 1, to: '--trainer' },
  '-ctr': { arity: 1, to: '--cascade-trainer' },
  '-pl': { arity: 1, to: '--plans' },
  '-pl2d': { arity: 1, to: '--pl2d' },
  '-pl3d': { arity: 1, to: '--pl3d' },
  '-f': { arity: '+', to: '--folds' },
  '--disable_ensembling': { arity: 0, to: '--no-ensembling' },
  '--disable_postprocessing': { arity: 0, to: '--no-postprocessing' },
  '--strict': { arity: 0, to: '--strict' },
};

const PREDICT_RULES: Record<string, FlagRule> = {
  '-i': { arity: 1, to: '--input' },
  '-o': { arity: 1, to: '--output' },
  '-t': { arity: 1, to: '--task' },
  '-m': { arity: 1, to: '--configuration' },
  '-f': { arity: '+', to: '--folds' },
  '-z': { arity: 0, to: '--save-npz' },
  '--save_npz': { arity: 0, to: '--save-npz' },
  '-l': { arity: 1, to: '--lowres-folder' },
  '-tr': { arity: 1, to: '--trainer' },
  '-ctr': { arity: 1, to: '--cascade-trainer' },
  '-p': { arity: 1, to: '--plans' },
  '-chk': { arity: 1, to: '--checkpoint' },
  '--disable_tta': { arity: 0, to: '--disable-tta' },
  '--step_size': { arity: 1, to: '--step-size' },
  '--overwrite_existing': { arity: 0, to: '--overwrite' },
  '--part_id': { arity: 1, to: '--part-id' },
  '--num_parts': { arity: 1, to: '--num-parts' },
  '--disable_mixed_precision': { arity: 0, ignore: 'inference runs in float32' },
  '--num_threads_preprocessing': { arity: 1, ignore: 'set nnUNet_def_n_proc instead' },
  '--num_threads_nifti_save': { arity: 1, ignore: 'set nnUNet_def_n_proc instead' },
  '--all_in_gpu': { arity: 1, ignore: 'the tensor backend decides placement' },
  '--mode': { arity: 1, ignore: 'only the normal mode exists' },
};

const ENSEMBLE_RULES: Record<string, FlagRule> = {
  '-f': { arity: '+', to: '--folders' },
  '-o': { arity: 1, to: '--output' },
  '-pp': { arity: 1, to: '--postprocessing-file' },
  '--npz': { arity: 0, to: '--npz' },
  '-t': { arity: 1, ignore: 'the ensemble is written by this process' },
};

const CONVERT_DECATHLON_RULES: Record<string, FlagRule> = {
  '-i': { arity: 1, to: '--input' },
  '-output_task_id': { arity: 1, to: '--task' },
  '-p': { arity: 1, ignore: 'the conversion runs in this process' },
};

const DETERMINE_POSTPROCESSING_RULES: Record<string, FlagRule> = {
  '-m': { arity: 1, to: '--configuration' },
  '-t': { arity: 1, to: '--task' },
  '-tr': { arity: 1, to: '--trainer' },
  '-pl': { arity: 1, to: '--plans' },
  '-val': { arity: 1, to: '--val-folder' },
};

const EVALUATE_FOLDER_RULES: Record<string, FlagRule> = {
  '-ref': { arity: 1, to: '--ref' },
  '-pred': { arity: 1, to: '--pred' },
  '-l': { arity: '+', to: '--labels' },
};

const PLOT_TASK_PNGS_RULES: Record<string, FlagRule> = {
  '-t': { arity: 1, to: '--task' },
  '-o': { arity: 1, to: '--output' },
  '-modality_idx': { arity: 1, to: '--modality' },
  '--use_raw': { arity: 0, to: '--use-raw' },
  '-num_processes': { arity: 1, ignore: 'the pictures are drawn by this process' },
};

const CHANGE_TRAINER_RULES: Record<string, FlagRule> = {
  '-i': { arity: 1, to: '--input' },
  '-tr': { arity: 1, to: '--trainer' },
};

/** nnUNet_train_DP / _DDP's own flags; the rest are nnUNet_train's. */
const MULTI_GPU_RULES: Record<string, FlagRule> = {
  '-gpus': { arity: 1, ignore: 'one fold trains on one GPU here; train several folds at once instead (nnunet worker trains one fold per GPU, docs/deploy.md)' },
  '--dbs': { arity: 0, ignore: 'the batch size is the plans\' (one GPU)' },
  '--local_rank': { arity: 1, ignore: 'one process trains the fold' },
};

/**
 * nnUNet_train CONFIG TRAINER TASK FOLD → `nnunet train ... --via-temporal`: that one fold as its own durable
 * workflow, so five calls for folds 0-4 train side by side. Without -c the fold starts over, as in nnU-Net.
 */
function translateTrain(alias: string, parsed: ParsedArgs): string[][] {
  if (parsed.positionals.length !== 4) {
    throw new UsageError(`${alias}: usage: nnUNet_train CONFIGURATION TRAINER TASK FOLD [-val] [-c] [-p PLANS] [--npz] ... (got ${parsed.positionals.length} positional arguments)`);
  }
  const [configuration, trainer, task, fold] = parsed.positionals;
  // --find_lr only draws a plot (nnU-Net returns right after it): in this process, no fold workflow to make durable.
  const durable = parsed.flags.has('--find_lr') ? [] : ['--via-temporal'];
  return [['train', configuration, trainer, task, fold, ...durable, ...forward(parsed, TRAIN_RULES)]];
}

/** The last value given for a single-valued flag, if any. */
function lastValue(parsed: ParsedArgs, flag: string): string | undefined {
  return parsed.flags.get(flag)?.at(-1);
}

/**
 * nnUNet_plan_and_preprocess -t 4 5 → one `nnunet plan-and-preprocess -t 4 5` (verify if asked, fingerprint, plan,
 * preprocess unless -no_pp, per task). -tf N → `-p N` (fingerprint, full-resolution and 2D preprocessing);
 * -tl N → `--lowres-processes N` (3d_lowres preprocessing).
 */
function translatePlanAndPreprocess(alias: string, parsed: ParsedArgs): string[][] {
  const tasks = [...(parsed.flags.get('-t') ?? []), ...(parsed.flags.get('--task_ids') ?? [])];
  if (tasks.length === 0) throw new UsageError(`${alias}: -t is required (the task ids, e.g. -t 4; --task_ids is the same)`);
  const rest = forward(parsed, PLAN_RULES, ['-t', '--task_ids', '-tl', '-tf']);
  const tf = lastValue(parsed, '-tf');
  const tl = lastValue(parsed, '-tl');
  return [['plan-and-preprocess', '-t', ...tasks, ...rest, ...(tf ? ['-p', tf] : []), ...(tl ? ['--lowres-processes', tl] : [])]];
}

function translateFindBest(alias: string, parsed: ParsedArgs): string[][] {
  return required(alias, parsed, '-t').map((t) => ['find-best', '-t', t, ...forward(parsed, FIND_BEST_RULES, ['-t'])]);
}

interface AliasSpec { rules: Record<string, FlagRule>; translate: (alias: string, p: ParsedArgs) => string[][] }

/** Each alias: its flag table and the `nnunet` argv lists (steps, run in order) a command line becomes. */
export const ALIASES: Record<string, AliasSpec> = {
  nnUNet_plan_and_preprocess: { rules: PLAN_RULES, translate: translatePlanAndPreprocess },
  nnUNet_train: { rules: TRAIN_RULES, translate: translateTrain },
  nnUNet_find_best_configuration: { rules: FIND_BEST_RULES, translate: translateFindBest },
  nnUNet_predict: { rules: PREDICT_RULES, translate: (_a, p) => [['predict', ...forward(p, PREDICT_RULES)]] },
  nnUNet_ensemble: { rules: ENSEMBLE_RULES, translate: (_a, p) => [['ensemble', ...forward(p, ENSEMBLE_RULES)]] },
  ...PRETRAINED_ALIASES,
  nnUNet_convert_decathlon_task: { rules: CONVERT_DECATHLON_RULES, translate: (a, p) => [['convert-msd', '--input', required(a, p, '-i')[0], ...forward(p, CONVERT_DECATHLON_RULES, ['-i'])]] },
  nnUNet_determine_postprocessing: { rules: DETERMINE_POSTPROCESSING_RULES, translate: (_a, p) => [['determine-postprocessing', ...forward(p, DETERMINE_POSTPROCESSING_RULES)]] },
  nnUNet_evaluate_folder: { rules: EVALUATE_FOLDER_RULES, translate: (_a, p) => [['evaluate', ...forward(p, EVALUATE_FOLDER_RULES)]] },
  nnUNet_plot_task_pngs: { rules: PLOT_TASK_PNGS_RULES, translate: (_a, p) => [['plot-task-pngs', ...forward(p, PLOT_TASK_PNGS_RULES)]] },
  nnUNet_change_trainer_class: { rules: CHANGE_TRAINER_RULES, translate: (_a, p) => [['change-trainer-class', ...forward(p, CHANGE_TRAINER_RULES)]] },
  nnUNet_train_DP: multiGpuTrain('nnUNet_train_DP'),
  nnUNet_train_DDP: multiGpuTrain('nnUNet_train_DDP'),
};

/**
 * nnUNet_train_DP / _DDP: one fold over several GPUs in nnU-Net. Here the fold trains on one GPU, as nnUNet_train
 * does (the same translation, so the same flags); the multi-GPU path is several folds at once, one per GPU worker.
 */
function multiGpuTrain(alias: string): AliasSpec {
  const train = (): AliasSpec => ALIASES.nnUNet_train;
  return {
    rules: { ...TRAIN_RULES, ...MULTI_GPU_RULES },
    translate: (_a, p) => {
      p.notes.push(`${alias} trains the fold on one GPU (nnunet-ts does not split one fold over GPUs); to use several GPUs, start one \`nnunet worker --queue gpu\` per GPU and train several folds at once`);
      return train().translate(alias, p);
    },
  };
}

/** The `nnunet` argv lists an nnU-Net command line stands for (plus notes on ignored flags). */
export function translateAlias(alias: string, argv: string[]): { steps: string[][]; notes: string[] } {
  const spec = ALIASES[alias];
  if (!spec) throw new UsageError(`unknown nnU-Net command ${alias}; known: ${Object.keys(ALIASES).join(', ')}`);
  const parsed = parseNnunetArgs(alias, argv, spec.rules);
  return { steps: spec.translate(alias, parsed), notes: parsed.notes };
}

function program(): Command {
  const p = new Command('nnunet').option('--config <file>', 'YAML config file').showHelpAfterError();
  registerAll(p);
  return p;
}

/** argparse's usage line, then every spelling of every option and where it goes here. */
export function helpText(alias: string): string {
  const rules = ALIASES[alias]?.rules ?? {};
  const what = (flag: string): string => {
    const r = rules[flag];
    if (!r) return 'not accepted here';
    return 'to' in r ? `-> ${r.to}` : 'ignore' in r ? `accepted, no effect: ${r.ignore}` : `refused: ${r.refuse}`;
  };
  const lines = optionLines(alias).map((l) => `${l.padEnd(48)} ${what(l.trim().split(/[ ,]/)[0])}`);
  return [usageLine(alias), '', `${alias}: nnU-Net's command, run by nnunet-ts (docs/cli.md).`, '', 'options:', '  -h, --help', ...lines].join('\n');
}

/** Runs an alias: translates, checks every step's command exists, then runs the steps in order. */
export async function runAlias(alias: string, argv: string[]): Promise<void> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(helpText(alias));
    return;
  }
  const { steps, notes } = translateAlias(alias, argv);
  for (const n of notes) process.stderr.write(`${alias}: ${n}\n`);
  const known = new Set(program().commands.map((c) => c.name()));
  const missing = [...new Set(steps.map((s) => s[0]).filter((c) => !known.has(c)))];
  if (missing.length > 0) {
    throw new NotImplementedYet(`${alias}: \`nnunet ${missing.join('`, `nnunet ')}\` not implemented yet`);
  }
  for (const step of steps) {
    process.stderr.write(`${alias} → nnunet ${step.join(' ')}\n`);
    process.exitCode = 0;
    await program().parseAsync(step, { from: 'user' });
    if (process.exitCode !== undefined && process.exitCode !== 0) return;
  }
}

/** Entry point for the bin shims. */
export function aliasMain(alias: string): void {
  runAlias(alias, process.argv.slice(2)).catch((err: unknown) => {
    console.error(`${alias}: ${(err as Error).message ?? err}`.replace(`${alias}: ${alias}: `, `${alias}: `));
    process.exit(typeof (err as { exitCode?: number }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1);
  });
}
