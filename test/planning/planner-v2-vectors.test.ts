/**
 * nnU-Net v2's four planners (ExperimentPlanner, nnUNetPlannerResEncM / L / XL) against the plans.json nnU-Net v2
 * itself wrote for 16 fingerprints (test/fixtures/vectors/planner_nnunet_v2.json): every key of every plans file,
 * in nnU-Net's key order, floats to 1e-9 relative, everything else exact; and each configuration's network
 * parameter count.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { planExperimentV2, type FingerprintV2 } from '../../activities/planning/v2/experiment';
import type { DatasetJsonV2 } from '../../activities/planning/v2/dataset-json';
import { networkParametersV2 } from '../../activities/planning/v2/parameters';
import { readVector } from '../helpers/vectors';

const PLANNERS = {
  ExperimentPlanner: 'nnUNetPlans',
  nnUNetPlannerResEncM: 'nnUNetResEncUNetMPlans',
  nnUNetPlannerResEncL: 'nnUNetResEncUNetLPlans',
  nnUNetPlannerResEncXL: 'nnUNetResEncUNetXLPlans',
} as const;

type Vector = {
  kind: string; dataset_name: string; dataset_json: DatasetJsonV2; fingerprint: FingerprintV2;
  network_params: Record<string, Record<string, { trainable_params: number }>>;
} & Record<string, unknown>;

const data = readVector<{ vectors: Vector[] }>('planner_nnunet_v2.json');

/** Paths where actual differs from expected (numbers: exact, or within 1e-9 relative for non-integers). */
export function differences(actual: unknown, expected: unknown, path = ''): string[] {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const close = actual === expected || (!Number.isInteger(expected) && Math.abs(actual - expected) <= 1e-9 * Math.abs(expected));
    return close ? [] : [`${path}: ${actual} != ${expected}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`];
    return expected.flatMap((e, i) => differences(actual[i], e, `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: not an object`];
    const ek = Object.keys(expected);
    const ak = Object.keys(actual);
    if (ek.join() !== ak.join()) return [`${path}: keys ${ak.join()} != ${ek.join()}`];
    return ek.flatMap((k) => differences((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return actual === expected ? [] : [`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`];
}

test('nnU-Net v2 planners reproduce all 16 × 4 reference plans.json files field by field', () => {
  assert.equal(data.vectors.length, 16);
  let matched = 0;
  const failures: string[] = [];
  data.vectors.forEach((v, i) => {
    for (const [planner, plansName] of Object.entries(PLANNERS)) {
      const ours = planExperimentV2(v.fingerprint, v.dataset_json, { planner, datasetName: v.dataset_name });
      const diff = differences(ours, v[plansName]);
      if (diff.length === 0) matched++;
      else failures.push(`#${i} ${v.kind} ${plansName}: ${diff.slice(0, 5).join('; ')}`);
    }
  });
  assert.deepEqual(failures, []);
  assert.equal(matched, 64);
});

test('network parameter counts equal nnU-Net v2 for every configuration of every plans file', () => {
  let counted = 0;
  const failures: string[] = [];
  data.vectors.forEach((v, i) => {
    for (const plansName of Object.values(PLANNERS)) {
      const expected = Object.fromEntries(Object.entries(v.network_params[plansName]!).map(([c, p]) => [c, p.trainable_params]));
      const ours = networkParametersV2(v[plansName] as never, v.dataset_json);
      for (const d of differences(ours, expected)) failures.push(`#${i} ${v.kind} ${plansName}${d}`);
      counted += Object.keys(expected).length;
    }
  });
  assert.deepEqual(failures, []);
  assert.equal(counted, 154);
});

test('the field comparison catches a changed field, a float off by more than 1e-9 and a reordered key', () => {
  const v = data.vectors[1]!;
  const expected = v['nnUNetPlans'] as { configurations: Record<string, Record<string, unknown>> };
  const changed = structuredClone(expected);
  changed.configurations['2d']!.batch_size = Number(changed.configurations['2d']!.batch_size) + 1;
  (changed.configurations['2d']!.spacing as number[])[0]! *= 1 + 1e-8;
  assert.equal(differences(changed, expected).length, 2);
  const { dataset_name, ...rest } = expected as Record<string, unknown>;
  assert.equal(differences({ ...rest, dataset_name }, expected).length, 1);
});
