/**
 * The resolved configuration: stage, data folder, identifier and network topology, made once from plans.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataFolderOf, resolveConfiguration, sibling } from '../../activities/planning/configuration';

const stage = (patch: number[]) => ({ patch_size: patch, pool_op_kernel_sizes: [[2, 2, 2]], conv_kernel_sizes: [[3, 3, 3]], current_spacing: [1, 1, 1] });
const plans3d = {
  plans_kind: '3d', data_identifier: 'nnUNetData_plans_v2.1', num_modalities: 2, num_classes: 3, base_num_features: 32, unet_max_num_features: 320,
  plans_per_stage: { '0': stage([64, 64, 64]), '1': stage([96, 96, 96]) },
} as never;

test('3d_lowres uses stage 0, the cascade the last stage with K-1 more input channels', () => {
  const lowres = resolveConfiguration(plans3d, 'p.json', '3d_lowres', { preprocessedDir: '/pp', plansIdentifier: 'nnUNetPlansv2.1' });
  assert.deepEqual([lowres.stageIndex, lowres.dataDir, lowres.plansIdentifier, lowres.inPlaneOnly], [0, '/pp/nnUNetData_plans_v2.1_stage0', 'nnUNetPlansv2.1', false]);
  assert.deepEqual(lowres.network, { inChannels: 2, numClasses: 4, baseFeatures: 32, maxFeatures: 320, patchSize: [64, 64, 64], poolKernels: [[2, 2, 2]], convKernels: [[3, 3, 3]] });
  const cascade = sibling(lowres, '3d_cascade_fullres');
  assert.deepEqual([cascade.stageIndex, cascade.dataDir, cascade.network.inChannels, cascade.network.patchSize], [1, '/pp/nnUNetData_plans_v2.1_stage1', 5, [96, 96, 96]]);
});

test('without a preprocessed folder there is no data folder (prediction), and asking for one says so', () => {
  const rc = resolveConfiguration(plans3d, 'p.json', '3d_fullres');
  assert.equal(rc.dataDir, undefined);
  assert.throws(() => dataFolderOf(rc), /resolved without a preprocessed folder/);
  assert.throws(() => resolveConfiguration(plans3d, 'p.json', '2d'), (e: Error) => e.name === 'BadInput' && /p\.json: 3d plans cannot/.test(e.message));
});
