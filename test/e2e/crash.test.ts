/**
 * Crashes during training, end to end with the real CLI and real activities:
 * 1. kill -9 of the whole `nnunet run` (its process group: client, in-process workers, the training child; and
 *    the embedded server, which runs in its own group): the same command again continues the same workflow,
 *    nothing before training runs again (files untouched), training resumes from its last checkpoint.
 * 2. kill -9 of a separate `nnunet worker` (TEMPORAL_ADDRESS, a dev server of the test's own): a second worker
 *    on the same host restarts the dead worker's training at once (a worker elsewhere would get it after the
 *    heartbeat timeout) and finishes the task; `run --detach` / `status` only start and query.
 * Checkpoints every epoch (NNUNET_CHECKPOINT_EVERY_EPOCHS=1) and a 15 s heartbeat timeout (--config) keep it short.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint } from '../../activities/training/checkpoint';
import { startDevServer, type DevServer } from '../../client/temporal/devserver';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, type DataEnv } from './helpers';
import { alive, fileStamps, startCliGroup } from './pipeline-helpers';

const skip = temporalUnavailable() ?? false;
let data: DataEnv;
let configFile: string;

before(() => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('crash');
  configFile = path.join(data.root, 'config.yaml');
  fs.writeFileSync(configFile, 'training:\n  heartbeatTimeoutSeconds: 15\n');
});
after(() => data?.remove());

const EPOCHS = 6;
const taskName = (id: number) => `Task${id}_Demo`;
const foldDir = (id: number) => path.join(data.env.RESULTS_FOLDER, 'nnUNet', '2d', taskName(id), 'nnUNetTrainerV2__nnUNetPlansv2.1', 'fold_0');
const runArgs = (id: number) => ['--config', configFile, 'run', '-t', String(id), '-c', '2d', '-f', '0', '--epochs', String(EPOCHS), '--iters', '2'];

/** The epoch of fold 0's model_latest.model, or 0 while there is none (or it is being replaced). */
function latestCheckpointEpoch(id: number): number {
  try {
    return readCheckpoint(path.join(foldDir(id), 'model_latest.model')).meta.epoch;
  } catch {
    return 0;
  }
}

/** The epoch each training start continued from, in order ("continuing from X (epoch N)" / "starting at epoch 0"). */
function trainingStarts(id: number): number[] {
  const logs = fs.readdirSync(foldDir(id)).filter((f) => /^training_log_.*\.txt$/.test(f)).sort();
  return logs.flatMap((f) => {
    const text = fs.readFileSync(path.join(foldDir(id), f), 'utf8');
    return [...text.matchAll(/epochs from epoch (\d+)/g)].map((m) => Number(m[1]));
  });
}

/** Everything the steps before training wrote: cropped and preprocessed data, fingerprint, plans, manifests. */
function stepOutputs(id: number): Record<string, string> {
  return {
    ...fileStamps(path.join(data.env.nnUNet_raw_data_base, 'nnUNet_cropped_data', taskName(id))),
    ...Object.fromEntries(Object.entries(fileStamps(path.join(data.env.nnUNet_preprocessed, taskName(id)))).map(([k, v]) => [`pre/${k}`, v])),
  };
}

async function demo(id: number, env: Record<string, string>): Promise<void> {
  const r = await startCli(['demo-dataset', '-t', String(id), '--cases', '5', '--test-cases', '0'], env).done;
  assert.equal(r.code, 0, r.stderr);
}

