/**
 * Child process of `bench vs-nnunet` for our side: one job (JSON argument), one JSON line out, so peak RSS
 * (getrusage maxRSS, batch worker threads included) is that job's alone.
 * Usage: node dist/bench/vs-nnunet-runner.js '<VsJob as JSON>'
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Configuration, TaskPaths } from '../activities/contract';
import { initBackend } from '../activities/network/backend';
import { buildUNet } from '../activities/network/unet';
import { readNpySync } from '../activities/io/npy';
import { networkPatchPredictor } from '../activities/inference/network-predictor';
import { predictPreprocessed } from '../activities/inference/predict-case';
import { loadConfiguration, type ResolvedConfiguration } from '../activities/planning/configuration';
import { batchDiceFor } from '../activities/training/loss';
import { NnUNetTrainerV2 } from '../activities/training/trainer';
import { runTrainingFold } from '../activities/training/train-fold';
import { buildUNetStep } from './unet-step';

interface StageRef { plansFile: string; configuration: Configuration; preprocessedDir: string }

export type VsJob =
  | StageRef & {
    kind: 'train'; threads: number; workers: number; warmup: number; iterations: number; steps: number;
    trainCases: string[]; valCases: string[]; foldDir: string;
  }
  | StageRef & { kind: 'infer'; threads: number; tta: boolean; cases: string[] }
  | { kind: 'gemm'; threads: number; n: number; repeats: number }
  | {
    kind: 'learn'; paths: TaskPaths; plansFile: string; configuration: Configuration; threads: number; workers: number;
    epochs: number; iterations: number; seed: number;
  };

export interface TrainTiming { secondsPerIteration: number; secondsPerStep: number; peakRssBytes: number; backend: string }
export interface InferTiming { seconds: number[]; peakRssBytes: number; backend: string }
export interface GemmTiming { seconds: number; gflops: number; backend: string }
/** Mean foreground Dice of fold 0's validation cases; seconds: training and validation together. */
export interface LearnResult { meanDice: number; seconds: number; peakRssBytes: number }

/** Exposes one training iteration (batch from the worker threads, tensors, step) of nnUNetTrainerV2 as it trains. */
class IteratingTrainer extends NnUNetTrainerV2 {
  iterate(): Promise<number> {
    return this.trainIteration();
  }
}

const resolve = (j: StageRef): ResolvedConfiguration => loadConfiguration(j.plansFile, j.configuration, { preprocessedDir: j.preprocessedDir });
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

async function timed(fn: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / 1000 / n;
}

async function train(j: Extract<VsJob, { kind: 'train' }>): Promise<TrainTiming> {
  const backend = await initBackend({ threads: j.threads });
  const rc = resolve(j);
  fs.mkdirSync(j.foldDir, { recursive: true });
  const trainer = new IteratingTrainer({
    trainerName: 'nnUNetTrainerV2', plans: rc.plans, configuration: j.configuration, stage: rc.stage, dataDir: rc.dataDir!,
    foldDir: j.foldDir, trainCases: j.trainCases, valCases: j.valCases, numWorkers: j.workers,
  });
  trainer.initialize();
  let secondsPerIteration: number;
  try {
    for (let i = 0; i < j.warmup; i++) await trainer.iterate();
    secondsPerIteration = await timed(() => trainer.iterate(), j.iterations);
  } finally {
    await trainer.dispose();
  }
  const peakRssBytes = peakRss();
  // The network step alone: the same plan's network and step on one batch held fixed (bench/unet-step.ts).
  const { stage, network } = rc;
  const step = buildUNetStep({
    configuration: j.configuration === '2d' ? '2d' : '3d_fullres', batchSize: stage.batch_size, patchSize: stage.patch_size,
    poolOpKernelSizes: stage.pool_op_kernel_sizes, convKernelSizes: stage.conv_kernel_sizes, inChannels: network.inChannels,
    numClasses: network.numClasses, batchDice: batchDiceFor(j.configuration, Object.keys(rc.plans.plans_per_stage).length > 1 && j.configuration !== '2d'),
  });
  await step.run();
  const secondsPerStep = await timed(() => step.run(), j.steps);
  step.dispose();
  return { secondsPerIteration, secondsPerStep, peakRssBytes, backend: backend.detail };
}

