/**
 * The v2 networks' layout (network/v2/describe.ts) against nnU-Net v2: every configuration of the 16 reference
 * datasets × 4 planners (test/fixtures/vectors/planner_nnunet_v2.json, counted by PyTorch on the network
 * nnUNetTrainer builds) holds exactly that many trainable parameters; and a built network allocates them.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../../../activities/common/errors';
import { foregroundLabelCount, segmentationHeads, type DatasetJsonV2 } from '../../../activities/planning/v2/dataset-json';
import type { PlansV2 } from '../../../activities/planning/v2/experiment';
import { resolveConfiguration } from '../../../activities/planning/v2/parameters';
import { readV2Architecture, type V2ArchitectureJson } from '../../../activities/network/v2/arch-kwargs';
import { describeV2Network } from '../../../activities/network/v2/describe';
import { buildV2UNet } from '../../../activities/network/v2/unet';
import { readVector } from '../../helpers/vectors';

type Vector = { kind: string; dataset_json: DatasetJsonV2; network_params: Record<string, Record<string, { trainable_params: number }>> } & Record<string, unknown>;
const PLANS = ['nnUNetPlans', 'nnUNetResEncUNetMPlans', 'nnUNetResEncUNetLPlans', 'nnUNetResEncUNetXLPlans'];

before(async () => {
  await tf.setBackend('cpu');
});

test('every configuration of all 16 x 4 reference plans has nnU-Net v2\'s parameter count', () => {
  const { vectors } = readVector<{ vectors: Vector[] }>('planner_nnunet_v2.json');
  assert.equal(vectors.length, 16);
  const failures: string[] = [];
  let counted = 0;
  vectors.forEach((v, i) => {
    for (const plansName of PLANS) {
      const plans = v[plansName] as PlansV2;
      for (const [name, expected] of Object.entries(v.network_params[plansName]!)) {
        const config = resolveConfiguration(plans, name);
        const spec = readV2Architecture(config.architecture as V2ArchitectureJson, `#${i} ${plansName} ${name}`);
        const channels = Object.keys(v.dataset_json.channel_names ?? v.dataset_json.modality ?? {}).length;
        const inChannels = channels + (typeof config.previous_stage === 'string' ? foregroundLabelCount(v.dataset_json) : 0);
        const d = describeV2Network(spec, { inChannels, numClasses: segmentationHeads(v.dataset_json) });
        if (d.numParameters !== expected.trainable_params) failures.push(`#${i} ${v.kind} ${plansName} ${name}: ${d.numParameters} != ${expected.trainable_params}`);
        counted++;
      }
    }
  });
  assert.deepEqual(failures, []);
  assert.equal(counted, 154);
});

test('a built network allocates exactly the described parameters', () => {
  const spec = readV2Architecture({
    network_class_name: 'dynamic_network_architectures.architectures.unet.ResidualEncoderUNet',
    arch_kwargs: {
      n_stages: 3, features_per_stage: [4, 8, 8], conv_op: 'torch.nn.modules.conv.Conv3d', kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
      strides: [[1, 1, 1], [1, 2, 2], [2, 2, 2]], n_blocks_per_stage: [1, 2, 2], n_conv_per_stage_decoder: [1, 1], conv_bias: true,
      norm_op: 'torch.nn.modules.instancenorm.InstanceNorm3d', norm_op_kwargs: { eps: 1e-5, affine: true },
      dropout_op: null, dropout_op_kwargs: null, nonlin: 'torch.nn.LeakyReLU', nonlin_kwargs: { inplace: true },
    },
  }, 'test');
  const net = buildV2UNet(spec, { inChannels: 2, numClasses: 3, deepSupervision: true });
  try {
    assert.equal(net.variables.reduce((n, v) => n + v.size, 0), net.description.numParameters);
    // stage 2 keeps 8 features while striding: its first block's skip is the avg pool alone, no projection
    const names = net.description.params.map((p) => p.name);
    assert.ok(names.includes('encoder.stages.1.blocks.0.skip.1.conv.weight'));
    assert.ok(!names.some((n) => n.startsWith('encoder.stages.2.blocks.0.skip')));
    const outs = tf.tidy(() => net.apply(tf.randomNormal([1, 4, 8, 8, 2])).map((t) => t.shape));
    assert.deepEqual(outs, [[1, 4, 8, 8, 3], [1, 4, 4, 4, 3]]);
  } finally {
    net.dispose();
  }
});

test('an architecture nnunet-ts cannot build is refused naming the key', () => {
  const base = { n_stages: 2, features_per_stage: [4, 8], conv_op: 'torch.nn.Conv2d', kernel_sizes: 3, strides: [1, 2], n_conv_per_stage: 2, n_conv_per_stage_decoder: 2, conv_bias: true, norm_op: 'torch.nn.InstanceNorm2d', norm_op_kwargs: { eps: 1e-5, affine: true }, nonlin: 'torch.nn.LeakyReLU' };
  assert.equal(readV2Architecture({ network_class_name: 'PlainConvUNet', arch_kwargs: base }, 'p.json').kernelSizes.length, 2, 'scalars broadcast per stage');
  assert.throws(() => readV2Architecture({ network_class_name: 'x.Primus', arch_kwargs: base }, 'p.json'), (e: Error) => e instanceof BadInputError && /p\.json: .*x\.Primus.*PlainConvUNet and ResidualEncoderUNet/.test(e.message));
  assert.throws(() => readV2Architecture({ network_class_name: 'PlainConvUNet', arch_kwargs: { ...base, norm_op: 'torch.nn.BatchNorm2d' } }, 'p.json'), /arch_kwargs\.norm_op must be torch\.nn\.InstanceNorm2d/);
  assert.throws(() => readV2Architecture({ network_class_name: 'PlainConvUNet', arch_kwargs: { ...base, strides: [1, 2, 2] } }, 'p.json'), /arch_kwargs\.strides must give 2 stages/);
  assert.throws(() => readV2Architecture({ network_class_name: 'PlainConvUNet', arch_kwargs: { ...base, dropout_op: 'torch.nn.Dropout2d' } }, 'p.json'), /dropout_op/);
});
