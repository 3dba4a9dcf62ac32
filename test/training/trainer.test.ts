import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadUNet } from '../../activities/inference/network-predictor';
import { readPlansFile } from '../../activities/planning/plans-file';
import { CHECKPOINT_FILES, readCheckpoint } from '../../activities/training/checkpoint';
import { NnUNetTrainerV2, scaledValidationIterations } from '../../activities/training/trainer';
import { registerTrainer, trainerClass } from '../../activities/training/trainer-registry';
import { foldDirFor, runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { runTrainingFoldInChild } from '../../activities/training/train-process';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import type { TrainInput, TrainOutput, TrainProgress } from '../../activities/contract';
import { train } from '../../activities/training/activity';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

const input = (over: Partial<TrainFoldInput>): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer: 'nnUNetTrainerV2',
  epochs: 3, iterationsPerEpoch: 3, ...over, runtime: { seed: 7, validationTta: false, ...over.runtime },
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('a fold trains (loss falls), writes the results tree and validates; a finished fold returns at once', async () => {
  const r = await runTrainingFold(input({ epochs: 5, iterationsPerEpoch: 4 }));
  assert.equal(r.status, 'done');
  if (r.status !== 'done') return;
  const ckpt = readCheckpoint(r.finalCheckpoint);
  const losses = ckpt.meta.history.trainLosses;
  console.log(`train loss per epoch: ${losses.map((l) => l.toFixed(3)).join(' ')}; val pseudo-Dice ${ckpt.meta.history.evalMetrics.map((d) => d?.toFixed(3)).join(' ')}`);
  assert.equal(losses.length, 5);
  assert.ok(Math.min(losses[3]!, losses[4]!) < losses[0]! - 0.1, `train loss did not fall: ${losses.join(', ')}`);
  assert.equal(r.epochs, 5);
  assert.ok(!fs.existsSync(path.join(r.foldDir, CHECKPOINT_FILES.latest)), 'model_latest is removed at the end, as nnU-Net does');

  const debug = JSON.parse(fs.readFileSync(path.join(r.foldDir, 'debug.json'), 'utf8'));
  assert.ok(debug.num_parameters > 1000 && typeof debug.backend === 'string' && debug.encoder_shapes.length === 3);
  assert.deepEqual(debug.encoder_shapes.map((s: { shape: number[] }) => s.shape), [[16, 16, 16], [8, 8, 8], [4, 4, 4]]);

  const png = fs.readFileSync(path.join(r.foldDir, 'progress.png'));
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'progress.png is a PNG');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.ok(png.readUInt32BE(16) >= 700 && png.readUInt32BE(20) >= 400, 'a real plot size');
  assert.ok(fs.readdirSync(r.foldDir).some((f) => /^training_log_\d{4}_\d+_\d+_\d\d_\d\d_\d\d\.txt$/.test(f)));
  assert.ok(fs.existsSync(path.join(path.dirname(r.foldDir), 'plans.json')), 'plans copied beside the folds for inference');

  const splits = JSON.parse(fs.readFileSync(path.join(task.paths.preprocessedDir, 'splits_final.json'), 'utf8')) as { val: string[] }[];
  const validation = path.join(r.foldDir, 'validation_raw');
  assert.deepEqual(fs.readdirSync(validation).filter((f) => f.endsWith('.nii.gz')).sort(), splits[0]!.val.map((id) => `${id}.nii.gz`));
  const summary = JSON.parse(fs.readFileSync(path.join(validation, 'summary.json'), 'utf8'));
  assert.ok(summary.results.mean['1'].Dice > 0, 'the organ is found at all after 20 steps');
  assert.ok(typeof r.validationMeanDice === 'number' && r.validationMeanDice > 0);

  // The inference side loads the final checkpoint into the network the copied plans describe.
  const modelPlansFile = path.join(path.dirname(r.foldDir), 'plans.json');
  const net = loadUNet(readPlansFile(modelPlansFile), '3d_fullres', task.plansFile, r.finalCheckpoint);
  assert.deepEqual(net.getWeights()[0], ckpt.weights[0]);
  net.dispose();

  const mtime = fs.statSync(r.finalCheckpoint).mtimeMs;
  const t0 = Date.now();
  const again = await runTrainingFold(input({ epochs: 5, iterationsPerEpoch: 4 }));
  assert.ok(Date.now() - t0 < 1000, 'idempotent: no training the second time');
  assert.deepEqual(again, r);
  assert.equal(fs.statSync(r.finalCheckpoint).mtimeMs, mtime);
});

test('stop after epoch 2 + continue gives the same weights and losses as an uninterrupted run (same seed)', async () => {
  const common = { fold: 1 as const, runtime: { skipValidation: true } };
  const straight = await runTrainingFold(input(common));
  assert.equal(straight.status, 'done');
  if (straight.status !== 'done') return;
  const want = readCheckpoint(straight.finalCheckpoint);
  fs.rmSync(straight.foldDir, { recursive: true });

  let stop = false;
  const first = await runTrainingFold(input(common), { shouldStop: () => stop, onProgress: (p) => { if (p.epoch === 2) stop = true; } });
  assert.equal(first.status, 'stopped');
  if (first.status !== 'stopped') return;
  assert.equal(first.epoch, 2);
  assert.equal(path.basename(first.checkpoint), CHECKPOINT_FILES.latest);
  assert.equal(readCheckpoint(first.checkpoint).meta.epoch, 2);

  const resumed = await runTrainingFold(input({ ...common, continueTraining: true }));
  assert.equal(resumed.status, 'done');
  if (resumed.status !== 'done') return;
  const got = readCheckpoint(resumed.finalCheckpoint);
  assert.equal(got.meta.epoch, 3);
  assert.deepEqual(got.meta.history.trainLosses, want.meta.history.trainLosses, 'epoch 3 sees the same batches and weights');
  assert.deepEqual(got.meta.history.valLosses, want.meta.history.valLosses);
  let maxDiff = 0;
  got.weights.forEach((w, i) => w.forEach((v, j) => { maxDiff = Math.max(maxDiff, Math.abs(v - want.weights[i]![j]!)); }));
  assert.ok(maxDiff <= 1e-6, `weights differ by ${maxDiff}`);
  assert.deepEqual(got.momentum.map((m) => m.length), want.momentum.map((m) => m.length));
});

