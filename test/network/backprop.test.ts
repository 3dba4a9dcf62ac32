/**
 * variableGradsFreeing: the same gradients as tf.variableGrads, bit for bit, through a deep-supervised U-Net
 * and its loss, with nothing left behind and a lower tensor-memory peak (each node's saved tensors and its
 * outputs' gradients are freed once it is differentiated, instead of at the end of the backward pass).
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../activities/network/backend';
import { NATIVE_BACKEND } from '../helpers/native-backend';
import type { UNetStagePlan } from '../../activities/network/architecture';
import { deepSupervisionTargets, deepSupervisionWeights } from '../../activities/network/deep-supervision';
import { buildUNet } from '../../activities/network/unet';
import { variableGradsFreeing } from '../../activities/network/backprop';
import { deepSupervisionLoss } from '../../activities/training/loss';

const STAGE: UNetStagePlan & { patch_size: number[] } = {
  patch_size: [8, 16, 16],
  pool_op_kernel_sizes: [[1, 2, 2], [2, 2, 2]],
  conv_kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
};
const BATCH = 2;

const backends: { name: string; init: () => Promise<unknown> }[] = [{ name: 'cpu', init: () => tf.setBackend('cpu') }];
if (NATIVE_BACKEND) backends.push({ name: NATIVE_BACKEND, init: () => initBackend({ preference: NATIVE_BACKEND, threads: 1 }) });

after(async () => {
  await tf.setBackend('cpu');
});

function problem() {
  const net = buildUNet(STAGE, { inChannels: 2, numClasses: 3, baseFeatures: 4, maxFeatures: 16, seed: 3 });
  const segShape = [BATCH, ...STAGE.patch_size];
  const n = segShape.reduce((a, b) => a * b, 1);
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 3);
  const data = tf.randomNormal([...segShape, 2], 0, 1, 'float32', 11);
  const targets = deepSupervisionTargets(labels, segShape, STAGE.pool_op_kernel_sizes).map((t) => tf.tensor(t.data, t.shape, 'int32'));
  const weights = deepSupervisionWeights(targets.length);
  const loss = (): tf.Scalar => deepSupervisionLoss(net.apply(data), targets, weights, { batchDice: false });
  const dispose = (): void => { net.dispose(); data.dispose(); targets.forEach((t) => t.dispose()); };
  return { net, loss, dispose };
}

for (const backend of backends) {
  test(`${backend.name}: same loss and gradients as tf.variableGrads, bit for bit, and nothing leaks`, async () => {
    await backend.init();
    const { net, loss, dispose } = problem();
    const want = tf.variableGrads(loss, [...net.variables]);
    const before = tf.memory().numTensors;
    const got = variableGradsFreeing(loss, net.variables);
    const produced = 1 + Object.values(got.grads).filter((g) => g !== null).length;
    assert.equal(tf.memory().numTensors, before + produced, 'only the value and the gradients remain');
    assert.equal(got.value.dataSync()[0], want.value.dataSync()[0]);
    for (const v of net.variables) {
      const [g, w] = [got.grads[v.name], want.grads[v.name]];
      assert.equal(g === null, w === undefined || w === null, `${v.name}: gradient present in both or neither`);
      if (!g || !w) continue;
      assert.deepEqual(Array.from(g.dataSync()), Array.from(w.dataSync()), `gradient of ${v.name}`);
    }
    tf.dispose([got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads)].filter((t): t is tf.Tensor => t !== null));
    dispose();
  });

  test(`${backend.name}: the backward pass peaks well below tf.variableGrads'`, async () => {
    await backend.init();
    const { net, loss, dispose } = problem();
    const peakOf = async (grads: () => { value: tf.Tensor; grads: Record<string, tf.Tensor | null> }): Promise<number> => {
      const start = tf.memory().numBytes;
      let out!: ReturnType<typeof grads>;
      const info = await tf.profile(() => { out = grads(); return out.value; });
      tf.dispose([out.value, ...Object.values(out.grads)].filter((t): t is tf.Tensor => t !== null));
      return info.peakBytes - start;
    };
    const stock = await peakOf(() => tf.variableGrads(loss, [...net.variables]));
    const freeing = await peakOf(() => variableGradsFreeing(loss, net.variables));
    assert.ok(freeing < 0.85 * stock, `peak ${freeing} B vs tf.variableGrads' ${stock} B`);
    dispose();
  });

  test(`${backend.name}: a variable the loss does not use gets null, as tf.variableGrads gives`, async () => {
    await backend.init();
    const used = tf.variable(tf.scalar(2), true, 'bp-used');
    const unused = tf.variable(tf.scalar(5), true, 'bp-unused');
    const got = variableGradsFreeing(() => tf.square(used) as tf.Scalar, [used, unused]);
    assert.equal(got.grads['bp-used']!.dataSync()[0], 4);
    assert.equal(got.grads['bp-unused'], null);
    tf.dispose([got.value, got.grads['bp-used']!, used, unused]);
  });
}
