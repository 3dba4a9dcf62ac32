/** TensorFlow 2.21's two start-up lines are dropped from a training child's stderr; everything else passes through. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { forwardStderrWithoutNoise, isTensorflowStartupNoise } from '../../activities/network/tensorflow-noise';

const ABSL = 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR';
const ONEDNN = 'I0000 00:00:1796680950.243270    2862 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results due to floating-point round-off errors from different computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.';

test('the start-up lines are noise; warnings and errors are not', () => {
  assert.ok(isTensorflowStartupNoise(ABSL));
  assert.ok(isTensorflowStartupNoise(ONEDNN));
  assert.ok(isTensorflowStartupNoise('I0000 00:00:1796680976.951331     528 cpu_feature_guard.cc:227] This TensorFlow binary is optimized'));
  assert.ok(!isTensorflowStartupNoise('E0000 00:00:1796680950.243270    2862 cuda_driver.cc:12] failed call to cuInit'));
  assert.ok(!isTensorflowStartupNoise('RangeError: out of memory'));
});

test('forwarding keeps the other lines, in order, across chunk boundaries', async () => {
  const from = new PassThrough();
  const to = new PassThrough();
  let out = '';
  to.on('data', (c: Buffer) => { out += c.toString(); });
  forwardStderrWithoutNoise(from, to);
  const text = `${ABSL}\n${ONEDNN}\nfold 0: starting\nError: x`;
  for (let i = 0; i < text.length; i += 7) from.write(text.slice(i, i + 7));
  from.end();
  await new Promise((r) => setImmediate(r));
  assert.equal(out, 'fold 0: starting\nError: x');
});
