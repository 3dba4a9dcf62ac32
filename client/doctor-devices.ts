/**
 * `nnunet doctor`'s device checks: which TensorFlow the tensor backend runs, which GPUs this machine has (nvidia-smi,
 * CUDA_VISIBLE_DEVICES) and trains on, and, when training would not use a GPU, why: no NVIDIA driver, a CPU build
 * of TensorFlow, or CUDA libraries the GPU build cannot find. The probing (deviceProbe) is kept apart from the
 * judging (deviceChecks) so the verdicts can be checked for machines this one is not.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cudaVisibleDevices, queryNvidiaSmi, visibleGpus, type NvidiaSmi } from '../worker/gpus';

/** The CUDA runtime and cuDNN the GPU build (tfjs-node-gpu, libtensorflow 2.9) loads at start. */
export const CUDA_LIBRARIES = ['libcudart.so.11.0', 'libcudnn.so.8'] as const;

/** One line of `nnunet doctor` (the shape of commands/doctor.ts's Check). */
export interface Check {
  name: string;
  verdict: 'ok' | 'warn' | 'fail';
  detail: string;
}

export interface DeviceProbe {
  /** The backend a worker here would use (network/backend.ts ids), and why each better one is not used. */
  backend: { id: string; reasonsOthersUnavailable: Record<string, string> };
  /** libtensorflow's version from the native binding; undefined on the pure-JS backend. */
  tensorflowVersion?: string;
  /** The native binding says it placed work on a CUDA device. */
  usingGpu: boolean;
  smi: NvidiaSmi;
  /** /proc/driver/nvidia/version exists (the kernel driver is loaded even if nvidia-smi is not on PATH). */
  driverLoaded: boolean;
  cudaVisibleDevices?: string[];
  /** The GPUs `nnunet worker` trains on by default. */
  workerGpus: string[];
  /** Of CUDA_LIBRARIES, those the dynamic loader cannot find. */
  missingCudaLibraries: string[];
}

/** Folders the dynamic loader searches: LD_LIBRARY_PATH, then its cache (`ldconfig -p`). */
function findsLibrary(name: string, ldconfig: string, env: NodeJS.ProcessEnv): boolean {
  if (ldconfig.split('\n').some((l) => l.trim().startsWith(`${name} `))) return true;
  return (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean).some((dir) => fs.existsSync(path.join(dir, name)));
}

/** Probes this machine (loads the tensor backend, so it takes a moment). */
export async function deviceProbe(preference: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<DeviceProbe> {
  const { initBackend } = await import('../activities/network/backend');
  const tf = await import('@tensorflow/tfjs');
  const choice = await initBackend({ preference });
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string; isUsingGpuDevice?: () => boolean } }).binding;
  const smi = queryNvidiaSmi();
  const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  return {
    backend: { id: choice.id, reasonsOthersUnavailable: choice.reasonsOthersUnavailable as Record<string, string> },
    tensorflowVersion: binding?.TF_Version,
    usingGpu: binding?.isUsingGpuDevice?.() ?? false,
    smi,
    driverLoaded: fs.existsSync('/proc/driver/nvidia/version'),
    cudaVisibleDevices: cudaVisibleDevices(env),
    workerGpus: visibleGpus(env, () => smi),
    missingCudaLibraries: CUDA_LIBRARIES.filter((lib) => !findsLibrary(lib, ldconfig, env)),
  };
}

function tensorflowCheck(p: DeviceProbe): Check {
  if (p.tensorflowVersion) return { name: 'TensorFlow', verdict: 'ok', detail: `libtensorflow ${p.tensorflowVersion} (${p.backend.id})` };
  return { name: 'TensorFlow', verdict: 'warn', detail: `none: the ${p.backend.id} backend is pure JavaScript, several times slower (npm run setup:native; docs/backends.md)` };
}

function gpusCheck(p: DeviceProbe): Check {
  const listed = p.smi.gpus?.map((g) => `${g.index}: ${g.name}`).join(', ');
  const parts = [listed ? `nvidia-smi lists ${listed}` : `no GPU (${p.smi.problem ?? 'nvidia-smi lists none'})`];
  if (p.cudaVisibleDevices) parts.push(`CUDA_VISIBLE_DEVICES=${p.cudaVisibleDevices.join(',')}`);
  parts.push(p.workerGpus.length ? `nnunet worker trains on GPUs ${p.workerGpus.join(',')}, one training each` : 'nnunet worker trains on CPU (--slots N for N at once)');
  return { name: 'GPUs', verdict: 'ok', detail: parts.join('; ') };
}

/** Why training here would not run on a GPU; undefined when it does. */
export function whyNoGpu(p: DeviceProbe): { verdict: 'ok' | 'warn'; reason: string } | undefined {
  if (p.backend.id === 'tfjs-node-gpu' && p.usingGpu) return undefined;
  const hasDriver = p.smi.gpus !== undefined || p.driverLoaded;
  if (!hasDriver) return { verdict: 'ok', reason: `no NVIDIA driver (${p.smi.problem ?? 'nvidia-smi lists nothing'}; no /proc/driver/nvidia): training runs on CPU` };
  if (p.smi.gpus?.length === 0 || p.workerGpus.length === 0) {
    return { verdict: 'warn', reason: p.cudaVisibleDevices?.length === 0 ? 'CUDA_VISIBLE_DEVICES hides every GPU' : 'the NVIDIA driver lists no GPU' };
  }
  const gpuBackend = p.backend.reasonsOthersUnavailable['tfjs-node-gpu'];
  if (p.backend.id !== 'tfjs-node-gpu' && gpuBackend && /not installed/.test(gpuBackend)) {
    return { verdict: 'warn', reason: `CPU build of TensorFlow: ${gpuBackend}` };
  }
  if (p.missingCudaLibraries.length) {
    return { verdict: 'warn', reason: `no CUDA libraries: the dynamic loader finds no ${p.missingCudaLibraries.join(', ')} (install CUDA 11.2 and cuDNN 8.1, or add their lib folder to LD_LIBRARY_PATH)${gpuBackend ? `; ${gpuBackend}` : ''}` };
  }
  if (p.backend.id !== 'tfjs-node-gpu') return { verdict: 'warn', reason: `the GPU build does not load: ${gpuBackend ?? `worker.backend selects ${p.backend.id}`}` };
  return { verdict: 'warn', reason: 'the GPU build loaded but TensorFlow placed no work on a CUDA device (driver too old for CUDA 11.2?)' };
}

/** The three device lines of `nnunet doctor`. */
export function deviceChecks(p: DeviceProbe): Check[] {
  const why = whyNoGpu(p);
  const gpuUse: Check = why
    ? { name: 'GPU training', verdict: why.verdict, detail: `not used: ${why.reason}` }
    : { name: 'GPU training', verdict: 'ok', detail: `on CUDA devices ${p.workerGpus.join(',')} (tfjs-node-gpu)` };
  return [tensorflowCheck(p), gpusCheck(p), gpuUse];
}

/** The device lines, or one failing line when the backend cannot even be probed. */
export async function checkDevices(preference: string | undefined): Promise<Check[]> {
  try {
    return deviceChecks(await deviceProbe(preference));
  } catch (err) {
    return [{ name: 'TensorFlow', verdict: 'fail', detail: (err as Error).message.split('\n')[0] }];
  }
}
