/**
 * nnU-Net v1's own pickles (written by nnU-Net 1.7.1's cropping, analysis, both v2.1 planners, preprocessing,
 * do_split and save_checkpoint: scripts/parity/make_pickle_fixtures.py) read as our JSON, and our writers' files
 * compared with nnU-Net's by Python (same containers, numpy dtypes and values; skipped without numpy).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BadInputError } from '../../activities/common/errors';
import {
  readCasePropertiesPkl, readDatasetPropertiesPkl, readModelPkl, readPlansPklJson, readSplitsPkl, writeCasePropertiesPkl,
  writeDatasetPropertiesPkl, writeModelPkl, writeSplitsPkl,
} from '../../activities/io/nnunet-pickles';
import { writePickle } from '../../activities/io/pickle';
import { parseDatasetProperties } from '../../activities/planning/fingerprint';
import { stages } from '../../activities/planning/plans';
import { plansFromNnunet, readPlansPkl, writePlansPkl } from '../../activities/planning/plans-pkl';
import { createDefaultSplits } from '../../activities/training/splits';
import { tmpDir } from './helpers';
import { FIXTURES, PY_COMPARE, pythonLacks, runPython } from './python-check';

const fixture = (name: string): string => path.join(FIXTURES, name);
const CASES = ['case_000', 'case_001', 'case_002', 'case_003', 'case_004', 'case_005'];

test('plans.pkl of the 3D planner reads as our Plans', () => {
  const plans = readPlansPkl(fixture('nnUNetPlansv2.1_plans_3D.pkl'));
  assert.equal(plans.plans_kind, '3d');
  assert.equal(plans.planner_name, 'ExperimentPlanner3D_v21');
  assert.equal(plans.unet_max_num_features, 320);
  assert.deepEqual(plans.modalities, { 0: 'MRI' });
  assert.deepEqual(plans.normalization_schemes, { 0: 'nonCT' });
  assert.deepEqual(plans.use_mask_for_norm, { 0: false });
  assert.deepEqual(plans.transpose_forward, [0, 1, 2]);
  assert.equal(plans.num_classes, 2);
  const [stage] = stages(plans);
  assert.ok(stage);
  assert.equal(stage.patch_size.length, 3);
  assert.ok(stage.patch_size.every(Number.isInteger));
  assert.equal(typeof stage.do_dummy_2D_data_aug, 'boolean');
  assert.ok(Array.isArray(stage.pool_op_kernel_sizes[0]));
  assert.ok(Math.abs(stage.current_spacing[0]! - 2.6) < 1e-6);
  assert.equal(plans.data_identifier, 'nnUNetData_plans_v2.1');
  parseDatasetProperties(plans.dataset_properties, 'plans.dataset_properties');
});

test('plans.pkl of the 2D planner reads as 2d plans', () => {
  const plans = readPlansPkl(fixture('nnUNetPlansv2.1_plans_2D.pkl'));
  assert.equal(plans.plans_kind, '2d');
  assert.equal(plans.planner_name, 'ExperimentPlanner2D_v21');
  assert.equal(plans.preprocessor_name, 'PreprocessorFor2D');
  assert.equal(stages(plans)[0]!.patch_size.length, 2);
});

test('splits_final.pkl from nnU-Net equals our default split of the same cases', () => {
  const splits = readSplitsPkl(fixture('splits_final.pkl'));
  assert.equal(splits.length, 5);
  assert.deepEqual(splits, createDefaultSplits(CASES));
});

test('dataset_properties.pkl and the case .pkl read as our JSON', () => {
  const props = parseDatasetProperties(readDatasetPropertiesPkl(fixture('dataset_properties.pkl')), 'dataset_properties.pkl');
  assert.deepEqual(props.all_classes, [1, 2]);
  assert.deepEqual(props.modalities, { 0: 'MRI' });
  assert.deepEqual(props.all_sizes[1], [13, 20, 24]);
  const c = readCasePropertiesPkl(fixture('case_000.pkl'));
  assert.deepEqual(c.original_size_of_raw_data, [12, 20, 24]);
  assert.deepEqual(c.crop_bbox, [[0, 12], [0, 20], [0, 24]]);
  assert.deepEqual(c.classes, [0, 1, 2]);
  assert.deepEqual(c.itk_origin, [1, -2, 3.5]);
  assert.deepEqual(c.use_nonzero_mask_for_norm, { 0: false });
  assert.equal(c.class_locations!['1']![0]!.length, 3);
  assert.deepEqual(readCasePropertiesPkl(fixture('case_000_cropped.pkl')).size_after_cropping, [12, 20, 24]);
});

test('the .model.pkl gives the trainer, its init args and the plans', () => {
  const info = readModelPkl(fixture('model_final_checkpoint.model.pkl'));
  assert.equal(info.name, 'nnUNetTrainerV2');
  assert.equal(info.className, "<class 'nnunet.training.network_training.nnUNetTrainerV2.nnUNetTrainerV2'>");
  assert.equal(info.init.length, 9);
  assert.equal(info.init[1], 0, 'fold');
  assert.ok(String(info.init[0]).endsWith('nnUNetPlansv2.1_plans_3D.pkl'));
  const plans = plansFromNnunet(info.plans, 'model_final_checkpoint.model.pkl');
  assert.deepEqual(plans, readPlansPkl(fixture('nnUNetPlansv2.1_plans_3D.pkl')), 'the trainer keeps the plans it was given');
});

test('wrong content is BadInput naming the file and the fix', () => {
  const dir = tmpDir('nnunet-pickles-');
  const notSplits = path.join(dir, 'splits_final.pkl');
  writePickle(notSplits, { train: [] });
  assert.throws(() => readSplitsPkl(notSplits), (e: Error) => e instanceof BadInputError && e.message.startsWith(`${notSplits}: not an nnU-Net splits file`));
  assert.throws(() => readPlansPklJson(notSplits), (e: Error) => e instanceof BadInputError && /not an nnU-Net plans file/.test(e.message));
  assert.throws(() => readModelPkl(fixture('splits_final.pkl')), (e: Error) => e instanceof BadInputError && /model info must be a dict/.test(e.message));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('our writers give the pickles nnU-Net wrote: same containers, numpy dtypes, integer keys and values', (t) => {
  const why = pythonLacks(['numpy']);
  if (why) return t.skip(why);
  const dir = tmpDir('nnunet-pickles-');
  const out = (name: string): string => path.join(dir, name);
  writePlansPkl(out('plans_3D.pkl'), readPlansPkl(fixture('nnUNetPlansv2.1_plans_3D.pkl')));
  writePlansPkl(out('plans_2D.pkl'), readPlansPkl(fixture('nnUNetPlansv2.1_plans_2D.pkl')));
  writeSplitsPkl(out('splits_final.pkl'), readSplitsPkl(fixture('splits_final.pkl')));
  writeDatasetPropertiesPkl(out('dataset_properties.pkl'), readDatasetPropertiesPkl(fixture('dataset_properties.pkl')));
  writeCasePropertiesPkl(out('case_000.pkl'), readCasePropertiesPkl(fixture('case_000.pkl')));
  const info = readModelPkl(fixture('model_final_checkpoint.model.pkl'));
  writeModelPkl(out('model.pkl'), { init: info.init, name: info.name, plans: info.plans });
  const result = runPython(`${PY_COMPARE}
import pickle, sys, os
fx, ours = sys.argv[1], sys.argv[2]
load = lambda d, n: pickle.load(open(os.path.join(d, n), 'rb'))
pairs = [('nnUNetPlansv2.1_plans_3D.pkl', 'plans_3D.pkl', False), ('nnUNetPlansv2.1_plans_2D.pkl', 'plans_2D.pkl', False),
         ('splits_final.pkl', 'splits_final.pkl', True), ('dataset_properties.pkl', 'dataset_properties.pkl', False),
         ('case_000.pkl', 'case_000.pkl', True), ('model_final_checkpoint.model.pkl', 'model.pkl', False)]
diffs = []
for theirs, mine, strict in pairs:
    diffs += [f'{mine}: {d}' for d in same(load(fx, theirs), load(ours, mine), ordered_strict=strict)]
p = load(ours, 'plans_3D.pkl')
assert 0 in p['plans_per_stage'] and p['plans_per_stage'][0]['patch_size'].dtype == np.int64
assert 'planner_name' not in p and 'plans_kind' not in p
m = load(ours, 'model.pkl')
assert isinstance(m['init'], tuple) and m['class'] == "<class 'nnunet.training.network_training.nnUNetTrainerV2.nnUNetTrainerV2'>"
print('\\n'.join(diffs) if diffs else 'OK')
`, [FIXTURES, dir]);
  assert.equal(result.trim(), 'OK');
  fs.rmSync(dir, { recursive: true, force: true });
});
