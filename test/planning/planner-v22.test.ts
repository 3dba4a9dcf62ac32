/**
 * ExperimentPlanner3D_v22 against nnU-Net v1's own (test/fixtures/nnunet-planner-v22.json, written by
 * scripts/parity/make_v22_planner_fixture.py): target spacing, transposition and every planned stage field for
 * the 16 reference fingerprints and two anisotropic ones where v2.2's spacing rule differs from v2.1's.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../config';
import { parseDatasetProperties } from '../../activities/planning/fingerprint';
import { getPlanner } from '../../activities/planning/registry';
import { anisotropyAwareTargetSpacing, v22TargetSpacing } from '../../activities/planning/spacing';
import { stages } from '../../activities/planning/plans';
import { readVector } from '../helpers/vectors';

interface ExpectedV22 { target_spacing: number[]; transpose_forward: number[]; data_identifier: string; stages: Array<Record<string, unknown>> }
interface V22Vector { kind: string; reference_vector?: number; fingerprint?: unknown; plans: ExpectedV22 }

const fixture = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'nnunet-planner-v22.json'), 'utf8')) as { vectors: V22Vector[] };
const reference = readVector<{ vectors: Array<{ fingerprint: unknown }> }>('planner_nnunet_v1.json').vectors;
const STAGE_FIELDS = ['batch_size', 'num_pool_per_axis', 'patch_size', 'median_patient_size_in_voxels', 'do_dummy_2D_data_aug',
  'pool_op_kernel_sizes', 'conv_kernel_sizes'] as const;

function close(actual: readonly number[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= 1e-12 * Math.abs(expected[i]!), `${what}[${i}]: ${a} vs ${expected[i]}`));
}

function fingerprintOf(v: V22Vector): unknown {
  return v.reference_vector === undefined ? v.fingerprint : reference[v.reference_vector]!.fingerprint;
}

test('ExperimentPlanner3D_v22 reproduces nnU-Net v1\'s plans (target spacing, transposition, stages) on 18 fingerprints', () => {
  assert.equal(fixture.vectors.length, 18);
  const planner = getPlanner('ExperimentPlanner3D_v22');
  for (const [i, v] of fixture.vectors.entries()) {
    const label = `#${i} ${v.kind}`;
    const props = parseDatasetProperties(fingerprintOf(v), label);
    close(v22TargetSpacing(props), v.plans.target_spacing, `${label} target spacing`);
    const plans = planner.plan(props);
    assert.equal(plans.data_identifier, v.plans.data_identifier, `${label} data identifier`);
    assert.deepEqual(plans.transpose_forward, v.plans.transpose_forward, `${label} transpose_forward`);
    const got = stages(plans);
    assert.equal(got.length, v.plans.stages.length, `${label} number of stages`);
    got.forEach((stage, s) => {
      const exp = v.plans.stages[s]!;
      for (const f of STAGE_FIELDS) assert.deepEqual(stage[f], exp[f], `${label} stage ${s} ${f}`);
      close(stage.current_spacing, exp['current_spacing'] as number[], `${label} stage ${s} current_spacing`);
    });
  }
});

test('v2.2 differs from v2.1 where the worst axis\'s 10th percentile is under 3x the others: it keeps 3x', () => {
  const clamped = fixture.vectors.filter((v) => v.kind.startsWith('aniso_'));
  assert.equal(clamped.length, 2);
  for (const v of clamped) {
    const props = parseDatasetProperties(fingerprintOf(v), v.kind);
    const v22 = v22TargetSpacing(props);
    const v21 = anisotropyAwareTargetSpacing(props);
    assert.ok(v22[0]! > v21[0]!, `${v.kind}: v2.2 ${v22[0]} is coarser than v2.1 ${v21[0]}`);
    assert.ok(Math.abs(v22[0]! - 3 * Math.max(v22[1]!, v22[2]!)) < 1e-12, `${v.kind}: exactly 3x the in-plane spacing`);
  }
});

test('ExperimentPlanner3D_v22 is registered with nnU-Net\'s identifiers (nnUNetPlansv2.2 / nnUNetData_plans_v2.2)', () => {
  const p = getPlanner('ExperimentPlanner3D_v22');
  assert.equal(p.kind, '3d');
  assert.equal(p.plansIdentifier, 'nnUNetPlansv2.2');
  assert.equal(p.dataIdentifier, 'nnUNetData_plans_v2.2');
});
