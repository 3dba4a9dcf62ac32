/** Every command answers --help with exit code 0, and a usage error is exit code 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertBuilt, runCli } from './cli-helpers';

const COMMANDS = ['run', 'status', 'server', 'worker', 'doctor', 'sweep'];

test('nnunet --help lists the commands; each command has its own --help', () => {
  assertBuilt();
  const top = runCli(['--help']);
  assert.equal(top.status, 0, top.stderr);
  for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'), `${c} missing from nnunet --help`);
  const registered = [...top.stdout.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]).filter((c) => c !== 'help');
  for (const c of registered) {
    const r = runCli([c, '--help']);
    assert.equal(r.status, 0, `${c} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: nnunet ${c} `, 'm'));
  }
});

test('usage errors exit 2', () => {
  const r = runCli(['run', '--epochs', 'zero', '-t', '4']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--epochs must be a positive integer/);
  const q = runCli(['worker', '--queue', 'tpu']);
  assert.equal(q.status, 2, q.stderr);
  const c = runCli(['run', '-t', '4', '-c', '4d']);
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /unknown configuration '4d'/);
});

test('worker without a server to work for is a usage error; doctor --json reports its checks', () => {
  const w = runCli(['worker', '--queue', 'gpu'], { env: { RESULTS_FOLDER: '/nonexistent/results' } });
  assert.equal(w.status, 2, w.stderr);
  assert.match(w.stderr, /set TEMPORAL_ADDRESS/);
  const d = runCli(['doctor', '--json'], { env: { RESULTS_FOLDER: '/tmp/nnunet-doctor-results' } });
  const report = JSON.parse(d.stdout) as { ok: boolean; checks: Array<{ name: string; verdict: string; detail: string }> };
  assert.equal(d.status, report.ok ? 0 : 1);
  const names = report.checks.map((c) => c.name);
  for (const n of ['node', 'temporal CLI', 'config', 'RESULTS_FOLDER', 'temporal server', 'tensor backend', 'TensorFlow', 'GPUs', 'GPU training']) assert.ok(names.includes(n), `doctor lacks ${n}`);
  assert.equal(report.checks.find((c) => c.name === 'node')?.verdict, 'ok');
  assert.match(report.checks.find((c) => c.name === 'RESULTS_FOLDER')!.detail, /^\/tmp\/nnunet-doctor-results /);
});
