/**
 * Planner rules against nnU-Net's published numbers and its topology and memory rules.
 * See docs/planning.md, 'Published numbers', 'Network topology', 'Memory estimate'.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { planStage2d, planStage3d, vramReference3d } from '../../activities/planning/stage';
import { getPoolAndConvProps, padShape } from '../../activities/planning/topology';
import { approxVramConsumption } from '../../activities/planning/vram';
import { getPlanner, planner3dForMemory, plannerNames, registerPlanner } from '../../activities/planning/registry';
import { parseDatasetProperties } from '../../activities/planning/fingerprint';
import { BadInputError } from '../../activities/common/errors';

const hippocampus = { currentSpacing: [1, 1, 1], originalSpacing: [1, 1, 1], originalShape: [36, 50, 35], numCases: 260, numModalities: 1, numClasses: 3 };

test('Hippocampus (published, #148): 3d patch 40x56x40, 3 pools per axis, batch 9; 2d patch 56x40, batch 366', () => {
  const s3 = planStage3d(hippocampus, vramReference3d());
  assert.deepEqual(s3.patch_size, [40, 56, 40]);
  assert.deepEqual(s3.num_pool_per_axis, [3, 3, 3]);
  assert.equal(s3.batch_size, 9);
  const s2 = planStage2d(hippocampus);
  assert.deepEqual(s2.patch_size, [56, 40]);
  assert.equal(s2.batch_size, 366);
});

test('Liver fullres (published, #856): 128^3, 5 pools per axis, batch 2; 2d 512x512 batch 12', () => {
  const liver = { currentSpacing: [1, 0.7676, 0.7676], originalSpacing: [1, 0.7676, 0.7676], originalShape: [482, 512, 512], numCases: 131, numModalities: 1, numClasses: 3 };
  const s = planStage3d(liver, vramReference3d());
  assert.deepEqual(s.patch_size, [128, 128, 128]);
  assert.deepEqual(s.num_pool_per_axis, [5, 5, 5]);
  assert.equal(s.batch_size, 2);
  const s2 = planStage2d(liver);
  assert.deepEqual(s2.patch_size, [512, 512]);
  assert.equal(s2.batch_size, 12);
});

test('topology: anisotropic spacing starts with in-plane-only kernels and pools; patch padded to the divisor', () => {
  const t = getPoolAndConvProps([5, 1, 1], [20, 256, 256]);
  assert.deepEqual(t.convKernels[0], [1, 3, 3]);
  assert.deepEqual(t.poolKernels[0], [1, 2, 2]);
  assert.deepEqual(t.poolKernels[2], [2, 2, 2]); // spacing 5 vs 4: within 2x after two in-plane pools
  assert.equal(t.convKernels.length, t.poolKernels.length + 1);
  assert.deepEqual(t.convKernels.at(-1), [3, 3, 3]);
  assert.deepEqual(padShape([36, 48, 34], [8, 8, 8]), [40, 48, 40]);
});

test('memory proxy matches nnU-Net\'s formula on a hand-computed case', () => {
  // 8^3 patch, one pool by 2: (5·512·32 + 1·512 + 3·512) + 2·64·64
  const v = approxVramConsumption({ patchSize: [8, 8, 8], poolKernels: [[2, 2, 2]], baseFeatures: 32, maxFeatures: 320, numModalities: 1, numClasses: 3 });
  assert.equal(v, 5 * 512 * 32 + 512 + 3 * 512 + 2 * 64 * 64);
});

test('GPU memory variants: 11/32 GB use nnU-Net\'s raw reference · GB/8 and never plan smaller than 8 GB', () => {
  assert.equal(vramReference3d(11), 520_000_000 * 11 / 8);
  assert.equal(vramReference3d(32), 520_000_000 * 4);
  assert.ok(Math.abs(vramReference3d() - 554_666_666.6667) < 1e-3);
  const big = { currentSpacing: [1, 0.8, 0.8], originalSpacing: [1, 0.8, 0.8], originalShape: [400, 512, 512], numCases: 100, numModalities: 1, numClasses: 3 };
  const p8 = planStage3d(big, vramReference3d(8));
  const p32 = planStage3d(big, vramReference3d(32));
  const vox = (s: { patch_size: number[]; batch_size: number }) => s.patch_size.reduce((a, b) => a * b) * s.batch_size;
  assert.ok(vox(p32) > vox(p8), 'a 32 GB budget plans more voxels per batch');
  assert.equal(planner3dForMemory(32).name, 'ExperimentPlanner3D_v21_32GB');
  assert.equal(planner3dForMemory(32).plansIdentifier, 'nnUNetPlansv2.1_verybig');
  assert.equal(planner3dForMemory(8).name, 'ExperimentPlanner3D_v21');
  assert.equal(planner3dForMemory(24).plansIdentifier, 'nnUNetPlansv2.1_24GB');
  assert.ok(!plannerNames().includes('ExperimentPlanner3D_v21_24GB'), 'looking a planner up registers nothing');
});

test('registry: custom planners are selectable by name; unknown names are a clear BadInputError', () => {
  const base = getPlanner('ExperimentPlanner3D_v21');
  registerPlanner({ ...base, name: 'MyPlanner', plansIdentifier: 'MyPlans' });
  assert.ok(plannerNames().includes('MyPlanner'));
  assert.throws(() => getPlanner('Nope'), (e: unknown) => e instanceof BadInputError && /known planners/.test((e as Error).message));
});

test('fingerprint validation names the file and the field', () => {
  assert.throws(() => parseDatasetProperties({ all_spacings: [[1, 1, 1]] }, 'fp.json'), (e: unknown) => e instanceof BadInputError && /fp\.json/.test((e as Error).message));
});
