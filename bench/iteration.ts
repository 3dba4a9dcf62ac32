/**
 * Where a whole training iteration's time goes (`npm run bench -- iteration PLANS_FILE STAGE_DIR [...]`, a
 * preprocessed stage folder): the batch producer's parts (loading + oversampling, augmentation, network layout +
 * deep-supervision targets), the copy into tensors, the network step, and the whole iteration with the batches made in this thread
 * (numWorkers 0, no overlap) and in background workers (overlap), alternated so load drifts hit both alike.
 * CPU time is the whole process's (all threads). The network is nnUNetTrainerV2's for the plan (base 32 unless
 * --base-features); the step is trainStep as the trainer runs it.
 */
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../activities/network/backend';
import { buildUNet } from '../activities/network/unet';
import { deepSupervisionWeights } from '../activities/network/deep-supervision';
import { stages } from '../activities/planning/plans';
import { readPlansFile } from '../activities/planning/plans-file';
import { BatchProducer, producerOptionsForStage, toNetworkBatch, type NetworkBatch } from '../activities/training/batch-worker';
import { PatchDataLoader } from '../activities/training/dataloader';
import { augmentBatch } from '../activities/training/augmentation/pipeline';
import { augmentBatchV2, isAugmentationV2, toAugmentationV2 } from '../activities/training/v2/augmentation/pipeline';
import { Rng } from '../activities/training/augmentation/random';
import { NesterovSgd } from '../activities/training/optimizer';
import { trainStep, type TrainBatch } from '../activities/training/train-step';
import { batchDiceFor } from '../activities/training/loss';

/** The training transforms: nnU-Net v1's (cubic image), v1's with linear image (the v2 trainer's former path), v2's. */
type Pipeline = 'v1' | 'v1-linear' | 'v2';
interface Args { plansFile: string; dir: string; iterations: number; rounds: number; workers: number[]; baseFeatures?: number; threads: number; pipeline: Pipeline }

function parseArgs(argv: string[]): Args {
  const [plansFile, dir] = argv;
  if (!plansFile || !dir) throw new Error('usage: iteration PLANS_FILE STAGE_DIR [--iterations N] [--rounds R] [--workers 0,1] [--base-features F] [--threads T] [--pipeline v1|v1-linear|v2]');
  const opt = (name: string, fallback: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : fallback; };
  const base = opt('base-features', '');
  return {
    plansFile, dir, iterations: Number(opt('iterations', '6')), rounds: Number(opt('rounds', '2')),
    workers: opt('workers', '0,1').split(',').map(Number), threads: Number(opt('threads', String(os.availableParallelism()))),
    pipeline: opt('pipeline', 'v1') as Pipeline,
    ...(base ? { baseFeatures: Number(base) } : {}),
  };
}

/** Wall and process CPU milliseconds of `fn`. */
async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const d = process.cpuUsage(c);
  return { value, wallMs: performance.now() - t, cpuMs: (d.user + d.system) / 1000 };
}

const fmt = (x: number) => x.toFixed(0).padStart(6);
const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');

function caseIds(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.npy') && !f.includes('_segFromPrevStage')).map((f) => f.slice(0, -4)).sort();
}