/** Sliding window (step 0.5, Gaussian) on preprocessed cases, as nnU-Net's predict_preprocessed_data_return_seg_and_softmax. */
async function infer(j: Extract<VsJob, { kind: 'infer' }>): Promise<InferTiming> {
  const backend = await initBackend({ threads: j.threads });
  const resolved = resolve(j);
  const { stage, network } = resolved;
  // Untrained (He-initialised) weights: a forward pass takes as long whatever the values.
  const net = buildUNet(stage, { inChannels: network.inChannels, numClasses: network.numClasses, deepSupervision: false, baseFeatures: network.baseFeatures, maxFeatures: network.maxFeatures });
  const modelFor = (tta: boolean) => ({ resolved, folds: [networkPatchPredictor(net, { patchSize: stage.patch_size, inChannels: network.inChannels, tta })] });
  const predict = async (file: string, tta: boolean): Promise<void> => {
    const arr = readNpySync(file);
    const [c, ...shape] = arr.shape;
    const image = Float32Array.from(arr.data.subarray(0, (c! - 1) * shape.reduce((a, b) => a * b, 1)));
    await predictPreprocessed(image, c! - 1, shape as [number, number, number], modelFor(tta));
  };
  await predict(j.cases[0]!, false); // warm-up: kernel set-up, as nnU-Net's side does too
  const seconds: number[] = [];
  for (const file of j.cases) {
    const t0 = performance.now();
    await predict(file, j.tta);
    seconds.push((performance.now() - t0) / 1000);
  }
  net.dispose();
  return { seconds, peakRssBytes: peakRss(), backend: backend.detail };
}

/** Best-of-`repeats` n x n float32 matMul on our tensor backend: the fp32 peak our convolutions can reach. */
async function gemm(j: Extract<VsJob, { kind: 'gemm' }>): Promise<GemmTiming> {
  const backend = await initBackend({ threads: j.threads });
  const a = tf.randomNormal([j.n, j.n], 0, 1, 'float32', 1);
  const run = async (): Promise<void> => { const c = tf.matMul(a, a); await c.data(); c.dispose(); };
  await run();
  let best = Infinity;
  for (let i = 0; i < j.repeats; i++) best = Math.min(best, await timed(run, 1));
  a.dispose();
  return { seconds: best, gflops: (2 * j.n ** 3) / best / 1e9, backend: backend.detail };
}

/** Fold 0 trained as `nnunet train` does (own results folder per seed), validated without mirroring. */
async function learn(j: Extract<VsJob, { kind: 'learn' }>): Promise<LearnResult> {
  await initBackend({ threads: j.threads });
  const t0 = performance.now();
  const r = await runTrainingFold({
    paths: j.paths, plansFile: j.plansFile, configuration: j.configuration, fold: 0, trainer: 'nnUNetTrainerV2',
    epochs: j.epochs, iterationsPerEpoch: j.iterations, validation: { tta: false, stepSize: 0.5 },
    runtime: { seed: j.seed, numWorkers: j.workers, checkpointEveryMinutes: 0 },
  });
  if (r.status !== 'done' || r.validationMeanDice === undefined) throw new Error(`training stopped or did not validate (${r.status})`);
  return { meanDice: r.validationMeanDice, seconds: (performance.now() - t0) / 1000, peakRssBytes: peakRss() };
}

async function run(job: VsJob): Promise<object> {
  switch (job.kind) {
    case 'train': return train(job);
    case 'infer': return infer(job);
    case 'gemm': return gemm(job);
    case 'learn': return learn(job);
  }
}

if (require.main === module) {
  run(JSON.parse(process.argv[2] ?? '') as VsJob)
    .then((out) => process.stdout.write(`${JSON.stringify(out)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
