import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { tmpDir } from './helpers';
import { writeTinyTask } from './tiny-task';

/** Runs the real CLI in a child process (compiled cli.js under dist/, cli.ts with tsx's loader otherwise). */
function run(args: string[]): { out: string; code: number } {
  const js = path.join(__dirname, '..', '..', 'client', 'cli.js');
  const cli = fs.existsSync(js) ? js : path.join(__dirname, '..', '..', 'client', 'cli.ts');
  const r = spawnSync(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), cli, ...args], { encoding: 'utf8' });
  return { out: r.stdout, code: r.status ?? -1 };
}

test('nnunet verify: exit 0 and OK for a good task, exit 1 listing problems for a bad one', () => {
  const dir = writeTinyTask(tmpDir(), { format: 'v1', cases: 2 });
  const good = run(['verify', '-t', dir]);
  assert.equal(good.code, 0);
  assert.match(good.out, /OK \(2 training, 0 test cases; modalities CT, MRI; labels background, a, b\)/);
  fs.rmSync(path.join(dir, 'labelsTr', 'case_001.nii.gz'));
  const bad = run(['verify', '-t', dir, '--json']);
  assert.equal(bad.code, 1);
  const report = JSON.parse(bad.out);
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p: { check: string; case: string; file: string }) => [p.check, p.case, p.file]), [['missing-file', 'case_001', 'labelsTr/case_001.nii.gz']]);
});

test('nnunet inspect --json prints the report', () => {
  const dir = writeTinyTask(tmpDir(), { format: 'v1', cases: 1 });
  const r = run(['inspect', '--json', path.join(dir, 'labelsTr', 'case_000.nii.gz')]);
  const report = JSON.parse(r.out);
  assert.deepEqual(report.shape, [4, 5, 6]);
  assert.deepEqual(report.labelValues, [0, 1, 2]);
  assert.equal(report.dtype, 'uint8');
});
