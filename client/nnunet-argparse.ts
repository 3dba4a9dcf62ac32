/**
 * nnU-Net v1's argparse definitions of its entry points (names, spellings, defaults), so that the aliases accept every
 * spelling nnU-Net's parser accepts and print the usage line argparse prints. Only the shape of each parser lives
 * here; what each flag does in nnunet-ts is the alias tables' business (client/aliases.ts). docs/cli.md lists both.
 */
import { UsageError } from './context';

type Nargs = 0 | 1 | '+';

export interface ArgSpec {
  /** Every spelling, the canonical (the alias tables' key) first: ['-i', '--input_folder']. */
  names: string[];
  nargs: Nargs;
  required?: boolean;
  /** nnU-Net's default, applied by the alias when the flag is absent and the default matters here. */
  default?: string[];
}

export interface ParserSpec {
  positionals: string[];
  options: ArgSpec[];
}

const flag = (...names: string[]): ArgSpec => ({ names, nargs: 0 });
const one = (...names: string[]): ArgSpec => ({ names, nargs: 1 });
const many = (...names: string[]): ArgSpec => ({ names, nargs: '+' });
const req = (a: ArgSpec): ArgSpec => ({ ...a, required: true });
const dflt = (a: ArgSpec, ...values: string[]): ArgSpec => ({ ...a, default: values });

/** nnunet/run/run_training.py; the DP and DDP scripts add their own few flags. */
const TRAIN_OPTIONS: ArgSpec[] = [
  flag('-val', '--validation_only'), flag('-c', '--continue_training'), one('-p'), flag('--use_compressed_data'),
  flag('--deterministic'), flag('--npz'), flag('--find_lr'), flag('--valbest'), flag('--fp32'), one('--val_folder'),
  flag('--disable_saving'), flag('--disable_postprocessing_on_folds'), flag('--disable_validation_inference'),
  flag('--val_disable_overwrite'), flag('--disable_next_stage_pred'), one('-pretrained_weights'),
];
const TRAIN_POSITIONALS = ['network', 'network_trainer', 'task', 'fold'];

export const NNUNET_PARSERS: Record<string, ParserSpec> = {
  nnUNet_plan_and_preprocess: {
    positionals: [],
    options: [
      many('-t', '--task_ids'), one('-pl3d', '--planner3d'), one('-pl2d', '--planner2d'), flag('-no_pp'), one('-tl'), one('-tf'),
      flag('--verify_dataset_integrity'), one('-overwrite_plans'), one('-overwrite_plans_identifier'),
    ],
  },
  nnUNet_train: { positionals: TRAIN_POSITIONALS, options: TRAIN_OPTIONS },
  nnUNet_train_DP: {
    positionals: TRAIN_POSITIONALS,
    options: [...TRAIN_OPTIONS.filter((o) => !o.names.includes('--disable_validation_inference')), req(one('-gpus')), flag('--dbs')],
  },
  nnUNet_train_DDP: {
    positionals: TRAIN_POSITIONALS,
    options: [...TRAIN_OPTIONS.filter((o) => !o.names.includes('--disable_validation_inference')), one('--local_rank'), flag('--dbs')],
  },
  nnUNet_predict: {
    positionals: [],
    options: [
      req(one('-i', '--input_folder')), req(one('-o', '--output_folder')), req(one('-t', '--task_name')),
      one('-tr', '--trainer_class_name'), one('-ctr', '--cascade_trainer_class_name'), dflt(one('-m', '--model'), '3d_fullres'),
      one('-p', '--plans_identifier'), many('-f', '--folds'), flag('-z', '--save_npz'), one('-l', '--lowres_segmentations'),
      one('--part_id'), one('--num_parts'), one('--num_threads_preprocessing'), one('--num_threads_nifti_save'), flag('--disable_tta'),
      flag('--overwrite_existing'), one('--mode'), one('--all_in_gpu'), one('--step_size'), one('-chk'), flag('--disable_mixed_precision'),
    ],
  },
  nnUNet_ensemble: {
    positionals: [],
    options: [req(many('-f', '--folders')), req(one('-o', '--output_folder')), one('-t', '--threads'), one('-pp', '--postprocessing_file'), flag('--npz')],
  },
  nnUNet_find_best_configuration: {
    positionals: [],
    options: [
      many('-m', '--models'), req(many('-t', '--task_ids')), one('-tr'), one('-ctr'), one('-pl'), one('-pl2d'), one('-pl3d'),
      many('-f', '--folds'), flag('--disable_ensembling'), flag('--disable_postprocessing'), flag('--strict'),
    ],
  },
  nnUNet_convert_decathlon_task: { positionals: [], options: [req(one('-i')), one('-p'), one('-output_task_id')] },
  nnUNet_determine_postprocessing: {
    positionals: [],
    options: [req(one('-m')), req(one('-t')), one('-tr'), one('-pl'), one('-val')],
  },
  nnUNet_evaluate_folder: { positionals: [], options: [req(one('-ref')), req(one('-pred')), req(many('-l'))] },
  nnUNet_plot_task_pngs: {
    positionals: [],
    options: [req(one('-t')), req(one('-o')), one('-num_processes'), one('-modality_idx'), flag('--use_raw')],
  },
  nnUNet_change_trainer_class: { positionals: [], options: [one('-i'), one('-tr')] },
};

