/**
 * nnUNetv2_train as a durable fold workflow, on the tiny v2 dataset (test/training/v2/fixture.ts) with one worker of
 * two training slots: folds 0 and 1 train at the same time, a second call for fold 0 attaches to its running
 * workflow, and the training child of one fold killed after a checkpoint costs only that attempt: the retry
 * continues from checkpoint_latest.pth; `nnunet status --workflow` shows the fold. Then on the finished folds: --c
 * returns at once, --val --npz only validates.
 * Budget: 5 epochs × 2 iterations, checkpoint_latest.pth every epoch.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkpointEpochV2 } from '../../activities/training/v2/checkpoint';
import { readTorchCheckpoint } from '../../activities/io/torch-checkpoint';
import { startDevServer } from '../../client/temporal/devserver';
import { assertBuilt, binShim } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { TINY_DATASET, tinyPreprocessedV2, type TinyV2 } from '../training/v2/fixture';
import { startCli, trainingChildIn } from './helpers';
import { startCliGroup } from './pipeline-helpers';

const skip = temporalUnavailable() ?? false;
const EPOCHS = 5;
const FOLDS = [0, 1] as const;
const MODEL = 'nnUNetTrainer__nnUNetPlans__3d_fullres';
const workflowId = (f: number) => `nnunet-v2-fold-${TINY_DATASET}-${MODEL}-${f}`;
let data: TinyV2 | undefined;
after(() => data?.cleanup());

/** Epochs in the fold's checkpoint_latest.pth (0 while there is none). */
function latestEpoch(foldDir: string): number {
  try {
    return checkpointEpochV2(path.join(foldDir, 'checkpoint_latest.pth'));
  } catch {
    return 0;
  }
}

interface FoldLog { starts: number[]; slots: string[]; from: number; to: number; logs: number }

/** A fold's training logs: the epoch each start continued from, the slots it ran in, the time of its first and last epoch line. */
function readFoldLog(dir: string): FoldLog {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^training_log_.*\.txt$/.test(f)).sort() : [];
  const lines = files.flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'));
  const at = (l: string) => Date.parse(l.slice(0, l.indexOf(': ')));
  const starts = lines.flatMap((l) => [...l.matchAll(/epochs from epoch (\d+)/g)].map((m) => Number(m[1])));
  const slots = lines.flatMap((l) => [...l.matchAll(/training (slot \d\/\d \(CPU\))/g)].map((m) => m[1]!));
  const epochLines = lines.filter((l) => /epochs from epoch|: train_loss /.test(l)).map(at);
  return { starts, slots, from: Math.min(...epochLines), to: Math.max(...epochLines), logs: files.length };
}

