import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { candidateDiceOfCase, decidePostprocessing, determinePostprocessing, type CandidateDice } from '../../activities/postprocessing/determine';
import { applyPostprocessing, parseMinValidObjectSizes, readPostprocessingRules, writePostprocessingJson } from '../../activities/postprocessing/rules';
import { readLabelVolume } from '../../activities/evaluation/label-io';
import { readSummary } from '../../activities/evaluation/summary';
import { writeNiftiSync } from '../../activities/io/nifti';
import { defaultGeometry } from '../../activities/io/geometry';
import type { Shape3 } from '../../activities/volume/connected-components';

const SHAPE: Shape3 = [4, 12, 12];

/** Paints label `v` into the box [z0,z1) x [y0,y1) x [x0,x1). */
function box(seg: Uint8Array, v: number, [z0, z1]: [number, number], [y0, y1]: [number, number], [x0, x1]: [number, number]): void {
  for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) seg[(z * SHAPE[1] + y) * SHAPE[2] + x] = v;
}

/**
 * Scenario: class 1 has a big true blob A and a small true blob B; class 2 touches A. The prediction equals the
 * reference plus a spurious isolated class-2 voxel cluster.
 */
function scenario(): { ref: Uint8Array; pred: Uint8Array } {
  const ref = new Uint8Array(SHAPE[0] * SHAPE[1] * SHAPE[2]);
  box(ref, 1, [0, 4], [0, 6], [0, 6]); // A: 144 voxels
  box(ref, 2, [0, 4], [0, 6], [6, 8]); // class 2 touching A
  box(ref, 1, [0, 2], [10, 12], [10, 12]); // B: 8 voxels, separate
  const pred = ref.slice();
  box(pred, 2, [3, 4], [9, 10], [0, 2]); // spurious class 2: 2 voxels
  return { ref, pred };
}

const table = (o: Record<string, number>): Record<string, number> => o;

test('decision: all-foreground accepted only if one class improves and none gets worse', () => {
  const base: CandidateDice = {
    raw: table({ 1: 0.8, 2: 0.6 }),
    allForeground: table({ 1: 0.8, 2: 0.7 }),
    perClassFromRaw: table({ 1: 0.9, 2: 0.6 }),
    perClassFromAllForeground: table({ 1: 0.85, 2: 0.7 }),
  };
  const d = decidePostprocessing([1, 2], base);
  assert.equal(d.removeAllButLargestForeground, true);
  assert.deepEqual(d.forWhichClasses, [[1, 2], 1]); // class 1 compared with allForeground (0.85 > 0.8), class 2 equal → no
  assert.deepEqual(d.dcPerClassPpPerClass, { 1: 0.85, 2: 0.7 });
  const worse = decidePostprocessing([1, 2], { ...base, allForeground: table({ 1: 0.79, 2: 0.9 }) });
  assert.equal(worse.removeAllButLargestForeground, false);
  assert.deepEqual(worse.forWhichClasses, [1]); // per class then starts from raw: 0.9 > 0.8
  const none = decidePostprocessing([1, 2], { ...base, allForeground: base.raw, perClassFromRaw: base.raw });
  assert.deepEqual(none.forWhichClasses, []);
});

test('decision: one class skips step 2; NaN never counts as better or worse', () => {
  const d = decidePostprocessing([1], { raw: { 1: 0.5 }, allForeground: { 1: 0.6 }, perClassFromRaw: { 1: 0.9 }, perClassFromAllForeground: { 1: 0.9 } });
  assert.deepEqual(d.forWhichClasses, [[1]]);
  assert.deepEqual(d.dcPerClassPpPerClass, {});
  const n = decidePostprocessing([1, 2], {
    raw: { 1: NaN, 2: 0.5 }, allForeground: { 1: 0.9, 2: NaN }, perClassFromRaw: { 1: 0.2, 2: 0.4 }, perClassFromAllForeground: { 1: 1, 2: 1 },
  });
  assert.deepEqual(n.forWhichClasses, []);
});

