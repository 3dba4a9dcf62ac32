/**
 * The native (libtensorflow) backend the tests exercise: the CUDA build when installed (on a GPU machine, or
 * its CPU fallback in CI), else the CPU build; undefined when neither is installed. One per process: both
 * packages load a library named libtensorflow_cc.so.2, so the second would silently reuse the first.
 */
import { availableBackends, type BackendId } from '../../activities/network/backend';

export const NATIVE_BACKEND: Extract<BackendId, 'tfjs-node-gpu' | 'tfjs-node'> | undefined =
  availableBackends().find((id): id is 'tfjs-node-gpu' | 'tfjs-node' => id === 'tfjs-node-gpu' || id === 'tfjs-node');
