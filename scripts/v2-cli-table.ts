/**
 * Prints docs/cli.md's table of nnU-Net v2's entry points (every argument and what nnunet-ts does with it) from the
 * parser definitions and the entry table, so the docs follow the code: `node dist/scripts/v2-cli-table.js`.
 * test/client/v2-docs.test.ts fails when docs/cli.md lacks a row.
 */
import { V2_ENTRIES } from '../client/v2-aliases';
import { V2_PARSERS } from '../client/v2-argparse-specs';

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const code = (s: string): string => `\`${s}\``;

function rowsOf(prog: string): string[] {
  const entry = V2_ENTRIES[prog]!;
  const parser = V2_PARSERS[prog]!;
  const run = entry.run;
  if ('missing' in run) {
    const all = [...parser.positionals.map((p) => p.name), ...parser.options.map((o) => o.names.join(' '))].map(code).join(' ');
    return [`| ${code(prog)} | ${all} | parsed as v2 does, then **exit 2**: needs ${cell(run.missing)}. Instead: ${cell(run.instead)} |`];
  }
  const rows = [`| ${code(prog)} | | ${cell(entry.does)} |`];
  for (const p of parser.positionals) rows.push(`| ${code(prog)} | ${code(p.name)} (positional) | ${cell(entry.flags?.[p.name] ?? '')} |`);
  for (const o of parser.options) {
    const dflt = o.default !== undefined && o.nargs !== 0 ? ` (default ${JSON.stringify(o.default).replace(/"/g, '')})` : '';
    rows.push(`| ${code(prog)} | ${o.names.map(code).join(' ')}${dflt} | ${cell(entry.flags?.[o.names[0]!] ?? '')} |`);
  }
  return rows;
}

/** The table's rows: the entry points nnunet-ts runs first, then those that exit 2. */
export function v2CliTableRows(): string[] {
  const unavailable = (p: string): number => ('missing' in V2_ENTRIES[p]!.run ? 1 : 0);
  return Object.keys(V2_ENTRIES).sort((a, b) => unavailable(a) - unavailable(b)).flatMap(rowsOf);
}

if (require.main === module) console.log(v2CliTableRows().join('\n'));
