/**
 * nnU-Net v1's pretrained-model and model-zip commands as aliases of `nnunet pretrained ...` (client/aliases.ts
 * runs them; same flag tables). `--overwrite` and `--sha256` are ours: nnU-Net overwrites installed models
 * silently and checks no checksum.
 */
import { UsageError } from './context';

type Arity = 0 | 1 | '+';
type Rule = { arity: Arity; to: string };
interface Parsed { positionals: string[]; flags: Map<string, string[]> }
type Translate = (alias: string, parsed: Parsed) => string[][];

function positionals(alias: string, parsed: Parsed, names: string[]): string[] {
  if (parsed.positionals.length !== names.length) {
    throw new UsageError(`${alias}: usage: ${alias} ${names.join(' ')} (got ${parsed.positionals.length} positional arguments)`);
  }
  return parsed.positionals;
}

function forward(parsed: Parsed, rules: Record<string, Rule>): string[] {
  return [...parsed.flags].flatMap(([flag, values]) => [rules[flag].to, ...values]);
}

const OVERWRITE: Record<string, Rule> = { '--overwrite': { arity: 0, to: '--overwrite' } };
const EXPORT_RULES: Record<string, Rule> = {
  '-t': { arity: 1, to: '--task' },
  '-o': { arity: 1, to: '--output' },
  '-m': { arity: '+', to: '--models' },
  '-tr': { arity: 1, to: '--trainer' },
  '-trc': { arity: 1, to: '--cascade-trainer' },
  '-pl': { arity: 1, to: '--plans' },
  '-f': { arity: '+', to: '--folds' },
  '--disable_strict': { arity: 0, to: '--disable-strict' },
};
const BY_URL_RULES: Record<string, Rule> = { ...OVERWRITE, '--sha256': { arity: 1, to: '--sha256' } };
const LIST_RULES: Record<string, Rule> = { '--export': { arity: 1, to: '--export' } };

const command = (sub: string, names: string[], rules: Record<string, Rule>): { rules: Record<string, Rule>; translate: Translate } => ({
  rules,
  translate: (alias, parsed) => [['pretrained', sub, ...positionals(alias, parsed, names), ...forward(parsed, rules)]],
});

export const PRETRAINED_ALIASES = {
  nnUNet_install_pretrained_model_from_zip: command('install', ['ZIP'], OVERWRITE),
  nnUNet_export_model_to_zip: command('export', [], EXPORT_RULES),
  nnUNet_print_available_pretrained_models: command('list', [], LIST_RULES),
  nnUNet_print_pretrained_model_info: command('info', ['TASK_NAME'], {}),
  nnUNet_download_pretrained_model: command('download', ['TASK_NAME'], OVERWRITE),
  nnUNet_download_pretrained_model_by_url: command('download-url', ['URL'], BY_URL_RULES),
};