export async function benchIteration(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const choice = await initBackend({ preference: 'tfjs-node', threads: a.threads });
  const plans = readPlansFile(a.plansFile);
  const stage = stages(plans).at(-1)!;
  const configuration = plans.plans_kind === '2d' ? '2d' : '3d_fullres';
  const base = producerOptionsForStage({ stage, useMaskForNorm: plans.use_mask_for_norm, dir: a.dir, caseIds: caseIds(a.dir), purpose: 'train', seed: 1 });
  const params = base.augmentation!;
  const augmentation = a.pipeline === 'v2' ? toAugmentationV2(params) : a.pipeline === 'v1-linear' ? { ...params, imageOrder: 1 as const } : params;
  const opts = { ...base, augmentation };
  process.stdout.write(`${choice.detail}; ${configuration} patch ${stage.patch_size.join('x')} batch ${stage.batch_size}; pipeline ${a.pipeline}; cores ${os.availableParallelism()}; load ${load()}\n`);

  // Batch producer parts, in this thread.
  const loader = new PatchDataLoader({ ...opts.loader, seed: 1 });
  const rng = Rng.seeded(2);
  const parts = { load: 0, augment: 0, layout: 0 };
  const batches: NetworkBatch[] = [];
  for (let i = 0; i < a.iterations; i++) {
    const raw = await timed(() => loader.next());
    const aug = await timed(() => (isAugmentationV2(augmentation) ? augmentBatchV2(raw.value, augmentation, rng) : augmentBatch(raw.value, augmentation, rng)));
    const net = await timed(() => toNetworkBatch(aug.value, opts.deepSupervisionScales!));
    parts.load += raw.cpuMs; parts.augment += aug.cpuMs; parts.layout += net.cpuMs;
    batches.push(net.value);
  }
  const n = a.iterations;
  process.stdout.write(`batch (CPU ms): load+oversample ${fmt(parts.load / n)}  augment ${fmt(parts.augment / n)}  layout+DS targets ${fmt(parts.layout / n)}\n`);

  // Network step alone on those batches.
  const network = buildUNet(stage, { inChannels: plans.num_modalities, numClasses: plans.num_classes + 1, baseFeatures: a.baseFeatures ?? plans.base_num_features, maxFeatures: plans.unet_max_num_features, seed: 1 });
  const optimizer = new NesterovSgd(network.variables, { learningRate: 0.01, momentum: 0.99 });
  const levels = opts.deepSupervisionScales!.length || 1;
  const lossOptions = { batchDice: batchDiceFor(configuration, false), kind: 'dice+ce' as const, smooth: 1e-5, doBg: false };
  const weights = deepSupervisionWeights(levels);
  const toTensors = (b: NetworkBatch): TrainBatch => ({ data: tf.tensor(b.data, b.dataShape, 'float32'), targets: b.targets.map((t) => tf.tensor(t.data, t.shape, 'int32')) });
  const step = (b: TrainBatch) => { try { return trainStep(network, optimizer, b, weights, lossOptions).loss; } finally { b.data.dispose(); b.targets.forEach((t) => t.dispose()); } };
  step(toTensors(batches[0]!)); // warm-up: kernel set-up and allocation
  let copy = 0, stepWall = 0, stepCpu = 0;
  for (const b of batches) {
    const t = await timed(() => toTensors(b));
    const s = await timed(() => step(t.value));
    copy += t.wallMs; stepWall += s.wallMs; stepCpu += s.cpuMs;
  }
  process.stdout.write(`step alone: tensor copy ${fmt(copy / n)} ms  step ${fmt(stepWall / n)} ms wall ${fmt(stepCpu / n)} ms CPU\n`);

  // Whole iterations, alternating the producer modes.
  for (let r = 0; r < a.rounds; r++) {
    for (const workers of a.workers) {
      const producer = new BatchProducer({ ...opts, numWorkers: workers, queueSize: Math.max(2, 2 * workers) });
      step(toTensors(await producer.next())); // fills the queue behind it
      let waitMs = 0;
      const whole = await timed(async () => {
        for (let i = 0; i < n; i++) {
          const w = await timed(() => producer.next());
          waitMs += w.wallMs;
          step(toTensors(w.value));
        }
      });
      await producer.close();
      process.stdout.write(`iteration, ${workers === 0 ? 'in-thread   ' : `${workers} worker(s) `}: ${fmt(whole.wallMs / n)} ms wall ${fmt(whole.cpuMs / n)} ms CPU, waiting for the batch ${fmt(waitMs / n)} ms; load ${load()}\n`);
    }
  }
}

if (require.main === module) {
  benchIteration(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
