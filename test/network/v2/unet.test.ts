/**
 * The v2 networks in tfjs (network/v2/unet.ts): predict() (inference memory) gives apply()'s values bit for bit
 * and leaks no tensor; gradients reach every parameter; the torch state_dict mapping round-trips.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { readV2Architecture } from '../../../activities/network/v2/arch-kwargs';
import { buildV2UNet } from '../../../activities/network/v2/unet';
import { v2StateDictFromWeights, weightsFromV2StateDict } from '../../../activities/network/v2/torch-weights';

before(async () => {
  await tf.setBackend('cpu');
});

const kwargs = (dims: 2 | 3, perStage: Record<string, number[]>) => ({
  n_stages: 3, features_per_stage: [4, 8, 8], conv_op: `torch.nn.modules.conv.Conv${dims}d`,
  kernel_sizes: dims === 3 ? [[1, 3, 3], [3, 3, 3], [3, 3, 3]] : [[3, 3], [3, 3], [3, 3]],
  strides: dims === 3 ? [[1, 1, 1], [1, 2, 2], [2, 2, 2]] : [[1, 1], [2, 2], [2, 2]],
  n_conv_per_stage_decoder: [2, 1], conv_bias: true,
  norm_op: `torch.nn.modules.instancenorm.InstanceNorm${dims}d`, norm_op_kwargs: { eps: 1e-5, affine: true },
  dropout_op: null, nonlin: 'torch.nn.LeakyReLU', nonlin_kwargs: { inplace: true }, ...perStage,
});
const NETWORKS = [
  { name: 'PlainConvUNet 3D', dims: 3 as const, arch: { network_class_name: 'PlainConvUNet', arch_kwargs: kwargs(3, { n_conv_per_stage: [2, 2, 2] }) } },
  { name: 'ResidualEncoderUNet 2D', dims: 2 as const, arch: { network_class_name: 'ResidualEncoderUNet', arch_kwargs: kwargs(2, { n_blocks_per_stage: [1, 2, 2] }) } },
];
const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(seed * 7919 + i * 104729));

for (const n of NETWORKS) {
  test(`${n.name}: predict() equals apply() bit for bit and frees every intermediate`, () => {
    const net = buildV2UNet(readV2Architecture(n.arch, 'test'), { inChannels: 2, numClasses: 3, seed: 7 });
    const x = tf.randomNormal(n.dims === 3 ? [1, 4, 8, 8, 2] : [1, 8, 8, 2], 0, 1, 'float32', 3);
    try {
      net.setWeights(net.description.params.map((p, i) => random(p.shape.reduce((a, b) => a * b, 1), i)));
      const applied = net.apply(x);
      assert.equal(applied.length, 1, 'no deep supervision by default');
      const before = tf.memory().numTensors;
      const predicted = net.predict(x);
      assert.equal(tf.memory().numTensors, before + 1, 'only the logits remain');
      assert.deepEqual(predicted.dataSync(), applied[0]!.dataSync());
      tf.dispose([...applied, predicted]);
    } finally {
      x.dispose();
      net.dispose();
    }
  });

  test(`${n.name}: gradients of a deep-supervised loss reach every parameter but the conv biases an instance norm cancels`, () => {
    const net = buildV2UNet(readV2Architecture(n.arch, 'test'), { inChannels: 2, numClasses: 3, deepSupervision: true, seed: 7 });
    const x = tf.randomNormal(n.dims === 3 ? [1, 4, 8, 8, 2] : [1, 8, 8, 2], 0, 1, 'float32', 3);
    try {
      // random weights: with the init's zeroed last norms (init_last_bn_before_add_to_0) no gradient enters a residual branch
      net.setWeights(net.description.params.map((p, i) => random(p.shape.reduce((a, b) => a * b, 1), i)));
      const { value, grads } = tf.variableGrads(() => tf.addN(net.apply(x).map((o) => tf.mean(tf.square(o)))) as tf.Scalar, [...net.variables]);
      assert.ok(Number.isFinite(value.dataSync()[0]));
      const names = new Map(net.variables.map((v, i) => [v.name, net.description.params[i]!.name]));
      // a conv bias right before an instance norm is subtracted out again: its gradient is zero up to rounding
      const none = net.variables.filter((v) => !(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]! > 1e-6)).map((v) => names.get(v.name)!);
      assert.deepEqual(none.filter((name) => !name.endsWith('.conv.bias')), []);
      assert.ok(none.length < net.variables.length / 4);
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      x.dispose();
      net.dispose();
    }
  });
}

test('our weights → a v2 state_dict (torch layouts) → our weights is the identity', () => {
  const net = buildV2UNet(readV2Architecture(NETWORKS[0]!.arch, 'test'), { inChannels: 2, numClasses: 3 });
  try {
    const weights = net.description.params.map((p, i) => random(p.shape.reduce((a, b) => a * b, 1), i));
    const sd = v2StateDictFromWeights(net.description, weights);
    assert.deepEqual(sd.get('encoder.stages.0.0.convs.0.conv.weight')!.shape, [4, 2, 1, 3, 3]);
    assert.deepEqual(sd.get('decoder.transpconvs.0.weight')!.shape, [8, 8, 2, 2, 2]);
    assert.deepEqual(sd.get('decoder.seg_layers.1.weight')!.shape, [3, 4, 1, 1, 1]);
    const aliased = new Map(sd).set('decoder.encoder.stages.0.0.convs.0.all_modules.0.weight', sd.get('encoder.stages.0.0.convs.0.conv.weight')!);
    weightsFromV2StateDict(net.description, aliased, 'x.pth').forEach((w, i) => assert.deepEqual(w, weights[i], net.description.params[i]!.name));
  } finally {
    net.dispose();
  }
});
