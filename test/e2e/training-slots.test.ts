/**
 * One worker, two training slots (`nnunet worker --slots 2`): folds 0 and 1 of one task train at the same time,
 * each in its own slot and child process (shown by the timestamps of their training logs), and a training
 * child killed mid-fold costs only that fold's attempt: the retry continues from the fold's last checkpoint while
 * the other fold goes on. A tiny budget (4 epochs x 2 iterations, a checkpoint every epoch) keeps it short.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint } from '../../activities/training/checkpoint';
import { startDevServer, type DevServer } from '../../client/temporal/devserver';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { makeDataEnv, startCli, trainingChildIn, type DataEnv } from './helpers';
import { startCliGroup } from './pipeline-helpers';

const skip = temporalUnavailable() ?? false;
const TASK = 945;
const EPOCHS = 4;
const FOLDS = [0, 1] as const;
let data: DataEnv | undefined;
after(() => data?.remove());

const foldDir = (d: DataEnv, f: number) => path.join(d.env.RESULTS_FOLDER, 'nnUNet', '2d', `Task${TASK}_Demo`, 'nnUNetTrainerV2__nnUNetPlansv2.1', `fold_${f}`);

function latestEpoch(dir: string): number {
  try {
    return readCheckpoint(path.join(dir, 'model_latest.model')).meta.epoch;
  } catch {
    return 0;
  }
}

interface FoldLog { starts: number[]; slots: string[]; from: number; to: number }

/** A fold's training logs: the epoch each start continued from, the slots it ran in, its first and last epoch line. */
function readFoldLog(dir: string): FoldLog {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const lines = files.filter((f) => /^training_log_.*\.txt$/.test(f)).sort()
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'));
  const at = (l: string) => Date.parse(l.slice(0, l.indexOf(': ')));
  const starts = lines.flatMap((l) => [...l.matchAll(/epochs from epoch (\d+)/g)].map((m) => Number(m[1])));
  const slots = lines.flatMap((l) => [...l.matchAll(/training (slot \d\/\d \(CPU\))/g)].map((m) => m[1]));
  const epochLines = lines.filter((l) => /epochs from epoch|This epoch took/.test(l)).map(at);
  return { starts, slots, from: Math.min(...epochLines), to: Math.max(...epochLines) };
}

test('nnunet worker --slots 2 trains two folds at once; a killed training child resumes its fold from the checkpoint', { skip, timeout: 300_000 }, async () => {
  assertBuilt();
  const d = (data = makeDataEnv('slots'));
  const server: DevServer = await startDevServer({ dbFile: path.join(d.root, 'server', 'temporal.db'), uiPort: false, readyTimeoutMs: 180_000 });
  const env = { ...d.env, NNUNET_LOG_LEVEL: 'warn', NNUNET_CHECKPOINT_EVERY_EPOCHS: '1', TEMPORAL_ADDRESS: server.address };
  const worker = startCliGroup(['worker', '--queue', 'all', '--slots', '2'], env);
  try {
    const demo = await startCli(['demo-dataset', '-t', String(TASK), '--cases', '5', '--test-cases', '0'], env).done;
    assert.equal(demo.code, 0, demo.stderr);
    await worker.until(() => /worker ready: .* training slots: 2 \(CPU\)/.test(worker.output), 120_000, 'the worker with two slots');
    const runArgs = ['run', '-t', String(TASK), '-c', '2d', '-f', '0', '1', '--epochs', String(EPOCHS), '--iters', '2', '--no-find-best', '--no-predict'];
    const detach = await startCli([...runArgs, '--detach'], env, 60_000).done;
    assert.equal(detach.code, 0, detach.stderr);

    // Both folds training at once; the one with less done (so not yet validating) loses its child after a checkpoint.
    const dirs = FOLDS.map((f) => foldDir(d, f));
    await worker.until(() => dirs.every((dir) => readFoldLog(dir).slots.length > 0), 200_000, 'both folds training');
    const victim = latestEpoch(dirs[0]) <= latestEpoch(dirs[1]) ? 0 : 1;
    await worker.until(() => latestEpoch(dirs[victim]) >= 1, 200_000, `a checkpoint in fold ${victim}`);
    const slot = Number(/slot (\d)/.exec(readFoldLog(dirs[victim]).slots[0])![1]);
    const child = trainingChildIn(worker.pid, slot);
    assert.ok(child, `fold ${victim}'s training child (slot ${slot})`);
    process.kill(child, 'SIGKILL');

    const done = await startCli(runArgs, env, 240_000).done; // attaches and waits for the end
    assert.equal(done.code, 0, done.stdout + done.stderr);
    const logs = dirs.map(readFoldLog);
    const overlapMs = Math.min(logs[0].to, logs[1].to) - Math.max(logs[0].from, logs[1].from);
    console.log(`fold 0 trained ${new Date(logs[0].from).toISOString()}..${new Date(logs[0].to).toISOString()}, fold 1 ${new Date(logs[1].from).toISOString()}..${new Date(logs[1].to).toISOString()}: overlap ${overlapMs} ms`);
    console.log(`starts: fold 0 at epochs ${logs[0].starts}, fold 1 at epochs ${logs[1].starts}; slots ${logs.map((l) => l.slots.join('+')).join(' / ')}`);
    assert.ok(overlapMs > 0, 'the two folds trained at the same time');
    assert.deepEqual(new Set(logs.flatMap((l) => l.slots)), new Set(['slot 1/2 (CPU)', 'slot 2/2 (CPU)']), 'both slots used');
    assert.equal(logs[victim].starts.length, 2, `the killed fold ${victim} started twice`);
    assert.ok(logs[victim].starts[1] >= 1, `it continued from its checkpoint (epoch ${logs[victim].starts[1]})`);
    assert.equal(logs[1 - victim].starts.length, 1, 'the other fold went on undisturbed');
    for (const dir of dirs) {
      const final = readCheckpoint(path.join(dir, 'model_final_checkpoint.model'));
      assert.equal(final.meta.epoch, EPOCHS);
      assert.equal(final.meta.history.trainLosses.length, EPOCHS, 'one loss per epoch: none trained twice or lost');
    }
  } finally {
    worker.killGroup();
    await worker.done;
    await server.stop();
  }
});
