/**
 * Why a native TensorFlow backend runs on the CPU although a GPU build or an NVIDIA GPU may be there: the line
 * `nnunet doctor` and the worker's backend log add after "on CPU".
 */
import * as fs from 'node:fs';

const DRIVER_FILE = '/proc/driver/nvidia/version';

/** The loaded NVIDIA kernel driver's version line, or undefined when none is loaded (or not Linux). */
export function nvidiaDriverVersion(): string | undefined {
  try {
    return fs.readFileSync(DRIVER_FILE, 'utf8').split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** CUDA_VISIBLE_DEVICES hides every GPU when set to nothing or to -1. */
function gpusHiddenByEnv(): boolean {
  const v = process.env.CUDA_VISIBLE_DEVICES;
  return v !== undefined && (v.trim() === '' || v.trim().startsWith('-1'));
}

/**
 * Why the active native backend is on the CPU; undefined when that needs no explanation (a CPU build on a
 * machine with no NVIDIA driver).
 * @param cudaBuild whether the active package is the CUDA build (@tensorflow/tfjs-node-gpu)
 */
export function whyNotGpu(cudaBuild: boolean, driver = nvidiaDriverVersion()): string | undefined {
  if (!cudaBuild) return driver ? `an NVIDIA driver is loaded but this is the CPU build: run npm run setup:native -- --gpu` : undefined;
  if (gpusHiddenByEnv()) return `CUDA_VISIBLE_DEVICES='${process.env.CUDA_VISIBLE_DEVICES}' hides every GPU`;
  if (!driver) return `no NVIDIA driver loaded: ${DRIVER_FILE} is absent`;
  return `the driver is loaded (${driver.slice(0, 80)}) but TensorFlow found no usable GPU: check nvidia-smi, and that the driver supports CUDA 12.5 (R555 or newer)`;
}
