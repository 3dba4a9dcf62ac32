/**
 * Training batches prepared ahead in worker threads (nnU-Net's MultiThreadedAugmenter): each worker runs a
 * PatchDataLoader + the augmentation pipeline and keeps up to `queueSize` batches in flight, so loading and
 * augmentation overlap the training step. Buffers are transferred, not copied. With several workers batches
 * are taken round-robin, so the stream is deterministic for a seed; every batch carries the generator states
 * after it, and `state()` (the states behind the last batch taken) resumes the exact stream after a restart.
 */
import { type Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { reviveThreadError, startWorkerThread, toThreadError, type ThreadError } from '../common/threads';
import { downsampleSegmentation } from '../network/deep-supervision';
import type { MT19937State } from '../common/mt19937';
import { PatchDataLoader, type Batch, type DataLoaderOptions } from './dataloader';
import { setupAugmentationParams, type AugmentationParams, type StageForAugmentation } from './patch-size';
import { augmentBatch, validationBatch } from './augmentation/pipeline';
import { Rng } from './augmentation/random';
import { augmentBatchV2, isAugmentationV2, type AugmentationV2 } from './v2/augmentation/pipeline';

/** What the network's train step takes (activities/network/trainStep TrainBatch, before tf.tensor). */
export interface NetworkBatch {
  /** [B, ...P, C] float32, channels last. */
  data: Float32Array;
  dataShape: number[];
  /** int32 label maps [B, ...spatial] per deep-supervision level, highest resolution first. */
  targets: { data: Int32Array; shape: number[] }[];
  keys: string[];
}

/** Generator states of one worker after a given batch. */
export interface WorkerStreamState { loader: MT19937State; augment: MT19937State }
export interface ProducerState { workers: WorkerStreamState[]; nextWorker: number }

export interface BatchProducerOptions {
  /** Loader settings (seed/state are set per worker from `seed` / `state`). */
  loader: Omit<DataLoaderOptions, 'seed' | 'state'>;
  /** null: validation batches (no augmentation, only seg −1 → 0); AugmentationV2: nnU-Net v2's transforms. */
  augmentation: AugmentationParams | AugmentationV2 | null;
  /** Deep-supervision target scales (AugmentationParams.deepSupervisionScales); [] or absent: one full-size target. */
  deepSupervisionScales?: number[][];
  /** Cascade: foreground labels whose one-hot previous-stage seg is appended (augmentation carries its own). */
  cascadeLabels?: number[];
  seed?: number;
  /** Resume the stream from a saved `state()` (same worker count). */
  state?: ProducerState;
  /** Batches prepared ahead in total (≥ 1). */
  queueSize?: number;
  /**
   * Worker threads (default 1). 0: batches are made in this thread when asked for (no overlap with the step); the
   * stream and its saved state are those of one worker, so 0 and 1 resume each other.
   */
  numWorkers?: number;
}

export interface StageProducerArgs {
  /** The plans stage (patch_size, batch_size, do_dummy_2D_data_aug, pool_op_kernel_sizes). */
  stage: StageForAugmentation & { batch_size: number };
  /** plans.use_mask_for_norm. */
  useMaskForNorm: Record<string, boolean>;
  /** Preprocessed stage folder and the cases of this split. */
  dir: string;
  caseIds: readonly string[];
  /** Training: enlarged patch + augmentation; validation: network patch, no augmentation (nnU-Net's val loader). */
  purpose: 'train' | 'validation';
  /** 3d_cascade_fullres: folder of <case>_segFromPrevStage.npy and the foreground labels (1..plans.num_classes). */
  cascade?: { previousStageDir: string; labels: number[] };
  seed?: number;
  state?: ProducerState;
  queueSize?: number;
  numWorkers?: number;
}

/** nnUNetTrainerV2's training or validation generator for a plans stage. */
export function producerOptionsForStage(args: StageProducerArgs): BatchProducerOptions & { augmentation: AugmentationParams | null } {
  const params = setupAugmentationParams(args.stage, args.useMaskForNorm, { cascadeLabels: args.cascade?.labels });
  const train = args.purpose === 'train';
  return {
    loader: {
      dir: args.dir,
      caseIds: args.caseIds,
      patchSize: train ? params.generatorPatchSize : params.patchSize,
      finalPatchSize: params.patchSize,
      batchSize: args.stage.batch_size,
      ...(args.cascade ? { previousStageDir: args.cascade.previousStageDir } : {}),
    },
    augmentation: train ? params : null,
    cascadeLabels: params.cascadeLabels,
    deepSupervisionScales: params.deepSupervisionScales,
    seed: args.seed,
    state: args.state,
    queueSize: args.queueSize,
    numWorkers: args.numWorkers,
  };
}

interface WorkerConfig {
  loader: DataLoaderOptions;
  augmentation: AugmentationParams | AugmentationV2 | null;
  /** Validation batches of the cascade still get the one-hot previous-stage channels. */
  cascadeLabels: number[];
  deepSupervisionScales: number[][];
  augmentSeed?: number;
  augmentState?: MT19937State;
}

type Reply =
  | { ok: true; batch: NetworkBatch; state: WorkerStreamState }
  | { ok: false; error: ThreadError };

const WORKER_TAG = 'nnunet-batch-producer';

/** Channel-first [B, C, ...P] → channels-last [B, ...P, C]. */
export function toChannelsLast(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const [B, C] = shape as [number, number];
  const spatial = shape.slice(2);
  const n = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let b = 0; b < B; b++) {
    const base = b * C * n;
    for (let c = 0; c < C; c++) {
      const src = base + c * n;
      for (let i = 0; i < n; i++) out[base + i * C + c] = data[src + i]!;
    }
  }
  return { data: out, shape: [B, ...spatial, C] };
}

