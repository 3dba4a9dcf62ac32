/** scripts/check-imports.js: the import rules of docs/architecture.md, on small trees and on this checkout. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/temporal';

const script = path.join(repoRoot, 'scripts', 'check-imports.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-imports-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A tree of files (path → source) under a fresh folder; returns the script's exit code and output. */
function check(name: string, files: Record<string, string>, cwd = os.tmpdir()): { code: number | null; stdout: string; stderr: string } {
  const root = path.join(tmp, name);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  const r = spawnSync(process.execPath, [script], { cwd, env: { ...process.env, CHECK_IMPORTS_ROOT: root }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an upward stage import, a file cycle and a workflow importing non-contract code fail, each named', () => {
  const r = check('bad', {
    'activities/contract.ts': 'export const A = 1;\n',
    'activities/common/errors.ts': "import { ApplicationFailure } from '@temporalio/common';\nexport const E = ApplicationFailure;\n",
    'activities/io/read.ts': "import { step } from '../training/step';\nexport const r = step;\n",
    'activities/training/step.ts': "import { A } from '../contract';\nexport const step = A;\n",
    'client/a.ts': "import './b';\n",
    'client/b.ts': "export async function f(): Promise<unknown> { return import('./a'); }\n",
    'workflows/task.ts': "import { A } from '../activities/contract';\nimport { E } from '../activities/common/errors';\nexport const w = [A, E];\n",
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /activities\/io +-> training \(1\)/, 'the folder table');
  assert.match(r.stderr, /3 import rule violation/);
  assert.match(r.stderr, /activities\/io\/read\.ts -> activities\/training\/step\.ts: io imports training/);
  assert.match(r.stderr, /import cycle: client\/a\.ts <-> client\/b\.ts/);
  assert.match(r.stderr, /workflows\/task\.ts -> activities\/common\/errors\.ts: workflows\/ imports only/);
});

test('downward imports and self-contained constants for workflows pass, from any current directory', () => {
  const r = check('good', {
    'activities/contract.ts': 'export const A = 1;\n',
    'activities/io/names.ts': "import { A } from '../contract';\nexport const N = A;\n",
    'activities/training/step.ts': "import * as fs from 'node:fs';\nimport { N } from '../io/names';\nexport const step = [fs, N];\n",
    'workflows/task.ts': "import { N } from '../activities/io/names';\nexport const w = N;\n",
  }, '/');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /activities\/training +-> io \(1\)/);
  assert.match(r.stdout, /import rules hold \(4 files, 3 imports\)/);
});

test('this checkout keeps the rules', () => {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
