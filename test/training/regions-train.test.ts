/**
 * Region-based training end to end on the demo's --regions task (organ = labels {1, 2}, lesion = {2}) and its
 * --ignore-label variant, through runTrainingFold with a tiny budget: plans with one head per region, a finite
 * Dice+BCE loss, validation predictions painted by regions_class_order and a region-wise summary.json.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKPOINT_FILES, readCheckpoint } from '../../activities/training/checkpoint';
import { runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { readPlansFile } from '../../activities/planning/plans-file';
import { readLabelVolume } from '../../activities/evaluation/label-io';
import { DEMO_IGNORE_LABEL } from '../../activities/io/demo';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let regions: TinyTask;
let ignore: TinyTask;
before(async () => {
  regions = await tinyTrainingTask({ regions: true });
  ignore = await tinyTrainingTask({ regions: true, ignoreLabel: true });
});
after(() => { regions?.cleanup(); ignore?.cleanup(); });

const input = (task: TinyTask, trainer: string): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer,
  epochs: 1, iterationsPerEpoch: 2, runtime: { seed: 7, validationIterations: 1, numWorkers: 1 },
});

async function trainAndValidate(task: TinyTask, trainer: string) {
  const r = await runTrainingFold(input(task, trainer));
  assert.equal(r.status, 'done');
  if (r.status !== 'done') throw new Error('not done');
  const ckpt = readCheckpoint(path.join(r.foldDir, CHECKPOINT_FILES.final));
  for (const l of ckpt.meta.history.trainLosses) assert.ok(Number.isFinite(l), `${trainer}: loss ${l}`);
  const validation = path.join(r.foldDir, 'validation_raw');
  const summary = JSON.parse(fs.readFileSync(path.join(validation, 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null'));
  return { r, ckpt, validation, summary };
}

test('a region dataset plans one class per region and keeps its regions in the plans', () => {
  const plans = readPlansFile(regions.plansFile);
  assert.equal(plans.num_classes, 2);
  assert.deepEqual(plans.label_spec?.regions_class_order, [1, 2]);
  assert.deepEqual(plans.all_classes, [1, 2]);
  assert.equal(readPlansFile(ignore.plansFile).label_spec?.labels.ignore, DEMO_IGNORE_LABEL);
});

test('nnUNetTrainerV2 trains regions: two sigmoid heads, region-wise summary.json, label maps painted 0/1/2', async () => {
  const { ckpt, validation, summary } = await trainAndValidate(regions, 'nnUNetTrainerV2');
  const head = ckpt.weightNames.indexOf('seg_outputs.0.weight');
  assert.ok(head >= 0);
  assert.equal(ckpt.weightShapes[head]!.at(-1), 2, 'one output channel per region, no background head');
  assert.deepEqual(Object.keys(summary.mean).sort(), ['(1, 2)', '(2,)']);
  for (const c of summary.metric_per_case) for (const m of Object.values(c.metrics) as Array<{ TP: number }>) assert.ok(Number.isFinite(m.TP));
  const seg = fs.readdirSync(validation).find((f) => f.endsWith('.nii.gz'))!;
  const labels = await readLabelVolume(path.join(validation, seg));
  for (const v of new Set(labels.data)) assert.ok([0, 1, 2].includes(v), `label ${v}`);
});

test('nnUNetTrainerV2BraTSRegions with the ignore label: ignored voxels count in no Dice', async () => {
  const { summary } = await trainAndValidate(ignore, 'nnUNetTrainerV2BraTSRegions');
  const c = summary.metric_per_case[0];
  const ref = await readLabelVolume(c.reference_file);
  const annotated = Array.from(ref.data).filter((v) => v !== DEMO_IGNORE_LABEL).length;
  const m = c.metrics['(1, 2)'];
  assert.equal(m.TP + m.FP + m.FN + m.TN, annotated);
  assert.ok(annotated < ref.data.length);
});

test('softmax labels with the ignore label: plans keep background + 2 classes, validation excludes ignored voxels', async () => {
  const task = await tinyTrainingTask({ ignoreLabel: true });
  try {
    const plans = readPlansFile(task.plansFile);
    assert.equal(plans.num_classes, 2);
    assert.deepEqual(plans.all_classes, [1, 2]);
    const { ckpt, summary } = await trainAndValidate(task, 'nnUNetTrainerV2');
    assert.equal(ckpt.weightShapes[ckpt.weightNames.indexOf('seg_outputs.0.weight')]!.at(-1), 3);
    assert.deepEqual(Object.keys(summary.mean).sort(), ['1', '2']);
  } finally {
    task.cleanup();
  }
});

test('nnUNetTrainerV2BraTSRegions refuses a dataset without regions', async () => {
  const plain = await tinyTrainingTask();
  try {
    await assert.rejects(runTrainingFold({ ...input(plain, 'nnUNetTrainerV2BraTSRegions'), fold: 1 }), /regions_class_order/);
  } finally {
    plain.cleanup();
  }
});
