/**
 * Our planners against nnU-Net v1's own plans for 16 fingerprints (test/fixtures/vectors/planner_nnunet_v1.json):
 * every planned field must match — target spacing, transposition, patch/batch sizes, pooling, kernels, the
 * lowres stage and its values, normalization and mask use.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseDatasetProperties } from '../../activities/planning/fingerprint';
import { getPlanner } from '../../activities/planning/registry';
import { stages, type Plans } from '../../activities/planning/plans';
import { readVector } from '../helpers/vectors';

interface ExpectedPlan {
  transpose_forward: number[];
  normalization_schemes: Record<string, string>;
  use_mask_for_norm: Record<string, boolean>;
  stages: Array<Record<string, unknown>>;
}
interface Vector { kind: string; num_cases: number; fingerprint: unknown; plans: { '3d': ExpectedPlan; '2d': ExpectedPlan } }

const data = readVector<{ vectors: Vector[] }>('planner_nnunet_v1.json');

const STAGE_FIELDS = ['batch_size', 'num_pool_per_axis', 'patch_size', 'median_patient_size_in_voxels', 'do_dummy_2D_data_aug',
  'pool_op_kernel_sizes', 'conv_kernel_sizes'] as const;

function assertSpacingClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= 1e-12 * Math.abs(expected[i]!), `${what}[${i}]: ${a} vs ${expected[i]}`));
}

function comparePlans(ours: Plans, expected: ExpectedPlan, label: string): void {
  assert.deepEqual(ours.transpose_forward, expected.transpose_forward, `${label} transpose_forward`);
  assert.deepEqual(ours.normalization_schemes, expected.normalization_schemes, `${label} normalization`);
  assert.deepEqual(ours.use_mask_for_norm, expected.use_mask_for_norm, `${label} use_mask_for_norm`);
  const got = stages(ours);
  assert.equal(got.length, expected.stages.length, `${label} number of stages (lowres present?)`);
  got.forEach((stage, i) => {
    const exp = expected.stages[i]!;
    for (const f of STAGE_FIELDS) assert.deepEqual(stage[f], exp[f], `${label} stage ${i} ${f}`);
    assertSpacingClose(stage.current_spacing, exp['current_spacing'] as number[], `${label} stage ${i} current_spacing`);
    assertSpacingClose(stage.original_spacing, exp['original_spacing'] as number[], `${label} stage ${i} original_spacing`);
  });
}

test('v2.1 planners reproduce nnU-Net v1 plans for all reference fingerprints', () => {
  const vectors = data.vectors;
  assert.equal(vectors.length, 16);
  let matched = 0;
  vectors.forEach((v, i) => {
    const props = parseDatasetProperties(v.fingerprint, `vector ${i}`);
    assert.equal(props.all_sizes.length, v.num_cases);
    comparePlans(getPlanner('ExperimentPlanner3D_v21').plan(props), v.plans['3d'], `#${i} ${v.kind} 3d`);
    comparePlans(getPlanner('ExperimentPlanner2D_v21').plan(props), v.plans['2d'], `#${i} ${v.kind} 2d`);
    matched++;
  });
  assert.equal(matched, 16);
});