test('candidates on a crafted case: spurious blob removal helps class 2, removing true blob B hurts class 1', () => {
  const { ref, pred } = scenario();
  const before = pred.slice();
  const c = candidateDiceOfCase(pred, ref, SHAPE, [1, 2]);
  assert.deepEqual(pred, before, 'the prediction is not modified');
  assert.equal(c.raw['1'], 1);
  assert.ok(c.raw['2'] < 1);
  assert.ok(c.allForeground['1'] < 1, 'all-foreground removes the true small blob B');
  assert.equal(c.allForeground['2'], 1);
  assert.ok(c.perClassFromRaw['1'] < 1);
  assert.equal(c.perClassFromRaw['2'], 1);
});

function writeCase(dir: string, name: string, data: Uint8Array): void {
  fs.mkdirSync(dir, { recursive: true });
  writeNiftiSync(path.join(dir, name), { data, dtype: 'uint8', shape: [...SHAPE], geometry: defaultGeometry([0.5, 0.5, 2]) });
}

test('determinePostprocessing on folders: keeps only the rule that helps, writes nnU-Net files', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-pp-'));
  const gt = path.join(base, 'gt_niftis');
  const raw = path.join(base, 'cv_niftis_raw');
  const { ref, pred } = scenario();
  writeCase(gt, 'case_000.nii.gz', ref);
  writeCase(raw, 'case_000.nii.gz', pred);
  // a second case where everything is right already
  const ref2 = new Uint8Array(ref.length);
  box(ref2, 1, [1, 3], [2, 8], [2, 8]);
  box(ref2, 2, [1, 3], [8, 10], [2, 8]);
  writeCase(gt, 'case_001.nii.gz', ref2);
  writeCase(raw, 'case_001.nii.gz', ref2);

  const r = await determinePostprocessing({ base, gtDir: gt, rawSubfolder: 'cv_niftis_raw', finalSubfolder: 'cv_niftis_postprocessed', classes: [1, 2] });
  assert.deepEqual(r.decision.forWhichClasses, [2]);
  assert.equal(r.decision.removeAllButLargestForeground, false);
  assert.ok(r.diceAfter > r.diceBefore);
  const text = fs.readFileSync(path.join(base, 'postprocessing.json'), 'utf8');
  const json = JSON.parse(text);
  assert.deepEqual(Object.keys(json), ['dc_per_class_pp_all', 'dc_per_class_pp_per_class', 'dc_per_class_raw', 'for_which_classes',
    'min_valid_object_sizes', 'num_samples', 'validation_final', 'validation_raw']);
  assert.deepEqual(json.for_which_classes, [2]);
  assert.equal(json.min_valid_object_sizes, 'None');
  assert.equal(json.num_samples, 2);
  assert.equal(json.validation_raw, 'cv_niftis_raw');
  assert.equal(json.dc_per_class_raw['1'], 1);
  // final folder: rules applied, geometry kept, summary written
  const finalDir = path.join(base, 'cv_niftis_postprocessed');
  const out = await readLabelVolume(path.join(finalDir, 'case_000.nii.gz'));
  assert.deepEqual(out.data, ref);
  assert.deepEqual(out.geometry.spacing, [0.5, 0.5, 2]);
  const s = readSummary(path.join(finalDir, 'summary.json'));
  assert.equal(s.results.mean['2'].Dice, 1);
  assert.equal(s.results.mean['1'].Dice, 1);
  // the rules file round-trips and applies the same way
  const rules = readPostprocessingRules(path.join(base, 'postprocessing.json'));
  const again = pred.slice();
  applyPostprocessing(again, SHAPE, rules);
  assert.deepEqual(again, ref);
  // without explicit classes (and no raw summary.json) the foreground labels found in the files are used
  const found = await determinePostprocessing({ base, gtDir: gt, rawSubfolder: 'cv_niftis_raw', finalSubfolder: 'cv_niftis_postprocessed' });
  assert.deepEqual(Object.keys(found.json.dc_per_class_raw), ['1', '2']);
  assert.deepEqual(found.decision.forWhichClasses, [2]);
});