test('kill -9 of the whole nnunet run during training; the same command again finishes from the last checkpoint', { skip, timeout: 300_000 }, async () => {
  const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn', NNUNET_CHECKPOINT_EVERY_EPOCHS: '1' };
  await demo(941, env);
  const first = startCliGroup(runArgs(941), env);
  await first.until(() => latestCheckpointEpoch(941) >= 1, 200_000, 'a checkpoint after epoch 1');
  const before = stepOutputs(941);
  assert.ok(Object.keys(before).some((f) => f.startsWith('pre/nnUNetData_plans_v2.1_2D_stage0/')), 'preprocessed data exists');
  const lock = JSON.parse(fs.readFileSync(path.join(data.temporalDir, 'server.lock'), 'utf8')) as { serverPid: number };
  const killedAt = latestCheckpointEpoch(941);
  first.killGroup();
  process.kill(lock.serverPid, 'SIGKILL');
  assert.equal(await first.done, null, 'killed by a signal');
  for (let i = 0; i < 40 && alive(lock.serverPid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!alive(lock.serverPid), 'the embedded server is gone too');
  assert.ok(!fs.existsSync(path.join(foldDir(941), 'model_final_checkpoint.model')), 'killed before training ended');
  console.log(`killed with model_latest.model at epoch ${killedAt}`);

  const t0 = Date.now();
  const second = startCliGroup(runArgs(941), env);
  const code = await second.done;
  console.log(`second run: exit ${code} in ${Date.now() - t0} ms\n${second.output.split('\n').filter((l) => /attached|started|resum|completed|best/.test(l)).join('\n')}`);
  assert.equal(code, 0, second.output);
  assert.match(second.output, /attached to nnunet-task-941 \(running\)/, 'the same workflow continued (no new run)');
  assert.match(second.output, /task Task941_Demo completed/);
  assert.deepEqual(stepOutputs(941), before, 'verify/fingerprint/plan/preprocess outputs untouched');
  const starts = trainingStarts(941);
  console.log(`training started at epochs ${starts.join(', ')}`);
  assert.equal(starts[0], 0, 'the first run started at epoch 0');
  assert.equal(starts.length, 2, `two training starts: ${starts}`);
  assert.ok(starts[1] >= killedAt && starts[1] >= 1, `the second continued from the checkpoint (epoch ${starts[1]} >= ${killedAt})`);
  const final = readCheckpoint(path.join(foldDir(941), 'model_final_checkpoint.model'));
  assert.equal(final.meta.epoch, EPOCHS);
  assert.equal(final.meta.history.trainLosses.length, EPOCHS, 'one loss per epoch: no epoch trained twice or lost');
});

test('kill -9 of a separate nnunet worker during training; a second worker finishes the task', { skip, timeout: 300_000 }, async () => {
  const server: DevServer = await startDevServer({ dbFile: path.join(data.root, 'server', 'temporal.db'), uiPort: false, readyTimeoutMs: 180_000 });
  try {
    const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn', NNUNET_CHECKPOINT_EVERY_EPOCHS: '1', TEMPORAL_ADDRESS: server.address };
    await demo(942, env);
    const workerA = startCliGroup(['worker', '--queue', 'all'], env);
    const detach = await startCli([...runArgs(942), '--detach'], env, 60_000).done;
    assert.equal(detach.code, 0, detach.stderr);
    assert.match(detach.stdout + detach.stderr, /started nnunet-task-942/);
    await workerA.until(() => latestCheckpointEpoch(942) >= 1, 200_000, 'a checkpoint after epoch 1');
    const killedAt = latestCheckpointEpoch(942);
    workerA.killGroup();
    assert.equal(await workerA.done, null, 'killed by a signal');

    // Worker B starts at once and fails the dead worker's attempt by its id, so Temporal hands it the retry.
    const t0 = Date.now();
    const workerB = startCliGroup(['worker', '--queue', 'all'], env);
    const status = await startCli(['status', '-t', '942', '--json'], env, 60_000).done;
    assert.equal(status.code, 0, status.stderr);
    const view = JSON.parse(status.stdout) as { status: string; state?: { nodes: Array<{ id: string; status: string }> } };
    assert.equal(view.status, 'RUNNING', 'the task is still running: a lost worker fails nothing');
    assert.notEqual(view.state?.nodes.find((n) => n.id === 'train/2d/0')?.status, 'failed');
    try {
      await workerB.until(() => fs.existsSync(path.join(foldDir(942), 'model_final_checkpoint.model')), 200_000, 'the final checkpoint');
      const done = await startCli([...runArgs(942)], env, 200_000).done; // attaches and waits for the end
      console.log(`worker B finished in ${Date.now() - t0} ms; run: exit ${done.code}`);
      assert.equal(done.code, 0, done.stdout + done.stderr);
      assert.match(done.stdout, /task Task942_Demo completed/);
    } finally {
      workerB.killGroup();
      await workerB.done;
    }
    const starts = trainingStarts(942);
    console.log(`training started at epochs ${starts.join(', ')} (killed with model_latest.model at epoch ${killedAt})`);
    assert.equal(starts.length, 2, `two training starts: ${starts}`);
    assert.ok(starts[1] >= killedAt && starts[1] >= 1, `worker B continued from the checkpoint (epoch ${starts[1]} >= ${killedAt})`);
  } finally {
    await server.stop();
  }
});
