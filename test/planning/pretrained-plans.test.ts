/**
 * -overwrite_plans (nnU-Net v1's ExperimentPlanner3D_v21_Pretrained): the source's 3D plans are adopted whole
 * (architecture, spacings, normalization and its CT statistics), this task keeps its num_classes, cases and classes;
 * pickled nnU-Net plans and our JSON both read; 2D plans and another modality count are refused naming the file.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { plan } from '../../activities/planning/activity';
import { readPlansFile } from '../../activities/planning/plans-file';
import { writePlansPkl } from '../../activities/planning/plans-pkl';
import { planPretrained, pretrainedPlansIdentifier } from '../../activities/planning/pretrained-plans';
import { BadInputError } from '../../activities/common/errors';

function fingerprint(prefix: string, n: number, spacing: number[], size: number[], classes: number[], modalities: Record<string, string>) {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}_${String(i).padStart(3, '0')}`);
  const ct = { median: 90, mean: 100, sd: 50, mn: -100, mx: 400, percentile_00_5: -50, percentile_99_5: 300 };
  return {
    all_spacings: ids.map(() => spacing), all_sizes: ids.map(() => size), modalities, all_classes: classes,
    size_reductions: Object.fromEntries(ids.map((id) => [id, 0.9])),
    intensityproperties: Object.values(modalities).includes('CT') ? Object.fromEntries(Object.keys(modalities).map((k) => [k, prefix === 'src' ? ct : { ...ct, mean: 7 }])) : null,
  };
}

async function plannedTask(root: string, name: string, fp: object) {
  const pp = path.join(root, name);
  fs.mkdirSync(pp, { recursive: true });
  const paths = { taskName: name, rawDir: '', croppedDir: path.join(root, 'cropped', name), preprocessedDir: pp, resultsDir: '' };
  const fingerprintFile = path.join(pp, 'dataset_properties.json');
  fs.writeFileSync(fingerprintFile, JSON.stringify(fp));
  const out = await plan({ paths, fingerprintFile, planner: 'ExperimentPlanner3D_v21' });
  return { paths, fingerprintFile, plans3d: out.plansFiles['3d']! };
}

test('the source plans (pickle or JSON) are adopted with this task\'s classes and cases, under nnUNetPlans_pretrained_ID', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-pretrained-plans-'));
  try {
    const src = await plannedTask(root, 'Task010_Src', fingerprint('src', 40, [2.5, 0.8, 0.8], [120, 256, 256], [1, 2, 3], { '0': 'CT' }));
    const dst = await plannedTask(root, 'Task011_Dst', fingerprint('dst', 6, [1, 1, 1], [60, 80, 80], [1], { '0': 'CT' }));
    const source = readPlansFile(src.plans3d);
    const pkl = path.join(root, 'source_plans_3D.pkl');
    writePlansPkl(pkl, source);
    for (const sourceFile of [pkl, src.plans3d]) {
      const out = planPretrained({ paths: dst.paths, fingerprintFile: dst.fingerprintFile, sourceFile, identifier: 'LiTS' });
      assert.equal(out.plansIdentifier, pretrainedPlansIdentifier('LiTS'));
      assert.equal(out.file, path.join(dst.paths.preprocessedDir, 'nnUNetPlans_pretrained_LiTS_plans_3D.json'));
      assert.deepEqual(out.plans.plans_per_stage, source.plans_per_stage, 'architecture and target spacings are the source\'s');
      assert.deepEqual(out.plans.normalization_schemes, source.normalization_schemes);
      assert.deepEqual(out.plans.transpose_forward, source.transpose_forward);
      assert.deepEqual(out.plans.dataset_properties.intensityproperties, source.dataset_properties.intensityproperties, 'CT statistics of the source, as nnU-Net');
      assert.equal(out.plans.num_classes, 1, 'num_classes is this task\'s');
      assert.deepEqual(out.plans.all_classes, [1]);
      assert.deepEqual(Object.keys(out.plans.dataset_properties.size_reductions), Array.from({ length: 6 }, (_, i) => `dst_00${i}`), 'this task\'s cases');
      assert.equal(out.plans.data_identifier, 'nnUNetData_pretrained_LiTS');
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('2D plans, another number of modalities or a path-like identifier are refused', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-pretrained-plans-'));
  try {
    const two = await plannedTask(root, 'Task012_Two', fingerprint('two', 6, [1, 1, 1], [60, 80, 80], [1], { '0': 'T1', '1': 'T2' }));
    const dst = await plannedTask(root, 'Task013_One', fingerprint('one', 6, [1, 1, 1], [60, 80, 80], [1], { '0': 'MRI' }));
    const plans2d = path.join(dst.paths.preprocessedDir, 'nnUNetPlansv2.1_plans_2D.json');
    await plan({ paths: dst.paths, fingerprintFile: dst.fingerprintFile });
    const ask = (sourceFile: string, identifier = 'X') => () => planPretrained({ paths: dst.paths, fingerprintFile: dst.fingerprintFile, sourceFile, identifier });
    assert.throws(ask(two.plans3d), (e: unknown) => e instanceof BadInputError && e.message.startsWith(two.plans3d) && /2 input modalities, this task has 1/.test(e.message));
    assert.throws(ask(plans2d), (e: unknown) => e instanceof BadInputError && /2D plans/.test(e.message));
    assert.throws(ask(path.join(root, 'missing.pkl')), /no such plans file/);
    assert.throws(ask(dst.plans3d, '../x'), /overwrite_plans_identifier/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
