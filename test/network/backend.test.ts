import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_IDS, availableBackends, describeBackends, initBackend, type BackendId } from '../../activities/network/backend';
import { BadInputError } from '../../activities/common/errors';
import { loadConfig } from '../../config';
import { NATIVE_BACKEND } from '../helpers/native-backend';

const installed = availableBackends();
const nativeInstalled = installed.includes('tfjs-node');
const NATIVE_SKIP = NATIVE_BACKEND ? false : 'no native backend installed (run `npm run setup:native` to test it)';

/** Values and gradients of a small U-Net-like step on the given backend: strided conv, instance norm, transposed conv, softmax. */
async function smallStep(id: BackendId, dims: 2 | 3): Promise<Float32Array[]> {
  await initBackend({ preference: id });
  const spatial = dims === 3 ? [5, 6, 4] : [9, 7];
  const x = tf.randomNormal([2, ...spatial, 3], 0, 1, 'float32', 11);
  const w = tf.randomNormal([...Array<number>(dims).fill(3), 3, 4], 0, 0.3, 'float32', 12);
  const up = tf.randomNormal([...Array<number>(dims).fill(2), 2, 4], 0, 0.3, 'float32', 13);
  const f = (xv: tf.Tensor, wv: tf.Tensor, upv: tf.Tensor): tf.Scalar => {
    const axes = dims === 3 ? [1, 2, 3] : [1, 2];
    const y = dims === 3
      ? tf.conv3d(xv as tf.Tensor5D, wv as tf.Tensor5D, [1, 2, 2], 'same')
      : tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, 2, 'same');
    const { mean, variance } = tf.moments(y, axes, true); // instance norm
    const z = tf.leakyRelu(tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, 1e-5))), 0.01);
    const t = dims === 3
      ? tf.conv3dTranspose(z as tf.Tensor5D, upv as tf.Tensor5D, [z.shape[0], z.shape[1]! * 2, z.shape[2]! * 2, z.shape[3]! * 2, 2], 2, 'same')
      : tf.conv2dTranspose(z as tf.Tensor4D, upv as tf.Tensor4D, [z.shape[0], z.shape[1]! * 2, z.shape[2]! * 2, 2], 2, 'same');
    return tf.mean(tf.square(tf.softmax(t)));
  };
  const { value, grads } = tf.valueAndGrads(f)([x, w, up]);
  const out = [await value.data(), ...(await Promise.all(grads.map((g) => g.data())))] as Float32Array[];
  tf.dispose([x, w, up, value, ...grads]);
  return out;
}

function assertClose(a: Float32Array[], b: Float32Array[], label: string): void {
  assert.equal(a.length, b.length);
  a.forEach((arr, i) => {
    const scale = Math.max(1e-6, ...Array.from(b[i], Math.abs));
    const worst = Math.max(...Array.from(arr, (v, j) => Math.abs(v - b[i][j])));
    assert.ok(worst <= 2e-4 * scale, `${label} output ${i}: max |diff| ${worst} vs scale ${scale}`);
  });
}

test('auto picks the best installed backend, activates it in @tensorflow/tfjs, and says why better ones were not used', async () => {
  const choice = await initBackend();
  assert.equal(tf.getBackend(), choice.tfName);
  const better = BACKEND_IDS.slice(0, BACKEND_IDS.indexOf(choice.id));
  assert.deepEqual(Object.keys(choice.reasonsOthersUnavailable).sort(), [...better].sort());
  for (const id of better) assert.match(choice.reasonsOthersUnavailable[id]!, /\w/);
  if (nativeInstalled && !installed.includes('tfjs-node-gpu')) {
    assert.equal(choice.id, 'tfjs-node');
    assert.match(choice.reasonsOthersUnavailable['tfjs-node-gpu']!, /not installed/);
  }
  const line = await describeBackends();
  assert.ok(line.startsWith(choice.id), line);
});

test('a forced backend is used, and an unavailable or unknown one is a BadInputError', async () => {
  assert.equal((await initBackend({ preference: 'cpu' })).id, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  await assert.rejects(initBackend({ preference: 'nonsense' as BackendId }), (e: unknown) => e instanceof BadInputError && /auto, tfjs-node-gpu/.test(e.message));
  if (!installed.includes('tfjs-node-gpu')) {
    await assert.rejects(initBackend({ preference: 'tfjs-node-gpu' }), (e: unknown) => e instanceof BadInputError && /not installed/.test(e.message));
  }
  await assert.rejects(initBackend({ preference: 'wasm' }), (e: unknown) => e instanceof BadInputError && /unknown tensor backend 'wasm'/.test(e.message), 'wasm (wrong 3D gradients) is gone');
  const { backend } = loadConfig({ env: { NNUNET_BACKEND: 'cpu' } }).worker;
  assert.equal((await initBackend({ preference: backend })).id, 'cpu', 'NNUNET_BACKEND reaches the backend through Config');
});

test(`${NATIVE_BACKEND ?? 'tfjs-node'} registers in our tfjs-core and computes the same 2D and 3D step as pure JS`, { skip: NATIVE_SKIP }, async () => {
  const native = NATIVE_BACKEND!;
  const reference3d = await smallStep('cpu', 3);
  const reference2d = await smallStep('cpu', 2);
  const choice = await initBackend({ preference: native });
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.match(choice.detail, /libtensorflow 2\.\d+\.\d+ on (CPU|CUDA device)/);
  if (native === 'tfjs-node') assert.match(choice.detail, /on CPU/);
  assertClose(await smallStep(native, 3), reference3d, `${native} 3d`);
  assertClose(await smallStep(native, 2), reference2d, `${native} 2d`);
});

test('conv3dTranspose can train: the gradient initBackend registers matches exact finite differences', async () => {
  await initBackend({ preference: 'cpu' });
  const x = tf.randomNormal([1, 2, 2, 3, 2], 0, 1, 'float32', 21);
  const w = tf.randomNormal([2, 2, 2, 3, 2], 0, 1, 'float32', 22); // [d, h, w, out channels, in channels]
  const r = tf.randomNormal([1, 4, 4, 6, 3], 0, 1, 'float32', 23);
  const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
    tf.sum(tf.mul(tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, [1, 4, 4, 6, 3], 2, 'same'), r));
  const analytic = tf.grads(loss)([x, w]).map((g) => g.dataSync());
  // The loss is linear in each argument, so L(a + e_i) - L(a) is exactly its i-th partial derivative.
  const base = loss(x, w).dataSync()[0];
  [x, w].forEach((arg, which) => {
    const flat = arg.dataSync();
    flat.forEach((_, i) => {
      const bumped = Float32Array.from(flat);
      bumped[i] += 1;
      const moved = tf.tensor(bumped, arg.shape);
      const numeric = (which === 0 ? loss(moved, w) : loss(x, moved)).dataSync()[0] - base;
      assert.ok(Math.abs(numeric - analytic[which][i]) < 1e-3, `d/d${which === 0 ? 'x' : 'w'}[${i}]: ${numeric} vs ${analytic[which][i]}`);
    });
  });
});
