/**
 * Tensor backend choice (docs/backends.md): the best one that works here, in this order:
 *   tfjs-node-gpu (CUDA) > tfjs-node (libtensorflow CPU, oneDNN) > cpu (pure JS).
 * (tfjs-backend-wasm is not among them: its 3D gradients are wrong; docs/backends.md, "Why not wasm".)
 * The native ones are optional extras (`npm run setup:native`, or `npm install @tensorflow/tfjs-node`
 * with internet), so each is loaded only if present. A native package must share our @tensorflow/tfjs-core
 * instance, otherwise its 'tensorflow' backend would register in a copy that `@tensorflow/tfjs` never sees.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../common/errors';
import { whyNotGpu } from './gpu-reason';

export const BACKEND_IDS = ['tfjs-node-gpu', 'tfjs-node', 'cpu'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

interface Candidate {
  id: BackendId;
  /** The npm package that provides it; undefined for the pure-JS backend bundled in @tensorflow/tfjs. */
  pkg?: string;
  /** The name it registers under in tfjs (both native packages register 'tensorflow'). */
  tfName: string;
  /** What a user runs to get it. */
  install: string;
}

const CANDIDATES: readonly Candidate[] = [
  { id: 'tfjs-node-gpu', pkg: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow', install: 'npm run setup:native -- --gpu' },
  { id: 'tfjs-node', pkg: '@tensorflow/tfjs-node', tfName: 'tensorflow', install: 'npm run setup:native -- --cpu' },
  { id: 'cpu', tfName: 'cpu', install: 'npm install' },
];

export interface BackendOptions {
  /**
   * 'auto' (the default) or one backend id to force (Config's `worker.backend`, env NNUNET_BACKEND, --backend).
   * A forced one that fails, or an unknown id, is a BadInputError.
   */
  preference?: string;
  /** CPU threads for the native backends; only effective before the backend's first load. */
  threads?: number;
}

export interface BackendChoice {
  id: BackendId;
  /** tfjs's own name for it: tf.getBackend() returns this. */
  tfName: string;
  /** Versions and device, for logs. */
  detail: string;
  /** For each better backend that was not chosen: why. */
  reasonsOthersUnavailable: Partial<Record<BackendId, string>>;
}

export function isBackendId(s: string): s is BackendId {
  return (BACKEND_IDS as readonly string[]).includes(s);
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0];
}

/**
 * Resolves a package, first under NNUNET_NATIVE_PREFIX (where `npm run setup:native -- --prefix DIR` installs
 * a native build without touching this checkout's node_modules), then from this module's place;
 * undefined when not installed.
 */
function resolveFromHere(pkg: string): string | undefined {
  const prefix = process.env.NNUNET_NATIVE_PREFIX;
  const searches = prefix ? [{ paths: [path.resolve(prefix)] }, undefined] : [undefined];
  for (const options of searches) {
    try {
      return require.resolve(pkg, options);
    } catch {
      // not there: try the next place
    }
  }
  return undefined;
}

/** The package's root folder (its package.json's dir), found from its resolved entry point. */
function packageRoot(entry: string, pkg: string): string {
  const marker = `${path.sep}node_modules${path.sep}${pkg.split('/').join(path.sep)}${path.sep}`;
  const at = entry.lastIndexOf(marker);
  return at >= 0 ? entry.slice(0, at + marker.length - 1) : path.dirname(entry);
}

/** Why a native package would register into a different tfjs-core than ours, if it would. */
function coreMismatch(pkgDir: string): string | undefined {
  const ours = require.resolve('@tensorflow/tfjs-core');
  let theirs: string;
  try {
    theirs = require.resolve('@tensorflow/tfjs-core', { paths: [pkgDir] });
  } catch (err) {
    return `cannot resolve its @tensorflow/tfjs-core: ${firstLine(err)}`;
  }
  return theirs === ours ? undefined : `it has its own @tensorflow/tfjs-core (${theirs}), not ours (${ours}); align its version with @tensorflow/tfjs ${tf.version_core}`;
}

function applyThreads(threads: number | undefined): void {
  if (threads === undefined) return;
  const n = String(Math.max(1, Math.floor(threads)));
  // Read by libtensorflow and oneDNN when the library loads.
  process.env.TF_NUM_INTRAOP_THREADS ??= n;
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  process.env.OMP_NUM_THREADS ??= n;
}

