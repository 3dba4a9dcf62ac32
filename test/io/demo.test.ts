import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { demoCaseSpecs, writeDemoDataset, type DemoOptions } from '../../activities/io/demo';
import { readNiftiSync } from '../../activities/io/nifti';
import { verifyDatasetFolder } from '../../activities/io/verify';
import { distinctValues, valueRange } from '../../activities/io/volume';
import { DEFAULT_PLANNER_3D, getPlanner } from '../../activities/planning/registry';
import { hasLowresStage } from '../../activities/planning/plans';
import { tmpDir } from './helpers';

function listAll(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

test('demo task: valid, two modalities in realistic ranges, three labels, anisotropic, deterministic', async () => {
  const opts: DemoOptions = { taskId: 901, cases: 3, testCases: 1, seed: 5 };
  const a = await writeDemoDataset(tmpDir(), opts);
  assert.equal(a.taskName, 'Task901_Demo');
  const report = await verifyDatasetFolder(a.outDir);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.summary?.modalities, ['CT', 'MRI']);
  const shapes = new Set<string>();
  for (const id of ['demo_000', 'demo_001', 'demo_002']) {
    const ct = readNiftiSync(path.join(a.outDir, 'imagesTr', `${id}_0000.nii.gz`));
    const mr = readNiftiSync(path.join(a.outDir, 'imagesTr', `${id}_0001.nii.gz`));
    const label = readNiftiSync(path.join(a.outDir, 'labelsTr', `${id}.nii.gz`));
    assert.equal(ct.dtype, 'int16');
    assert.equal(mr.dtype, 'float32');
    assert.equal(label.dtype, 'uint8');
    const r = valueRange(ct.data);
    assert.ok(r.min < -950 && r.max > 650 && r.max < 1000, `CT range ${r.min}..${r.max}`);
    assert.ok(valueRange(mr.data).min >= 0);
    assert.deepEqual(distinctValues(label.data), [0, 1, 2]);
    assert.ok(ct.geometry.spacing[2] >= 2.5 && ct.geometry.spacing[0] === 1, 'z spacing 2.5-3.5 mm, in-plane 1 mm');
    shapes.add(ct.shape.join('x'));
  }
  assert.ok(shapes.size > 1, 'case shapes vary');
  const b = await writeDemoDataset(tmpDir(), opts);
  const files = listAll(a.outDir);
  assert.deepEqual(files, listAll(b.outDir));
  for (const f of files) assert.ok(fs.readFileSync(path.join(a.outDir, f)).equals(fs.readFileSync(path.join(b.outDir, f))), `${f} is byte-identical`);
  const c = await writeDemoDataset(tmpDir(), { ...opts, seed: 6 });
  assert.ok(!fs.readFileSync(path.join(c.outDir, 'labelsTr', 'demo_000.nii.gz')).equals(fs.readFileSync(path.join(a.outDir, 'labelsTr', 'demo_000.nii.gz'))));
});

/** The planner's view of a demo (no cropping happens: CT air is -1000, never 0). */
function plan3d(opts: DemoOptions) {
  const train = demoCaseSpecs(opts).filter((s) => s.split === 'train');
  return getPlanner(DEFAULT_PLANNER_3D).plan({
    all_spacings: train.map((s) => s.spacing), all_sizes: train.map((s) => s.shape), modalities: { 0: 'CT', 1: 'MRI' },
    all_classes: [1, 2], size_reductions: Object.fromEntries(train.map((s) => [s.id, 1])), intensityproperties: null,
  });
}

test('nnU-Net v1 planning: the default demo has no lowres stage, --large has one (cascade)', () => {
  assert.equal(hasLowresStage(plan3d({ taskId: 901 })), false);
  for (const seed of [0, 1, 2]) assert.equal(hasLowresStage(plan3d({ taskId: 902, large: true, seed })), true, `seed ${seed}`);
});
