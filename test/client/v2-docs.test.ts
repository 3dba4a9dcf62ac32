/** docs/cli.md lists every nnU-Net v2 entry point and argument as the code handles them (scripts/v2-cli-table.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../config';
import { v2CliTableRows } from '../../scripts/v2-cli-table';

test('docs/cli.md has every row of the v2 entry point table (regenerate with node dist/scripts/v2-cli-table.js)', () => {
  const docs = fs.readFileSync(path.join(repoRoot(), 'docs', 'cli.md'), 'utf8');
  const missing = v2CliTableRows().filter((row) => !docs.includes(row));
  assert.deepEqual(missing, []);
});
