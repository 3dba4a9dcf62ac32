import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { NesterovSgd, lossAndGradients, polyLearningRate } from '../../activities/training/optimizer';

before(async () => {
  await tf.setBackend('cpu');
});

/** torch.optim.SGD(momentum, nesterov, weight_decay) after clip_grad_norm_, in float64. */
function refSgd(params: number[][], gradsPerStep: number[][][], lr: number, mu: number, wd: number, clip: number): number[][] {
  const p = params.map((a) => [...a]);
  let buf: number[][] | null = null;
  for (const grads of gradsPerStep) {
    const norm = Math.sqrt(grads.flat().reduce((a, g) => a + g * g, 0));
    const coef = Math.min(1, clip / (norm + 1e-6));
    const d = grads.map((g, i) => g.map((v, j) => v * coef + wd * p[i]![j]!));
    buf = buf === null ? d.map((a) => [...a]) : buf.map((b, i) => b.map((v, j) => mu * v + d[i]![j]!));
    p.forEach((a, i) => a.forEach((_, j) => (a[j]! -= lr * (d[i]![j]! + mu * buf![i]![j]!))));
  }
  return p;
}

test('poly learning rate: 0.01 at epoch 0, ~2.0e-5 at epoch 999', () => {
  assert.equal(polyLearningRate(0, 1000), 0.01);
  assert.ok(Math.abs(polyLearningRate(999, 1000) - 1.9953e-5) < 1e-8);
  assert.ok(Math.abs(polyLearningRate(500, 1000) - 0.01 * 0.5 ** 0.9) < 1e-15);
});

test('Nesterov SGD with weight decay and clipping equals PyTorch SGD, and its state resumes exactly', () => {
  const params = [[0.5, -1.25, 2], [3, -0.75]];
  const gradsPerStep = [
    [[0.1, -0.2, 0.3], [0.05, 0.4]], // norm < 12: no clipping
    [[30, -10, 4], [8, -25]], // norm > 12: clipped
    [[-0.3, 0.2, 0.1], [0.7, -0.1]],
    [[1, 2, 3], [4, 5]],
  ];
  const vars = params.map((p) => tf.variable(tf.tensor(p)));
  const opt = new NesterovSgd(vars, { learningRate: 0.01 });
  const norms: number[] = [];
  for (const g of gradsPerStep.slice(0, 3)) norms.push(tf.tidy(() => opt.step(g.map((a) => tf.tensor(a)))));
  const state = opt.getState();
  // a fresh optimiser restored from the state (as after a checkpoint) takes the same fourth step
  const vars2 = vars.map((v) => tf.variable(v.clone()));
  const resumed = new NesterovSgd(vars2);
  const restored = JSON.parse(JSON.stringify({ ...state, buffers: state.buffers.map((b) => Array.from(b)) })) as { buffers: number[][] };
  resumed.setState({ ...state, ...restored, buffers: restored.buffers.map((b) => Float32Array.from(b)) });
  tf.tidy(() => opt.step(gradsPerStep[3]!.map((a) => tf.tensor(a))));
  tf.tidy(() => resumed.step(gradsPerStep[3]!.map((a) => tf.tensor(a))));
  const expected = refSgd(params, gradsPerStep, 0.01, 0.99, 3e-5, 12);
  vars.forEach((v, i) => Array.from(v.dataSync()).forEach((x, j) => assert.ok(Math.abs(x - expected[i]![j]!) < 1e-5, `${x} vs ${expected[i]![j]}`)));
  assert.deepEqual(vars2.map((v) => Array.from(v.dataSync())), vars.map((v) => Array.from(v.dataSync())));
  assert.ok(Math.abs(norms[1]! - Math.sqrt(900 + 100 + 16 + 64 + 625)) < 1e-3);
  assert.equal(resumed.stepCount, 4);
  assert.throws(() => resumed.setState({ ...state, buffers: state.buffers.slice(1) }));
  opt.dispose();
  resumed.dispose();
});

test('lossAndGradients returns gradients aligned with the variables', () => {
  const a = tf.variable(tf.tensor([1, 2]));
  const b = tf.variable(tf.tensor([3]));
  const { loss, grads } = lossAndGradients(() => tf.add(tf.sum(tf.square(a)), tf.mul(b, 5).sum()) as tf.Scalar, [b, a]);
  assert.equal(loss, 20);
  assert.deepEqual(Array.from(grads[0]!.dataSync()), [5]);
  assert.deepEqual(Array.from(grads[1]!.dataSync()), [2, 4]);
  grads.forEach((g) => g?.dispose());
});
