/**
 * Durability against a real local Temporal dev server: a worker process killed with SIGKILL in the middle of
 * a long heartbeating activity, and the server itself stopped and restarted on the same SQLite file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createWorkers, type NnunetWorkers } from '../../worker';
import { startOrAttachTask } from '../../client/temporal/task-client';
import type { TaskWorkflowInput } from '../../workflows/options';
import type { TaskResult } from '../../workflows/state';
import { makeTaskPaths, nodeEntry, repoRoot, startTestServer, temporalUnavailable, testWorkflowBundle, waitFor, type TestServer } from '../helpers/temporal';
import { mockActivities, readEvents, type MockBehaviour } from './fixtures/mock-activities';

const skip = temporalUnavailable();
const HEARTBEAT_TIMEOUT_MS = 3000;
const timing = { trainHeartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, retryInitialIntervalMs: 200, retryMaximumIntervalMs: 500, retryMaximumAttempts: 0 };

/** A worker process (worker/main) with the mocked activities, started and stopped by the test. */
function spawnWorker(address: string, bundlePath: string, eventsDir: string, behaviour: MockBehaviour): { child: ChildProcess; ready: Promise<void>; output: () => string } {
  const activitiesModule = __filename.endsWith('.ts')
    ? path.join(repoRoot, 'test', 'workflows', 'fixtures', 'env-activities.ts')
    : path.join(repoRoot, 'dist', 'test', 'workflows', 'fixtures', 'env-activities.js');
  const child = spawn(process.execPath, [...nodeEntry('worker/main'), '--address', address, '--queue', 'all', '--workflow-bundle', bundlePath, '--activities', activitiesModule], {
    env: { ...process.env, NNUNET_MOCK_DIR: eventsDir, NNUNET_MOCK_BEHAVIOUR: JSON.stringify(behaviour) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => out.includes('worker ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready:\n${out}`)));
  });
  return { child, ready, output: () => out };
}

function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

describe('worker crash and resume', { skip }, () => {
  let t: TestServer;
  const workers: ChildProcess[] = [];
  before(async () => {
    t = await startTestServer('crash');
  });
  after(async () => {
    for (const w of workers) await stopProcess(w);
    await t?.close();
  });

  test('SIGKILL mid-training: a second worker resumes from the heartbeat details; finished steps do not rerun', async (tc) => {
    const eventsDir = path.join(t.dir, 'events');
    // Heartbeats reach the server at most every 0.8 × heartbeat timeout (SDK throttling): train past that.
    const behaviour: MockBehaviour = { planned: ['2d'], epochs: 40, epochMs: 200 };
    const { codePath } = await testWorkflowBundle();
    const a = spawnWorker(t.server.address, codePath, eventsDir, behaviour);
    workers.push(a.child);
    await a.ready;
    const input: TaskWorkflowInput = { paths: makeTaskPaths(t.dir, 'Task201_Crash'), options: { folds: [0] }, timing };
    const { handle } = await startOrAttachTask(t.client, input);
    await waitFor('worker A to reach epoch 16', () => (readEvents(eventsDir).some((e) => e.pid === a.child.pid && e.phase === 'progress' && (e.epoch ?? 0) >= 16) ? true : undefined), 40_000);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await stopProcess(a.child);

    const b = spawnWorker(t.server.address, codePath, eventsDir, behaviour);
    workers.push(b.child);
    await b.ready;
    const result = (await handle.result()) as TaskResult;
    assert.equal(result.training?.[0].epochs, 40);

    const ev = readEvents(eventsDir);
    const trainStarts = ev.filter((e) => e.activity === 'train' && e.phase === 'start');
    assert.deepEqual(trainStarts.map((e) => [e.pid, e.attempt]), [[a.child.pid, 1], [b.child.pid, 2]], 'attempt 2 on the second worker');
    assert.ok(trainStarts[1].t - killedAt >= HEARTBEAT_TIMEOUT_MS - 500, 'retried after the heartbeat timeout');
    const resumed = ev.find((e) => e.pid === b.child.pid && e.phase === 'progress' && e.resumedFrom !== undefined)!;
    const lastBeforeKill = Math.max(...ev.filter((e) => e.pid === a.child.pid && e.phase === 'progress').map((e) => e.epoch ?? 0));
    // The first heartbeat (epoch 1) is sent at once, later ones every 2.4 s: a later one must have arrived.
    assert.ok(resumed.resumedFrom! > 1, `resumed from epoch ${resumed.resumedFrom} of ${lastBeforeKill}, not from the start`);
    assert.ok(resumed.resumedFrom! <= lastBeforeKill);
    tc.diagnostic(`worker A killed at epoch ${lastBeforeKill}; worker B resumed from epoch ${resumed.resumedFrom} after ${trainStarts[1].t - killedAt} ms`);
    const bEpochs = ev.filter((e) => e.pid === b.child.pid && e.phase === 'progress' && e.resumedFrom === undefined).map((e) => e.epoch);
    assert.equal(bEpochs[0], resumed.resumedFrom! + 1, 'worker B continued with the next epoch');
    for (const activity of ['verifyDataset', 'fingerprint', 'plan', 'preprocess', 'findBestConfiguration', 'postprocess']) {
      assert.equal(ev.filter((e) => e.activity === activity && e.phase === 'start').length, 1, `${activity} ran once`);
    }
  });
});

describe('server restart', { skip }, () => {
  let t: TestServer;
  let workers: NnunetWorkers | undefined;
  let running: Promise<void> | undefined;
  before(async () => {
    t = await startTestServer('restart');
  });
  after(async () => {
    workers?.shutdown();
    await running?.catch(() => {});
    await t?.close();
  });

  test('the dev server is stopped and restarted on the same SQLite file mid-task; the workflow completes', async (tc) => {
    const eventsDir = path.join(t.dir, 'events');
    const activities = mockActivities(eventsDir, () => ({ planned: ['2d'], epochs: 30, epochMs: 150 }));
    workers = await createWorkers({ connection: t.native, queues: 'all', activities, workflowBundle: await testWorkflowBundle(), shutdownGraceTimeMs: 1000 });
    running = workers.run();
    const workerError = running.then(() => undefined, (err: unknown) => err);
    const input: TaskWorkflowInput = { paths: makeTaskPaths(t.dir, 'Task202_Restart'), options: { folds: [0] }, timing };
    const { handle } = await startOrAttachTask(t.client, input);
    const workflowId = handle.workflowId;
    await waitFor('training to start', () => (readEvents(eventsDir).some((e) => e.phase === 'progress' && (e.epoch ?? 0) >= 3) ? true : undefined), 40_000);
    const down = Date.now();
    await t.restart();
    tc.diagnostic(`server down and back up in ${Date.now() - down} ms`);
    const status = await waitFor('the workflow to complete after the restart', async () => {
      try {
        const s = (await t.client.workflow.getHandle(workflowId).describe()).status.name;
        return s === 'RUNNING' ? undefined : s;
      } catch {
        return undefined; // the client reconnects
      }
    }, 90_000, 500);
    assert.equal(status, 'COMPLETED', `worker: ${String(await Promise.race([workerError, Promise.resolve('running')]))}`);
    const result = (await t.client.workflow.getHandle(workflowId).result()) as TaskResult;
    assert.equal(result.training?.[0].epochs, 30);
    assert.ok(fs.existsSync(t.dbFile));
    const ev = readEvents(eventsDir);
    for (const activity of ['verifyDataset', 'fingerprint', 'plan', 'preprocess']) {
      assert.equal(ev.filter((e) => e.activity === activity && e.phase === 'start').length, 1, `${activity} ran once`);
    }
  });
});

describe('graceful worker shutdown (Ctrl-C)', { skip }, () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('shutdown');
  });
  after(async () => {
    await t?.close();
  });

  test('a worker shut down mid-training hands it back at once: the next worker resumes without waiting for the heartbeat timeout', async (tc) => {
    const eventsDir = path.join(t.dir, 'events');
    const activities = mockActivities(eventsDir, () => ({ planned: ['2d'], epochs: 60, epochMs: 100 }));
    const bundle = await testWorkflowBundle();
    const first = await createWorkers({ connection: t.native, queues: 'all', activities, workflowBundle: bundle, shutdownGraceTimeMs: 500 });
    const firstRun = first.run();
    const input: TaskWorkflowInput = { paths: makeTaskPaths(t.dir, 'Task203_Shutdown'), options: { folds: [0] }, timing: { ...timing, trainHeartbeatTimeoutMs: 60_000 } };
    const { handle } = await startOrAttachTask(t.client, input);
    await waitFor('training epoch 30', () => (readEvents(eventsDir).some((e) => e.phase === 'progress' && (e.epoch ?? 0) >= 30) ? true : undefined), 40_000);
    const stoppedAt = Date.now();
    first.shutdown();
    await firstRun;
    const second = await createWorkers({ connection: t.native, queues: 'all', activities, workflowBundle: bundle, shutdownGraceTimeMs: 500 });
    const secondRun = second.run();
    try {
      const result = (await handle.result()) as TaskResult;
      assert.equal(result.training?.[0].epochs, 60);
    } finally {
      second.shutdown();
      await secondRun;
    }
    const starts = readEvents(eventsDir).filter((e) => e.activity === 'train' && e.phase === 'start');
    assert.equal(starts.length, 2);
    const resumed = readEvents(eventsDir).find((e) => e.attempt === 2 && e.resumedFrom !== undefined)!;
    tc.diagnostic(`attempt 2 started ${starts[1].t - stoppedAt} ms after shutdown, resumed from epoch ${resumed.resumedFrom}`);
    assert.ok(starts[1].t - stoppedAt < 30_000, 'well before the 60 s heartbeat timeout');
    assert.ok(resumed.resumedFrom! >= 1);
  });
});
