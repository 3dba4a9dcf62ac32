import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { spawnSync } from 'node:child_process';
import { cudaVisibleDevices, gpuSlotsOnCpuWarning, parseGpuList, queryNvidiaSmi, trainingSlotsOf, visibleGpus } from '../../worker/gpus';

const fakeRun = (r: { status?: number; stdout?: string; stderr?: string; error?: NodeJS.ErrnoException }) =>
  (() => ({ status: r.status ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error })) as unknown as typeof spawnSync;

test('visible GPUs: CUDA_VISIBLE_DEVICES as CUDA reads it, else nvidia-smi, else none', () => {
  assert.deepEqual(cudaVisibleDevices({ CUDA_VISIBLE_DEVICES: '2,3' }), ['2', '3']);
  assert.deepEqual(cudaVisibleDevices({ CUDA_VISIBLE_DEVICES: '' }), []);
  assert.deepEqual(cudaVisibleDevices({ CUDA_VISIBLE_DEVICES: '-1' }), []);
  assert.deepEqual(cudaVisibleDevices({ CUDA_VISIBLE_DEVICES: '0,-1,1' }), ['0'], 'CUDA stops at the first invalid id');
  assert.equal(cudaVisibleDevices({}), undefined);
  const smi = () => queryNvidiaSmi(fakeRun({ stdout: '0, NVIDIA H100 80GB HBM3\n1, NVIDIA H100 80GB HBM3\n' }));
  assert.deepEqual(visibleGpus({}, smi), ['0', '1']);
  assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '1' }, smi), ['1']);
  const noDriver = Object.assign(new Error('spawnSync nvidia-smi ENOENT'), { code: 'ENOENT' });
  assert.deepEqual(queryNvidiaSmi(fakeRun({ error: noDriver })), { problem: 'nvidia-smi not found' });
  assert.deepEqual(visibleGpus({}, () => queryNvidiaSmi(fakeRun({ error: noDriver }))), []);
  assert.match(queryNvidiaSmi(fakeRun({ status: 9, stdout: 'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.' })).problem ?? '', /couldn't communicate/);
});

test('--gpus takes indices and UUIDs; --gpus, else --slots, else the visible GPUs, else the config\'s CPU slots', () => {
  assert.deepEqual(parseGpuList('0,1, 3'), ['0', '1', '3']);
  assert.deepEqual(parseGpuList('GPU-5b1c2d3e-aaaa-bbbb'), ['GPU-5b1c2d3e-aaaa-bbbb']);
  assert.throws(() => parseGpuList('0,x'), /--gpus 0,x: expected GPU indices/);
  assert.throws(() => parseGpuList('1,1'), /listed twice/);
  const none = () => [];
  assert.deepEqual(trainingSlotsOf({ gpus: ['0', '1'] }, 1, none), { trainingDevices: ['0', '1'] });
  assert.deepEqual(trainingSlotsOf({ slots: 2 }, 1, () => ['0']), { trainingSlots: 2 });
  assert.deepEqual(trainingSlotsOf({}, 1, () => ['0', '1', '2', '3']), { trainingDevices: ['0', '1', '2', '3'] });
  assert.deepEqual(trainingSlotsOf({}, 3, none), { trainingSlots: 3 });
  assert.throws(() => trainingSlotsOf({ gpus: ['0'], slots: 2 }, 1, none), /exclude each other/);
});

test('a worker that sees GPUs but would train on CPU says so (its GPU slots would share the cores)', () => {
  const installedCpuOnly = ['tfjs-node', 'cpu'];
  assert.match(gpuSlotsOnCpuWarning({ trainingDevices: ['0', '1'], backend: 'auto' }, installedCpuOnly) ?? '', /^GPUs 0,1 give this worker 2 training slot\(s\), but training would run on CPU \(the GPU build @tensorflow\/tfjs-node-gpu is not installed\)/);
  assert.match(gpuSlotsOnCpuWarning({ trainingDevices: ['0'], backend: 'tfjs-node' }, ['tfjs-node-gpu']) ?? '', /worker.backend is tfjs-node/);
  assert.equal(gpuSlotsOnCpuWarning({ trainingDevices: ['0'], backend: 'auto' }, ['tfjs-node-gpu', 'cpu']), undefined);
  assert.equal(gpuSlotsOnCpuWarning({ backend: 'auto' }, installedCpuOnly), undefined, 'CPU slots: nothing to say');
});