test('a trainer subclass registered by name sets its own schedule', async () => {
  class TinyTrainer extends NnUNetTrainerV2 {
    protected override maxEpochs = 1;
    protected override iterationsPerEpoch = 2;
    protected override validationIterations = 1;
  }
  registerTrainer('nnUNetTrainerV2_tiny', TinyTrainer);
  assert.equal(trainerClass('nnUNetTrainerV2_tiny'), TinyTrainer);
  assert.throws(() => trainerClass('NoSuchTrainer'), /unknown trainer 'NoSuchTrainer'.*nnUNetTrainerV2/);
  const r = await runTrainingFold(input({ trainer: 'nnUNetTrainerV2_tiny', fold: 2, epochs: undefined, iterationsPerEpoch: undefined, runtime: { skipValidation: true } }));
  assert.equal(r.status, 'done');
  assert.match(foldDirFor({ ...input({}), trainer: 'nnUNetTrainerV2_tiny', fold: 2 }), /nnUNetTrainerV2_tiny__nnUNetPlansv2\.1[/\\]fold_2$/);
  const meta = readCheckpoint(path.join(r.foldDir, CHECKPOINT_FILES.final)).meta;
  assert.equal(meta.epoch, 1);
  assert.equal(meta.iterationsPerEpoch, 2);
  assert.equal(scaledValidationIterations(250), 50);
  assert.equal(scaledValidationIterations(3), 1);
  assert.equal(scaledValidationIterations(100), 20);
});

test('in a child process: cancellation checkpoints and stops; continuing finishes the fold', async () => {
  const abort = new AbortController();
  const progress: number[] = [];
  const common = { fold: 3 as const, epochs: 3, iterationsPerEpoch: 2, runtime: { skipValidation: true } };
  const stopped = await runTrainingFoldInChild(input(common), { signal: abort.signal, onProgress: (p) => { progress.push(p.epoch); abort.abort(); } });
  assert.equal(stopped.status, 'stopped');
  if (stopped.status !== 'stopped') return;
  assert.ok(stopped.epoch >= 1 && stopped.epoch < 3, `stopped after epoch ${stopped.epoch}`);
  assert.equal(readCheckpoint(stopped.checkpoint).meta.epoch, stopped.epoch);
  assert.deepEqual(progress.slice(0, 1), [1]);

  const done = await runTrainingFoldInChild(input({ ...common, continueTraining: true }), { onProgress: (p) => progress.push(p.epoch) });
  assert.equal(done.status, 'done');
  assert.equal(progress.at(-1), 3);
  assert.equal(readCheckpoint(path.join(stopped.foldDir, CHECKPOINT_FILES.final)).meta.history.trainLosses.length, 3);

  await assert.rejects(runTrainingFoldInChild(input({ fold: 4, plansFile: path.join(task.root, 'missing_plans_3D.json') })), /missing_plans_3D\.json/);
});

const quiet = { logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } };

test('the train activity heartbeats TrainProgress per epoch; cancellation checkpoints and stops; the retry resumes', async () => {
  const activityInput = { ...input({ fold: 4, epochs: 3, iterationsPerEpoch: 2 }), runtime: { skipValidation: true } } as TrainInput;
  const beats: TrainProgress[] = [];
  const env = new MockActivityEnvironment({ attempt: 1 }, quiet);
  env.on('heartbeat', (d?: TrainProgress) => {
    if (!d) return;
    beats.push(d);
    if (d.epoch === 1) env.cancel();
  });
  await assert.rejects(env.run(train, activityInput), (e: unknown) => e instanceof CancelledFailure);
  const first = beats[0]!;
  assert.equal(first.epoch, 1);
  assert.equal(first.totalEpochs, 3);
  assert.ok(Number.isFinite(first.trainLoss) && Number.isFinite(first.valLoss) && first.pseudoDice!.length === 2);
  const foldDir = foldDirFor(activityInput);
  const saved = readCheckpoint(path.join(foldDir, CHECKPOINT_FILES.latest)).meta.epoch;
  assert.ok(saved >= 1 && saved < 3, `checkpoint after epoch ${saved}`);

  const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: beats.at(-1) }, quiet);
  const resumedEpochs: number[] = [];
  retry.on('heartbeat', (d?: TrainProgress) => { if (d && d !== beats.at(-1)) resumedEpochs.push(d.epoch); });
  const out = (await retry.run(train, activityInput)) as TrainOutput;
  assert.equal(out.epochs, 3);
  assert.equal(resumedEpochs[0], saved + 1, 'the retry starts after the checkpointed epoch');
});