test('rules files: nnU-Net min_valid_object_sizes literal, bad for_which_classes refused', () => {
  const sizes = parseMinValidObjectSizes('{(1, 2): 120.5, 2: 35}')!;
  assert.equal(sizes.get('1,2'), 120.5);
  assert.equal(sizes.get('2'), 35);
  assert.equal(parseMinValidObjectSizes('None'), undefined);
  // with a minimum size, components at least that large survive
  const { pred } = scenario();
  const kept = pred.slice();
  applyPostprocessing(kept, SHAPE, { forWhichClasses: [2], minValidObjectSizes: new Map([['2', 1]]) }, 1);
  assert.deepEqual(kept, pred, 'spurious blob of 2 voxels (2 mm³) is not below 1 mm³');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-pp-'));
  const file = path.join(dir, 'postprocessing.json');
  fs.writeFileSync(file, '{"for_which_classes": [[0, 1]], "min_valid_object_sizes": "None"}');
  assert.throws(() => readPostprocessingRules(file), /background/);
  writePostprocessingJson(file, {
    dc_per_class_pp_all: { 1: NaN }, dc_per_class_pp_per_class: {}, dc_per_class_raw: { 1: 0.5 }, for_which_classes: [[1]],
    min_valid_object_sizes: 'None', num_samples: 1, validation_final: 'f', validation_raw: 'r',
  });
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).dc_per_class_pp_all['1'], null);
  assert.deepEqual(readPostprocessingRules(file).forWhichClasses, [[1]]);
});

test('postprocess activity: consolidates folds, decides, writes the model folder files; a rerun reuses them', async () => {
  const { postprocess } = await import('../../activities/postprocessing/activity');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-ppact-'));
  const rawDir = path.join(root, 'raw', 'Task999_Toy');
  fs.mkdirSync(rawDir, { recursive: true });
  fs.writeFileSync(path.join(rawDir, 'dataset.json'), JSON.stringify({ name: 'Toy', modality: { 0: 'MRI' }, labels: { 0: 'background', 1: 'a', 2: 'b' }, training: [] }));
  const paths = { taskName: 'Task999_Toy', rawDir, croppedDir: path.join(root, 'cropped'), preprocessedDir: path.join(root, 'pre'), resultsDir: path.join(root, 'results', 'nnUNet') };
  const model = path.join(paths.resultsDir, '3d_fullres', 'Task999_Toy', 'nnUNetTrainerV2__nnUNetPlansv2.1');
  const { ref, pred } = scenario();
  writeCase(path.join(model, 'gt_niftis'), 'case_000.nii.gz', ref);
  writeCase(path.join(model, 'fold_0', 'validation_raw'), 'case_000.nii.gz', pred);
  writeCase(path.join(model, 'gt_niftis'), 'case_001.nii.gz', ref);
  writeCase(path.join(model, 'fold_1', 'validation_raw'), 'case_001.nii.gz', ref);
  const input = {
    paths, trainer: 'nnUNetTrainerV2', plansIdentifier: 'nnUNetPlansv2.1', folds: [0, 1] as Array<0 | 1>,
    winner: { name: '3d_fullres', configurations: ['3d_fullres' as const], meanForegroundDice: 0.9 },
  };
  const out = await postprocess(input);
  assert.equal(out.postprocessingFile, path.join(model, 'postprocessing.json'));
  assert.deepEqual(out.forClasses, [2]);
  assert.equal(out.removeAllButLargestForeground, false);
  assert.ok(out.diceAfter > out.diceBefore);
  assert.deepEqual(fs.readdirSync(path.join(model, 'cv_niftis_raw')).sort(), ['case_000.nii.gz', 'case_001.nii.gz', 'summary.json']);
  assert.ok(fs.existsSync(path.join(model, 'cv_niftis_postprocessed', 'summary.json')));
  const stamp = fs.statSync(path.join(model, 'postprocessing.json')).mtimeMs;
  const again = await postprocess(input);
  assert.deepEqual(again, out);
  assert.equal(fs.statSync(path.join(model, 'postprocessing.json')).mtimeMs, stamp, 'second run reuses the result');
});
