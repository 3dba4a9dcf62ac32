/**
 * Python argparse's reading of a command line, for nnU-Net v2's entry points (their parsers are in
 * client/v2-argparse-specs.ts): options by exact spelling, `-opt=value`, a unique prefix (allow_abbrev), `nargs='+'`,
 * int/float types, choices, required options and positionals, defaults, and argparse's usage line and error text
 * (`PROG: error: ...`, exit code 2). A parser built with parse_known_args keeps unknown tokens instead of failing.
 */
import { UsageError } from './context';

export type V2Value = string | number | boolean | null | Array<string | number>;

export interface V2Option {
  /** Every spelling, as add_argument lists them. */
  names: string[];
  /** 0: store_true / store_false; 1: one value; '+': one or more. */
  nargs: 0 | 1 | '+';
  type?: 'int' | 'float';
  required?: boolean;
  default?: V2Value;
  choices?: string[];
  /** store_false: given means false (store_true otherwise, for nargs 0). */
  storeFalse?: boolean;
}

export interface V2Positional { name: string; choices?: string[] }

export interface V2Parser {
  positionals: V2Positional[];
  options: V2Option[];
  /** The entry point calls parse_known_args: unknown tokens are kept, not an error. */
  knownArgsOnly?: boolean;
}

export interface V2Args {
  /** By argparse's dest (positional name, or the option's first long name without dashes). */
  values: Record<string, V2Value>;
  /** The dests given on the command line (the rest hold defaults). */
  given: Set<string>;
  /** Tokens parse_known_args left over. */
  unknown: string[];
}

/** argparse's dest: the first `--long` name, else the first name, without leading dashes. */
export function destOf(option: V2Option): string {
  const long = option.names.find((n) => n.startsWith('--')) ?? option.names[0];
  return long.replace(/^-+/, '').replace(/-/g, '_');
}

const metavar = (o: V2Option): string => destOf(o).toUpperCase();

function usagePart(o: V2Option): string {
  const m = metavar(o);
  const value = o.nargs === 0 ? '' : o.nargs === 1 ? ` ${m}` : ` ${m} [${m} ...]`;
  const s = `${o.names[0]}${value}`;
  return o.required ? s : `[${s}]`;
}

/** argparse's usage line (unwrapped): `usage: PROG [-h] [-tr TR] ... dataset_name_or_id configuration fold`. */
export function v2UsageLine(prog: string, parser: V2Parser): string {
  return ['usage:', prog, '[-h]', ...parser.options.map(usagePart), ...parser.positionals.map((p) => p.name)].join(' ');
}

/** Every spelling of an option with its metavar, as argparse's help lists it. */
export function v2OptionLabel(o: V2Option): string {
  return o.names.map((n) => (o.nargs === 0 ? n : o.nargs === 1 ? `${n} ${metavar(o)}` : `${n} ${metavar(o)} [${metavar(o)} ...]`)).join(', ');
}

class ArgparseError extends UsageError {}

const looksLikeOption = (t: string): boolean => t.startsWith('-') && t.length > 1 && !/^-\d+(\.\d*)?$/.test(t);

/** The option a token names and its attached value (`-chk=x`, `-d4`), by argparse's rules. */
function findOption(parser: V2Parser, token: string): { option: V2Option; attached?: string } | undefined {
  const eq = token.indexOf('=');
  const name = eq > 0 ? token.slice(0, eq) : token;
  const attached = eq > 0 ? token.slice(eq + 1) : undefined;
  const exact = parser.options.find((o) => o.names.includes(name));
  if (exact) return { option: exact, attached };
  const hits = parser.options.flatMap((o) => o.names.filter((n) => n.startsWith(name)).map((n) => ({ o, n })));
  const distinct = [...new Set(hits.map((h) => h.o))];
  if (distinct.length > 1) throw new ArgparseError(`ambiguous option: ${name} could match ${hits.map((h) => h.n).join(', ')}`);
  if (distinct.length === 1) return { option: distinct[0], attached };
  // A short option with its value glued on: -d4, -np8.
  const short = parser.options.find((o) => o.nargs !== 0 && o.names.some((n) => n.length === 2 && token.startsWith(n) && token.length > 2));
  return short ? { option: short, attached: token.slice(2) } : undefined;
}

