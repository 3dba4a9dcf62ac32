/** runComputeWithHeartbeat: compute in a child process, heartbeats with details, resume, cancellation, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import { runComputeWithHeartbeat } from '../../activities/common/heartbeat';
import { BadInputError } from '../../activities/common/errors';
import type { CountInput, CountProgress } from './fixtures/counting-compute';

const childModule = path.join(__dirname, 'fixtures', `counting-compute${path.extname(__filename)}`);

function run(env: MockActivityEnvironment, input: CountInput, heartbeatEveryMs = 50) {
  return env.run(() => runComputeWithHeartbeat<CountInput, CountProgress, { steps: number; resumedFrom: number }>({ module: childModule, input, heartbeatEveryMs, cancelGraceMs: 5000 }));
}

test('heartbeats the child progress (also while the child blocks) and returns its result', async () => {
  const env = new MockActivityEnvironment();
  const beats: Array<CountProgress | undefined> = [];
  env.on('heartbeat', (d: CountProgress | undefined) => beats.push(d));
  const out = await run(env, { steps: 4, stepMs: 150 });
  assert.deepEqual(out, { steps: 4, resumedFrom: 0 });
  assert.deepEqual(beats.filter((b) => b !== undefined).map((b) => b!.step).filter((s, i, a) => a.indexOf(s) === i), [1, 2, 3, 4]);
  assert.ok(beats.length > 6, `periodic heartbeats while blocked (got ${beats.length})`);
});

test('a retry resumes from the previous attempt\'s heartbeat details', async () => {
  const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { step: 3 } });
  const out = await run(env, { steps: 5, stepMs: 10 });
  assert.deepEqual(out, { steps: 5, resumedFrom: 3 });
});

test('cancellation reaches the child, which checkpoints and stops; the activity ends cancelled', async () => {
  const env = new MockActivityEnvironment();
  const beats: CountProgress[] = [];
  env.on('heartbeat', (d: CountProgress | undefined) => {
    if (d) beats.push(d);
    if (d?.step === 2) env.cancel();
  });
  await assert.rejects(run(env, { steps: 1000, stepMs: 20 }), (err: unknown) => err instanceof CancelledFailure);
  const lastBeat = beats[beats.length - 1];
  assert.equal(lastBeat.checkpointed, true, 'the child checkpointed before stopping');
  assert.ok(lastBeat.step < 50, `stopped soon after the cancel (step ${lastBeat.step})`);
});

test('bad input in the child arrives as BadInputError (non-retryable after mapping); a crash as an error', async () => {
  await assert.rejects(run(new MockActivityEnvironment(), { steps: 3, stepMs: 1, badInput: true }), (err: unknown) =>
    err instanceof BadInputError && err.file === '/data/imagesTr/case_001_0000.nii.gz' && /2 dimensions/.test(err.message));
  await assert.rejects(run(new MockActivityEnvironment(), { steps: 9, stepMs: 1, crashAt: 2 }), /exited \(code 3\) without a result/);
});

test('the compute child stops by itself when its worker process dies (IPC channel closes)', async () => {
  const child = fork(childModule, [], { execArgv: process.execArgv.filter((a) => !a.startsWith('--test')), serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<void>((resolve) => child.on('message', (m: { type: string; details?: CountProgress }) => {
    if (m.type === 'progress' && (m.details?.step ?? 0) >= 2) resolve();
  }));
  child.send({ type: 'start', input: { steps: 1_000_000, stepMs: 20 } });
  await started;
  const cut = Date.now();
  child.disconnect(); // what the child sees when the worker is SIGKILLed
  const code = await exited;
  assert.ok(Date.now() - cut < 5000, 'the orphan stopped within seconds');
  assert.equal(code, 0);
});