/** An augmented batch in the network's layout with its deep-supervision targets (nearest, nnU-Net's rule). */
export function toNetworkBatch(batch: Batch, deepSupervisionScales: readonly number[][]): NetworkBatch {
  const { data, shape } = toChannelsLast(batch.data, batch.dataShape);
  const segShape = [batch.segShape[0]!, ...batch.segShape.slice(2)];
  const seg = new Int32Array(batch.seg);
  const scales = deepSupervisionScales.length > 0 ? deepSupervisionScales : [segShape.slice(1).map(() => 1)];
  return { data, dataShape: shape, targets: scales.map((s) => downsampleSegmentation(seg, segShape, s)), keys: batch.keys };
}

/** Produces batches from a config: the body of a worker, also usable in-process. */
export class BatchSource {
  private readonly loader: PatchDataLoader;
  private readonly rng: Rng;

  constructor(private readonly config: WorkerConfig) {
    this.loader = new PatchDataLoader(config.loader);
    this.rng = config.augmentState ? Rng.fromState(config.augmentState) : Rng.seeded(config.augmentSeed ?? 0);
  }

  next(): { batch: NetworkBatch; state: WorkerStreamState } {
    const raw = this.loader.next();
    const a = this.config.augmentation;
    const batch = a === null ? validationBatch(raw, this.config.cascadeLabels)
      : isAugmentationV2(a) ? augmentBatchV2(raw, a, this.rng) : augmentBatch(raw, a, this.rng);
    return { batch: toNetworkBatch(batch, this.config.deepSupervisionScales), state: { loader: this.loader.getState(), augment: this.rng.getState() } };
  }
}

function transferList(b: NetworkBatch): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const a of [b.data, ...b.targets.map((t) => t.data)]) seen.add(a.buffer as ArrayBuffer);
  return [...seen];
}

function serveInWorker(): void {
  const port = parentPort!;
  let source: BatchSource | Error;
  try {
    source = new BatchSource((workerData as { config: WorkerConfig }).config);
  } catch (err) {
    source = err as Error; // reported with the first request, so BadInputError keeps its message and file
  }
  port.on('message', (msg: 'next' | 'close') => {
    if (msg === 'close') { port.close(); return; }
    try {
      if (source instanceof Error) throw source;
      const { batch, state } = source.next();
      port.postMessage({ ok: true, batch, state } satisfies Reply, transferList(batch));
    } catch (err) {
      port.postMessage({ ok: false, error: toThreadError(err) } satisfies Reply);
    }
  });
}

if (!isMainThread && (workerData as { tag?: string } | null)?.tag === WORKER_TAG) serveInWorker();

function startWorker(config: WorkerConfig): Worker {
  return startWorkerThread(__filename, { workerData: { tag: WORKER_TAG, config } });
}

