import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whyNotGpu } from '../../activities/network/gpu-reason';

const DRIVER = 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  555.42.02';

function withVisibleDevices<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.CUDA_VISIBLE_DEVICES;
  if (value === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
  else process.env.CUDA_VISIBLE_DEVICES = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
    else process.env.CUDA_VISIBLE_DEVICES = saved;
  }
}

test('a CPU build needs no explanation without a driver, and points to --gpu with one', () => {
  assert.equal(whyNotGpu(false, undefined), undefined);
  assert.match(whyNotGpu(false, DRIVER)!, /CPU build: run npm run setup:native -- --gpu/);
});

test('the CUDA build on CPU says whether the GPUs are hidden, the driver is missing, or TensorFlow rejected the GPU', () => {
  withVisibleDevices('', () => assert.match(whyNotGpu(true, DRIVER)!, /CUDA_VISIBLE_DEVICES='' hides every GPU/));
  withVisibleDevices('-1', () => assert.match(whyNotGpu(true, DRIVER)!, /hides every GPU/));
  withVisibleDevices(undefined, () => {
    assert.match(whyNotGpu(true, undefined)!, /no NVIDIA driver loaded/);
    assert.match(whyNotGpu(true, DRIVER)!, /555\.42\.02\) but TensorFlow found no usable GPU/);
  });
  withVisibleDevices('0,1', () => assert.doesNotMatch(whyNotGpu(true, DRIVER)!, /hides/));
});
