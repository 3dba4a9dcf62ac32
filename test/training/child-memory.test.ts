/**
 * A training child killed by SIGKILL after filling the machine's memory is reported as OutOfMemory (not retried),
 * with its peak memory and the fix; other deaths stay retryable. The peak comes from sampling the real child.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { OutOfMemoryError } from '../../activities/common/errors';
import { childExitError, peakRssBytes, watchPeakRss } from '../../activities/training/child-memory';

const MB = 2 ** 20;
const linux = process.platform === 'linux';

test('peakRssBytes reads this process\'s peak resident memory', { skip: !linux && 'needs /proc' }, () => {
  const peak = peakRssBytes(process.pid);
  assert.ok(peak !== undefined && peak > 10 * MB, `peak ${peak}`);
  assert.equal(peakRssBytes(2 ** 22 + 12345), undefined, 'no such process');
});

test('a child SIGKILLed after using most of the memory is OutOfMemory, with the figures and the fix', { skip: !linux && 'needs /proc' }, async () => {
  // Holds 300 MB (touched, so resident), then dies as the OOM killer would end it.
  const child = spawn(process.execPath, ['-e', "globalThis.b = Buffer.alloc(300 * 2 ** 20, 1); setTimeout(() => process.kill(process.pid, 'SIGKILL'), 2500)"]);
  const memory = watchPeakRss(child.pid!);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  memory.stop();
  assert.equal(signal, 'SIGKILL');
  assert.ok(memory.peak! >= 300 * MB, `sampled peak ${memory.peak}`);
  const err = childExitError(code, signal, memory.peak, 400 * MB);
  assert.ok(err instanceof OutOfMemoryError);
  assert.match(err.message, /killed \(SIGKILL\) after using 0\.\d GB of this machine's 0\.4 GB/);
  assert.match(err.message, /planning\.gpuMemoryTargetGb/);
});

test('other deaths stay plain retryable errors that say the next attempt resumes', () => {
  for (const [code, signal, peak] of [[null, 'SIGKILL', 100 * MB], [null, 'SIGSEGV', 900 * MB], [1, null, 900 * MB], [null, 'SIGKILL', undefined]] as const) {
    const err = childExitError(code, signal, peak, 1000 * MB);
    assert.ok(!(err instanceof OutOfMemoryError), `${code} ${signal} ${peak}`);
    assert.match(err.message, /next attempt resumes from the newest checkpoint/);
  }
});