/** Python's float(): decimal and exponent forms, plus nan and inf/infinity in any case. */
function pythonFloat(raw: string): number | undefined {
  const t = raw.trim();
  const special = /^([-+]?)(nan|inf|infinity)$/i.exec(t);
  if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) ? Number(t) : undefined;
}

/** argparse's type conversion, then its choices check. */
function convert(o: { type?: 'int' | 'float'; choices?: string[] }, label: string, raw: string): string | number {
  let value: string | number = raw;
  if (o.type === 'int') {
    if (!/^\s*[-+]?\d+\s*$/.test(raw)) throw new ArgparseError(`argument ${label}: invalid int value: '${raw}'`);
    value = Number(raw);
  } else if (o.type === 'float') {
    const n = pythonFloat(raw);
    if (n === undefined) throw new ArgparseError(`argument ${label}: invalid float value: '${raw}'`);
    value = n;
  }
  if (o.choices && !o.choices.includes(String(value))) {
    throw new ArgparseError(`argument ${label}: invalid choice: '${raw}' (choose from ${o.choices.map((c) => `'${c}'`).join(', ')})`);
  }
  return value;
}

/** The values an option takes from argv at `i` (its token already read); returns the next index. */
function takeValues(o: V2Option, argv: readonly string[], i: number, attached: string | undefined, out: V2Args): number {
  const label = o.names.join('/');
  const dest = destOf(o);
  out.given.add(dest);
  if (o.nargs === 0) {
    if (attached !== undefined) throw new ArgparseError(`argument ${label}: ignored explicit argument '${attached}'`);
    out.values[dest] = !o.storeFalse;
    return i;
  }
  const raw: string[] = attached !== undefined ? [attached] : [];
  let j = i;
  const wanted = o.nargs === 1 ? 1 : Infinity;
  while (raw.length < wanted && j + 1 < argv.length && !looksLikeOption(argv[j + 1]) && argv[j + 1] !== '--') raw.push(argv[++j]);
  if (raw.length === 0) throw new ArgparseError(`argument ${label}: expected ${o.nargs === 1 ? 'one argument' : 'at least one argument'}`);
  const values = raw.map((r) => convert(o, label, r));
  out.values[dest] = o.nargs === 1 ? values[0] : values;
  return j;
}

function fillPositionals(parser: V2Parser, tokens: string[], out: V2Args): void {
  parser.positionals.forEach((p, k) => {
    if (k < tokens.length) {
      out.values[p.name] = convert(p, p.name, tokens[k]);
      out.given.add(p.name);
    }
  });
}

function checkRequired(parser: V2Parser, positionalCount: number, out: V2Args): void {
  const missing = [
    ...parser.options.filter((o) => o.required && !out.given.has(destOf(o))).map((o) => o.names.join('/')),
    ...parser.positionals.slice(positionalCount).map((p) => p.name),
  ];
  if (missing.length > 0) throw new ArgparseError(`the following arguments are required: ${missing.join(', ')}`);
}

function parse(parser: V2Parser, argv: readonly string[]): V2Args {
  const out: V2Args = { values: {}, given: new Set(), unknown: [] };
  for (const o of parser.options) out.values[destOf(o)] = o.default ?? (o.nargs === 0 ? false : null);
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (onlyPositionals || !looksLikeOption(token)) { positionals.push(token); continue; }
    if (token === '--') { onlyPositionals = true; continue; }
    const found = findOption(parser, token);
    if (!found) { out.unknown.push(token); continue; }
    i = takeValues(found.option, argv, i, found.attached, out);
  }
  const extra = positionals.slice(parser.positionals.length);
  out.unknown.push(...extra);
  fillPositionals(parser, positionals, out);
  checkRequired(parser, Math.min(positionals.length, parser.positionals.length), out);
  if (out.unknown.length > 0 && !parser.knownArgsOnly) throw new ArgparseError(`unrecognized arguments: ${out.unknown.join(' ')}`);
  return out;
}

/** Parses argv as the entry point's argparse does; a bad command line is a UsageError carrying argparse's text. */
export function parseV2Args(prog: string, parser: V2Parser, argv: readonly string[]): V2Args {
  try {
    return parse(parser, argv);
  } catch (err) {
    if (err instanceof ArgparseError) throw new UsageError(`${v2UsageLine(prog, parser)}\n${prog}: error: ${err.message}`);
    throw err;
  }
}
