import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceChecks, deviceProbe, whyNoGpu, type DeviceProbe } from '../../client/doctor-devices';

const cpuMachine: DeviceProbe = {
  backend: { id: 'tfjs-node', reasonsOthersUnavailable: { 'tfjs-node-gpu': 'not installed (npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0; needs CUDA 11.2, cuDNN 8.1)' } },
  tensorflowVersion: '2.9.3', usingGpu: false, smi: { problem: 'nvidia-smi not found' }, driverLoaded: false,
  workerGpus: [], missingCudaLibraries: ['libcudart.so.11.0', 'libcudnn.so.8'],
};
const gpuBox = { ...cpuMachine, smi: { gpus: [{ index: '0', name: 'NVIDIA H100' }, { index: '1', name: 'NVIDIA H100' }] }, driverLoaded: true, workerGpus: ['0', '1'] };

test('why a GPU is not used: no driver, hidden GPUs, a CPU build, missing CUDA libraries, or none of these', () => {
  assert.deepEqual(whyNoGpu(cpuMachine), { verdict: 'ok', reason: 'no NVIDIA driver (nvidia-smi not found; no /proc/driver/nvidia): training runs on CPU' });
  assert.match(whyNoGpu({ ...gpuBox, cudaVisibleDevices: [], workerGpus: [] })!.reason, /CUDA_VISIBLE_DEVICES hides every GPU/);
  assert.match(whyNoGpu(gpuBox)!.reason, /^CPU build of TensorFlow: not installed/);
  const gpuBuild = { ...gpuBox, backend: { id: 'tfjs-node', reasonsOthersUnavailable: { 'tfjs-node-gpu': 'installed but fails to load: libcudart.so.11.0: cannot open shared object file' } } };
  assert.match(whyNoGpu(gpuBuild)!.reason, /^no CUDA libraries: the dynamic loader finds no libcudart.so.11.0, libcudnn.so.8 .*LD_LIBRARY_PATH.*cannot open shared object/);
  assert.equal(whyNoGpu({ ...gpuBox, backend: { id: 'tfjs-node-gpu', reasonsOthersUnavailable: {} }, usingGpu: true, missingCudaLibraries: [] }), undefined);
});

test('doctor lines: the TensorFlow version, the GPUs the worker trains on, GPU training', () => {
  const lines = deviceChecks({ ...gpuBox, backend: { id: 'tfjs-node-gpu', reasonsOthersUnavailable: {} }, usingGpu: true, missingCudaLibraries: [] });
  assert.deepEqual(lines.map((c) => [c.name, c.verdict]), [['TensorFlow', 'ok'], ['GPUs', 'ok'], ['GPU training', 'ok']]);
  assert.equal(lines[0].detail, 'libtensorflow 2.9.3 (tfjs-node-gpu)');
  assert.equal(lines[1].detail, 'nvidia-smi lists 0: NVIDIA H100, 1: NVIDIA H100; nnunet worker trains on GPUs 0,1, one training each');
  const pureJs = deviceChecks({ ...cpuMachine, backend: { id: 'cpu', reasonsOthersUnavailable: {} }, tensorflowVersion: undefined });
  assert.equal(pureJs[0].verdict, 'warn');
  assert.match(pureJs[0].detail, /pure JavaScript/);
});

test('this machine: the probe reads the backend\'s TensorFlow and the driver state', async () => {
  const p = await deviceProbe('auto');
  if (p.backend.id !== 'cpu') assert.match(p.tensorflowVersion ?? '', /^\d+\.\d+/);
  assert.equal(p.usingGpu && p.backend.id !== 'tfjs-node-gpu', false);
  assert.ok(Array.isArray(p.missingCudaLibraries));
});