/** One worker's lane: its thread, the replies not yet taken, the waiters, and the state behind the last taken batch. */
interface Lane {
  worker: Worker;
  ready: Reply[];
  waiting: { resolve: (r: Reply) => void }[];
  failure?: Error;
  state: WorkerStreamState;
  exited: Promise<void>;
}

/** The in-thread lane of `numWorkers: 0`: one worker's stream, made on demand. */
interface InlineLane { source: BatchSource; state: WorkerStreamState }

export class BatchProducer {
  private readonly lanes: Lane[] = [];
  private readonly inline?: InlineLane;
  private nextLane: number;
  private closed = false;

  constructor(opts: BatchProducerOptions) {
    const inThread = Math.floor(opts.numWorkers ?? 1) === 0;
    const numWorkers = Math.max(1, Math.floor(opts.numWorkers ?? 1));
    if (opts.state && opts.state.workers.length !== numWorkers) {
      throw new RangeError(`BatchProducer: saved state has ${opts.state.workers.length} workers, asked for ${numWorkers}`);
    }
    const perLane = Math.max(1, Math.ceil((opts.queueSize ?? 2) / numWorkers));
    const seeder = Rng.seeded(opts.seed ?? 12345);
    this.nextLane = opts.state?.nextWorker ?? 0;
    const configs = Array.from({ length: numWorkers }, (_, k) => {
      // A fresh lane's state is that of its seeds, so state() is defined before the first batch.
      const saved = opts.state?.workers[k] ?? { loader: Rng.seeded(seeder.nextSeed()).getState(), augment: Rng.seeded(seeder.nextSeed()).getState() };
      const config: WorkerConfig = {
        loader: { ...opts.loader, state: saved.loader },
        augmentation: opts.augmentation,
        cascadeLabels: opts.cascadeLabels ?? opts.augmentation?.cascadeLabels ?? [],
        deepSupervisionScales: opts.deepSupervisionScales ?? [],
        augmentState: saved.augment,
      };
      return { config, saved };
    });
    if (inThread) this.inline = { source: new BatchSource(configs[0]!.config), state: configs[0]!.saved };
    else this.lanes = configs.map(({ config, saved }) => this.startLane(config, perLane, saved));
  }

  private startLane(config: WorkerConfig, ahead: number, saved: WorkerStreamState): Lane {
    const worker = startWorker(config);
    const lane: Lane = { worker, ready: [], waiting: [], state: saved, exited: new Promise((r) => worker.once('exit', () => r())) };
    const failAll = (err: Error) => {
      lane.failure ??= err;
      for (const w of lane.waiting.splice(0)) w.resolve({ ok: false, error: { name: err.name, message: err.message } });
    };
    worker.on('message', (reply: Reply) => {
      const w = lane.waiting.shift();
      if (w) w.resolve(reply);
      else lane.ready.push(reply);
    });
    worker.on('error', failAll);
    worker.on('exit', (code) => { if (!this.closed) failAll(new Error(`batch worker exited (code ${code})`)); });
    for (let i = 0; i < ahead; i++) worker.postMessage('next');
    return lane;
  }

  /** The next batch (round-robin over the workers). */
  async next(): Promise<NetworkBatch> {
    if (this.closed) throw new Error('BatchProducer: closed');
    if (this.inline) {
      const { batch, state } = this.inline.source.next();
      this.inline.state = state;
      return batch;
    }
    const k = this.nextLane;
    const lane = this.lanes[k]!;
    const reply = lane.ready.shift() ?? (lane.failure ? undefined : await new Promise<Reply>((resolve) => lane.waiting.push({ resolve })));
    if (!reply) throw lane.failure!;
    if (!reply.ok) throw reviveThreadError(reply.error);
    lane.state = reply.state;
    this.nextLane = (k + 1) % this.lanes.length;
    lane.worker.postMessage('next');
    return reply.batch;
  }

  /** Generator states behind the last batch taken from each worker: a checkpoint saves this to resume the stream. */
  state(): ProducerState {
    if (this.inline) return { workers: [this.inline.state], nextWorker: 0 };
    return { workers: this.lanes.map((l) => l.state), nextWorker: this.nextLane };
  }

  /** Stops the workers: each closes its port after the batch in hand; terminated if it does not exit in time. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.lanes.map(async (lane) => {
      lane.worker.postMessage('close');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      if ((await Promise.race([lane.exited.then(() => 'exited' as const), timer])) === 'timeout') await lane.worker.terminate();
    }));
  }
}
