/**
 * The GPUs this machine's trainings can use, and how a worker turns flags and config into its training slots.
 * Visible GPUs: CUDA_VISIBLE_DEVICES when set (as CUDA reads it: a list, empty or -1 = none), else what
 * nvidia-smi lists; none without an NVIDIA driver.
 */
import { spawnSync } from 'node:child_process';
import type { WorkerSettings } from '../activities/contract';

/** A GPU id as CUDA_VISIBLE_DEVICES takes it: an index (`0`) or a UUID (`GPU-…`, `MIG-…`). */
const GPU_ID = /^(\d+|(GPU|MIG)-[0-9A-Za-z-]+)$/;

export interface NvidiaSmi {
  /** undefined when nvidia-smi is absent or fails (no NVIDIA driver). */
  gpus?: Array<{ index: string; name: string }>;
  /** Why it gave nothing, in words. */
  problem?: string;
}

/** The GPUs the NVIDIA driver reports (nvidia-smi), or why there are none. */
export function queryNvidiaSmi(run = spawnSync): NvidiaSmi {
  const r = run('nvidia-smi', ['--query-gpu=index,name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { problem: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'nvidia-smi not found' : `nvidia-smi failed: ${r.error.message}` };
  if (r.status !== 0) return { problem: `nvidia-smi failed: ${String(r.stderr || r.stdout).trim().split('\n')[0]}` };
  const gpus = String(r.stdout).split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [index, ...name] = l.split(',');
    return { index: index.trim(), name: name.join(',').trim() };
  });
  return { gpus };
}

/** CUDA_VISIBLE_DEVICES as a list of ids; undefined when unset (then every GPU is visible). */
export function cudaVisibleDevices(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env.CUDA_VISIBLE_DEVICES;
  if (raw === undefined) return undefined;
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  // CUDA stops at the first invalid entry (-1 is the usual way to hide every GPU).
  const valid = ids.findIndex((id) => !GPU_ID.test(id));
  return valid < 0 ? ids : ids.slice(0, valid);
}

/** The GPU ids a worker trains on by default: all visible ones. */
export function visibleGpus(env: NodeJS.ProcessEnv = process.env, smi: () => NvidiaSmi = queryNvidiaSmi): string[] {
  return cudaVisibleDevices(env) ?? smi().gpus?.map((g) => g.index) ?? [];
}

/** `--gpus 0,1,3`: ids as CUDA_VISIBLE_DEVICES takes them; throws a message naming the bad one. */
export function parseGpuList(value: string): string[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.find((id) => !GPU_ID.test(id));
  if (ids.length === 0 || bad !== undefined) throw new Error(`--gpus ${value}: expected GPU indices or UUIDs separated by commas, e.g. --gpus 0,1`);
  if (new Set(ids).size !== ids.length) throw new Error(`--gpus ${value}: a GPU is listed twice (one training per GPU)`);
  return ids;
}

export interface SlotChoice {
  /** `--gpus`: train on these GPUs, one training each. */
  gpus?: string[];
  /** `--slots`: this many trainings at once on CPU (no GPU pin). */
  slots?: number;
}

/**
 * The worker's training slots: `--gpus`, else `--slots`, else every visible GPU, else `fallbackSlots` CPU slots
 * (the config's worker.maxConcurrentTraining).
 */
export function trainingSlotsOf(choice: SlotChoice, fallbackSlots: number, detect: () => string[] = visibleGpus): Pick<WorkerSettings, 'trainingDevices' | 'trainingSlots'> {
  if (choice.gpus && choice.slots !== undefined) throw new Error('--gpus and --slots exclude each other: --gpus pins one training to each GPU, --slots runs N on CPU');
  if (choice.gpus) return { trainingDevices: choice.gpus };
  if (choice.slots !== undefined) return { trainingSlots: choice.slots };
  const gpus = detect();
  return gpus.length > 0 ? { trainingDevices: gpus } : { trainingSlots: fallbackSlots };
}

/**
 * Why GPU slots would train on CPU, if they would: GPUs are seen (so the worker runs one training per GPU) but the
 * tensor backend it will use is not the GPU build. Then those trainings share the cores instead.
 */
export function gpuSlotsOnCpuWarning(settings: Pick<WorkerSettings, 'trainingDevices' | 'backend'>, installedBackends: readonly string[]): string | undefined {
  const gpus = settings.trainingDevices ?? [];
  if (gpus.length === 0) return undefined;
  const backend = settings.backend ?? 'auto';
  const why = backend !== 'auto' && backend !== 'tfjs-node-gpu' ? `worker.backend is ${backend}`
    : !installedBackends.includes('tfjs-node-gpu') ? 'the GPU build @tensorflow/tfjs-node-gpu is not installed' : undefined;
  if (!why) return undefined;
  return `GPUs ${gpus.join(',')} give this worker ${gpus.length} training slot(s), but training would run on CPU (${why}): ` +
    `the ${gpus.length} trainings would share this machine's cores. Install the GPU build (docs/backends.md) or train on ` +
    'CPU with --slots N; `nnunet doctor` says what is missing.';
}