/** argparse's dest: the first long name, else the first name, without dashes. */
function metavar(spec: ArgSpec): string {
  const long = spec.names.find((n) => n.startsWith('--')) ?? spec.names[0];
  return long.replace(/^-+/, '').toUpperCase();
}

function usagePart(spec: ArgSpec): string {
  const m = metavar(spec);
  const value = spec.nargs === 0 ? '' : spec.nargs === 1 ? ` ${m}` : ` ${m} [${m} ...]`;
  const s = `${spec.names[0]}${value}`;
  return spec.required ? s : `[${s}]`;
}

/** The usage line argparse prints: `usage: nnUNet_train [-h] [-val] ... network network_trainer task fold`. */
export function usageLine(command: string): string {
  const p = NNUNET_PARSERS[command];
  if (!p) return `usage: ${command} [-h]`;
  return ['usage:', command, '[-h]', ...p.options.map(usagePart), ...p.positionals].join(' ');
}

/** The option a token names: an exact spelling, else (argparse's allow_abbrev) the one long name it is a prefix of. */
function lookup(command: string, p: ParserSpec, name: string): ArgSpec | undefined {
  const exact = p.options.find((o) => o.names.includes(name));
  if (exact || !name.startsWith('--')) return exact;
  const hits = p.options.filter((o) => o.names.some((n) => n.startsWith('--') && n.startsWith(name)));
  if (hits.length > 1) {
    throw new UsageError(`${command}: ambiguous option: ${name} could match ${hits.map((h) => h.names.find((n) => n.startsWith(name))).join(', ')}`);
  }
  return hits[0];
}

/**
 * argv with every option in its canonical spelling and `--flag=value` split, as argparse reads it. Tokens that name
 * no option of nnU-Net's parser stay as they are (the alias table decides: accepted or an unknown option).
 */
export function canonicalArgv(command: string, argv: readonly string[]): string[] {
  const p = NNUNET_PARSERS[command];
  if (!p) return [...argv];
  const out: string[] = [];
  for (const token of argv) {
    if (!token.startsWith('-') || /^-\d/.test(token)) { out.push(token); continue; }
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(0, eq) : token;
    const spec = lookup(command, p, name);
    if (!spec) { out.push(token); continue; }
    out.push(spec.names[0]);
    if (eq > 0) {
      if (spec.nargs === 0) throw new UsageError(`${command}: argument ${name}: ignored explicit argument '${token.slice(eq + 1)}'`);
      out.push(token.slice(eq + 1));
    }
  }
  return out;
}

/** nnU-Net's defaults that change what runs (nnUNet_predict -m 3d_fullres), for the flags argv lacks. */
export function defaultsFor(command: string, present: ReadonlySet<string>): Array<[string, string[]]> {
  const p = NNUNET_PARSERS[command];
  return (p?.options ?? []).filter((o) => o.default && !present.has(o.names[0])).map((o) => [o.names[0], o.default!]);
}

/** Every spelling of every option, for the -h text. */
export function optionLines(command: string): string[] {
  return (NNUNET_PARSERS[command]?.options ?? []).map((o) => `  ${o.names.map((n) => (o.nargs === 0 ? n : `${n} ${metavar(o)}`)).join(', ')}`);
}
