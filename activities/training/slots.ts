/**
 * A worker's training slots: as many as trainings may run at once on it (one per GPU, or `--slots N` on CPU).
 * Each `train` activity takes a free slot for its whole run and gives it back at the end; the slot decides the
 * training child's environment: a GPU slot pins the child to its GPU (CUDA_VISIBLE_DEVICES), so four GPUs train
 * four folds without two children sharing one device; CPU slots share the cores out between the children, so
 * two libtensorflow thread pools do not fight over the same cores.
 */
import * as os from 'node:os';
import type { WorkerSettings } from '../contract';

export interface TrainingSlot {
  /** 0-based position among the worker's slots. */
  index: number;
  count: number;
  /** The GPU this slot's training child is pinned to; undefined for a CPU slot. */
  device?: string;
}

type SlotSettings = Pick<WorkerSettings, 'trainingDevices' | 'trainingSlots'>;

/** How many trainings a worker with these settings runs at once: one per GPU, else its CPU slots (default 1). */
export function trainingSlotCount(settings: SlotSettings = {}): number {
  return settings.trainingDevices?.length || settings.trainingSlots || 1;
}

/** e.g. `4 (GPUs 0,1,2,3)` or `2 (CPU)`: a worker's slots in one phrase. */
export function describeSlots(settings: SlotSettings = {}): string {
  const devices = settings.trainingDevices ?? [];
  return devices.length > 0 ? `${devices.length} (GPU${devices.length > 1 ? 's' : ''} ${devices.join(',')})` : `${trainingSlotCount(settings)} (CPU)`;
}

/** e.g. `slot 2/4 (GPU 3)` or `slot 1/2 (CPU)`, for log lines. */
export function describeSlot(slot: TrainingSlot): string {
  return `slot ${slot.index + 1}/${slot.count} (${slot.device === undefined ? 'CPU' : `GPU ${slot.device}`})`;
}

/**
 * What the slot's training child adds to the worker's environment: NNUNET_TRAINING_SLOT (1-based, so an operator
 * or a test can tell the children apart in /proc or `ps e`), the GPU pin, or for CPU slots a share of the cores.
 * Thread counts the worker's own environment already sets win (an operator's explicit choice).
 */
export function slotEnvironment(slot: TrainingSlot, parentEnv: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): Record<string, string> {
  const env: Record<string, string> = { NNUNET_TRAINING_SLOT: String(slot.index + 1) };
  if (slot.device !== undefined) return { ...env, CUDA_VISIBLE_DEVICES: slot.device };
  if (slot.count === 1) return env;
  const threads = String(Math.max(1, Math.floor(cores / slot.count)));
  for (const name of ['TF_NUM_INTRAOP_THREADS', 'OMP_NUM_THREADS']) if (!parentEnv[name]) env[name] = threads;
  return env;
}

/** The free slots of one worker process; `acquire` waits when all are taken (never, when Temporal's limit equals the count). */
export class TrainingSlots {
  private readonly free: TrainingSlot[];
  private readonly waiting: Array<(slot: TrainingSlot) => void> = [];

  constructor(settings: SlotSettings = {}) {
    const devices = settings.trainingDevices?.length ? settings.trainingDevices : undefined;
    const count = trainingSlotCount(settings);
    if (devices && new Set(devices).size !== devices.length) throw new Error(`training devices listed twice: ${devices.join(',')}`);
    this.free = Array.from({ length: count }, (_, index) => ({ index, count, ...(devices ? { device: devices[index] } : {}) }));
  }

  get available(): number {
    return this.free.length;
  }

  /** A free slot, or the next one given back; `signal` (the activity's cancellation) stops the wait. */
  acquire(signal?: AbortSignal): Promise<TrainingSlot> {
    const slot = this.free.shift();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve, reject) => {
      const waiter = (s: TrainingSlot) => { signal?.removeEventListener('abort', abort); resolve(s); };
      const abort = () => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(signal?.reason ?? new Error('cancelled while waiting for a training slot'));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(slot: TrainingSlot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot); // back at the end: the next training takes the slot that has rested longest
  }

  /** Runs `work` holding a slot, and gives the slot back however it ends. */
  async run<T>(work: (slot: TrainingSlot) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const slot = await this.acquire(signal);
    try {
      return await work(slot);
    } finally {
      this.release(slot);
    }
  }
}