/** Loads a candidate's package (registering its backend); returns why it cannot be used, or undefined. */
function load(c: Candidate, threads: number | undefined): string | undefined {
  if (!c.pkg) return undefined;
  const entry = resolveFromHere(c.pkg);
  if (!entry) return `not installed (${c.install})`;
  if (c.tfName === 'tensorflow') {
    const mismatch = coreMismatch(packageRoot(entry, c.pkg));
    if (mismatch) return mismatch;
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2'; // libtensorflow's C++ info lines would flood every log
  // TensorFlow 2.9 enables its oneDNN kernels by default only on some CPUs; without them a 3D U-Net step is ~3x slower.
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
  applyThreads(threads);
  try {
    require(entry);
  } catch (err) {
    return `installed but fails to load: ${firstLine(err)}${c.tfName === 'tensorflow' ? ' (rerun npm run setup:native)' : ''}`;
  }
  if (!tf.findBackendFactory(c.tfName)) return `loaded but registered no '${c.tfName}' backend in our tfjs-core`;
  return undefined;
}

interface NativeBinding {
  TF_Version?: string;
  isUsingGpuDevice?: () => boolean;
}

function describeActive(c: Candidate): string {
  if (c.tfName !== 'tensorflow') return `tfjs ${tf.version_core}, ${c.id}`;
  const binding = (tf.backend() as unknown as { binding?: NativeBinding }).binding;
  const onGpu = binding?.isUsingGpuDevice?.() === true;
  const why = onGpu ? undefined : whyNotGpu(c.id === 'tfjs-node-gpu');
  return `tfjs ${tf.version_core}, ${c.pkg}, libtensorflow ${binding?.TF_Version ?? '?'} on ${onGpu ? 'CUDA device' : 'CPU'}${why ? ` (${why})` : ''}`;
}

/**
 * tfjs 4.22 has no gradient for Conv3DBackpropInputV2, the kernel behind conv3dTranspose, so a 3D U-Net's
 * transposed-conv upsampling cannot train on any backend. This is the 3D twin of tfjs's own
 * Conv2DBackpropInput gradient: the op is linear in dy and in filter, and its adjoints are conv3d and
 * the conv3d filter gradient. Backend-independent; registered once by initBackend.
 */
export function registerConv3dTransposeGradient(): void {
  if (tf.getGradient('Conv3DBackpropInputV2')) return;
  tf.registerGradient({
    kernelName: 'Conv3DBackpropInputV2',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx, saved, attrs) => {
      const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const { strides, pad } = attrs as unknown as { strides: [number, number, number] | number; pad: 'same' | 'valid' };
      const upstream = ddx as tf.Tensor5D;
      return {
        dy: () => tf.conv3d(upstream, filter, strides, pad),
        filter: () => tf.engine().runKernel('Conv3DBackpropFilterV2', { x: upstream, dy }, { strides, pad, filterShape: filter.shape }) as tf.Tensor,
      };
    },
  });
}

/** Tries one candidate: load, then let tfjs initialise it. Returns why it failed, or undefined. */
async function activate(c: Candidate, options: BackendOptions): Promise<string | undefined> {
  const why = load(c, options.threads);
  if (why) return why;
  try {
    if (!(await tf.setBackend(c.tfName))) return `registered but failed to initialise`;
    await tf.ready();
  } catch (err) {
    return `failed to initialise: ${firstLine(err)}`;
  }
  return undefined;
}

function preferenceFrom(options: BackendOptions): BackendId | 'auto' {
  const p: string = options.preference ?? 'auto';
  if (p === 'auto' || isBackendId(p)) return p;
  throw new BadInputError(`unknown tensor backend '${p}' (from worker.backend, NNUNET_BACKEND or --backend): use one of auto, ${BACKEND_IDS.join(', ')}`);
}

/** Picks and activates the best working backend (or the forced one), so plain `@tensorflow/tfjs` calls use it. */
export async function initBackend(options: BackendOptions = {}): Promise<BackendChoice> {
  const preference = preferenceFrom(options);
  registerConv3dTransposeGradient();
  const reasons: Partial<Record<BackendId, string>> = {};
  const order = preference === 'auto' ? CANDIDATES : CANDIDATES.filter((c) => c.id === preference);
  for (const c of order) {
    const why = await activate(c, options);
    if (!why) return { id: c.id, tfName: c.tfName, detail: describeActive(c), reasonsOthersUnavailable: reasons };
    if (preference !== 'auto') throw new BadInputError(`tensor backend '${c.id}' was asked for but is unavailable: ${why}`);
    reasons[c.id] = why;
  }
  throw new Error(`no tensor backend works here: ${JSON.stringify(reasons)}`); // cpu is bundled, so unreachable in practice
}

/** One line for `nnunet doctor`: the active backend and why each better one is not used. */
export async function describeBackends(options: BackendOptions = {}): Promise<string> {
  const choice = await initBackend(options);
  const others = Object.entries(choice.reasonsOthersUnavailable).map(([id, why]) => `${id}: ${why}`);
  return `${choice.id} (${choice.detail})${others.length ? `; not used: ${others.join('; ')}` : ''}`;
}

/** Installed backends (not yet loaded), best first. */
export function availableBackends(): BackendId[] {
  return CANDIDATES.filter((c) => !c.pkg || resolveFromHere(c.pkg) !== undefined).map((c) => c.id);
}