test('nnUNetv2_train: two folds at once as fold workflows, a second call attaches, a killed training child resumes from checkpoint_latest', { skip, timeout: 600_000 }, async () => {
  assertBuilt();
  const d = (data = tinyPreprocessedV2());
  const server = await startDevServer({ dbFile: path.join(d.root, 'server', 'temporal.db'), uiPort: false, readyTimeoutMs: 180_000 });
  const env = {
    nnUNet_raw: path.join(d.root, 'raw'), nnUNet_preprocessed: path.dirname(d.preprocessedDir), nnUNet_results: d.resultsRoot, TEMPORAL_ADDRESS: server.address,
    NNUNET_EPOCHS: String(EPOCHS), NNUNET_ITERATIONS_PER_EPOCH: '2', NNUNET_CHECKPOINT_EVERY_EPOCHS: '1', NNUNET_LOG_LEVEL: 'warn',
  };
  const worker = startCliGroup(['worker', '--queue', 'all', '--slots', '2'], env);
  const dirs = FOLDS.map((f) => path.join(d.resultsRoot, TINY_DATASET, MODEL, `fold_${f}`));
  const train = (f: number, ...flags: string[]) => startCli([TINY_DATASET, '3d_fullres', String(f), ...flags], env, 400_000, binShim('nnUNetv2_train'));
  try {
    await worker.until(() => /worker ready: .* training slots: 2 \(CPU\)/.test(worker.output), 120_000, 'the worker with two slots');
    const calls = [train(0), train(0), train(1)];

    // Both folds training at once; the one with less done loses its training child after a checkpoint.
    await worker.until(() => dirs.every((dir) => readFoldLog(dir).slots.length > 0), 200_000, 'both folds training');
    const victim = latestEpoch(dirs[0]!) <= latestEpoch(dirs[1]!) ? 0 : 1;
    await worker.until(() => latestEpoch(dirs[victim]!) >= 1, 200_000, `a checkpoint_latest.pth in fold ${victim}`);
    const slot = Number(/slot (\d)/.exec(readFoldLog(dirs[victim]!).slots[0]!)![1]);
    const child = trainingChildIn(worker.pid, slot);
    assert.ok(child, `fold ${victim}'s training child (slot ${slot})`);
    process.kill(child, 'SIGKILL');

    const runs = await Promise.all(calls.map((c) => c.done));
    for (const r of runs) assert.equal(r.code, 0, r.stdout + r.stderr);
    const out0 = runs.slice(0, 2).map((r) => r.stdout + r.stderr);
    assert.equal(out0.filter((o) => o.includes(`started ${workflowId(0)}`)).length, 1, `one call started fold 0:\n${out0.join('\n---\n')}`);
    assert.equal(out0.filter((o) => o.includes(`attached to ${workflowId(0)} (running)`)).length, 1, 'the other attached to it');
    assert.match(runs[2]!.stdout, new RegExp(`started ${workflowId(1)}[\\s\\S]*no --c: 3d_fullres fold 1 starts over`));

    const logs = dirs.map(readFoldLog);
    const overlapMs = Math.min(logs[0]!.to, logs[1]!.to) - Math.max(logs[0]!.from, logs[1]!.from);
    console.log(`starts: fold 0 at epochs ${logs[0]!.starts}, fold 1 at epochs ${logs[1]!.starts}; slots ${logs.map((l) => l.slots.join('+')).join(' / ')}; overlap ${overlapMs} ms`);
    assert.ok(overlapMs > 0, 'the two folds trained at the same time');
    assert.deepEqual(new Set(logs.flatMap((l) => l.slots)), new Set(['slot 1/2 (CPU)', 'slot 2/2 (CPU)']), 'both slots used');
    assert.equal(logs[victim]!.starts.length, 2, `the killed fold ${victim} started twice`);
    assert.ok(logs[victim]!.starts[1]! >= 1, `it continued from its checkpoint (epoch ${logs[victim]!.starts[1]})`);
    assert.match(fs.readdirSync(dirs[victim]!).map((f) => f.startsWith('training_log_') ? fs.readFileSync(path.join(dirs[victim]!, f), 'utf8') : '').join(''), /continuing from checkpoint_latest\.pth/);
    assert.equal(logs[1 - victim]!.starts.length, 1, 'the other fold went on undisturbed');
    for (const dir of dirs) {
      const final = path.join(dir, 'checkpoint_final.pth');
      assert.equal(checkpointEpochV2(final), EPOCHS);
      const losses = (readTorchCheckpoint(final).meta.logging as { train_losses: number[] }).train_losses;
      assert.equal(losses.length, EPOCHS, 'one loss per epoch: none trained twice or lost');
      assert.ok(fs.existsSync(path.join(dir, 'validation', 'summary.json')), `${dir} validated`);
    }

    const status = await startCli(['status', '--workflow', workflowId(1)], env, 60_000).done;
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`${workflowId(1)}[\\s\\S]*fold 1\\s+done`), 'nnunet status --workflow shows the fold');

    // On the finished folds: --c returns at once (nothing trained), --val --npz only validates, now with the probabilities.
    const finalMtime = (f: number) => fs.statSync(path.join(dirs[f]!, 'checkpoint_final.pth')).mtimeMs;
    const before = [finalMtime(0), finalMtime(1)];
    const again = await train(0, '--c').done;
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /--c: 3d_fullres fold 0 continues/);
    assert.deepEqual([finalMtime(0), readFoldLog(dirs[0]!).logs], [before[0], logs[0]!.logs], 'a finished fold returns at once');
    const val = await train(1, '--val', '--npz').done;
    assert.equal(val.code, 0, val.stderr);
    assert.match(val.stdout, /--val: validating 3d_fullres fold 1 again from its final checkpoint/);
    assert.equal(finalMtime(1), before[1], '--val trains nothing');
    assert.ok(fs.readdirSync(path.join(dirs[1]!, 'validation')).some((f) => f.endsWith('.npz')), '--npz wrote the probabilities');
  } finally {
    worker.killGroup();
    await worker.done;
    await server.stop();
  }
});
