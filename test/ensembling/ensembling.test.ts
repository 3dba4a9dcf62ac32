/**
 * Ensembling two known softmax folders (mean, argmax, geometry, postprocessing), and find-best on crafted
 * cross-validation results: the right single configuration or ensemble wins, missing configurations are skipped
 * or refused (--strict), and the real path (fold validation .npz -> ensembled_raw + summary.json) scores as expected.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Configuration, TaskPaths } from '../../activities/contract';
import { ensembleFolders } from '../../activities/ensembling/ensemble';
import { findBest } from '../../activities/ensembling/find-best';
import { findBestConfiguration } from '../../activities/ensembling/activity';
import type { ExportProperties } from '../../activities/inference/export';
import { segmentationFile, writeSegmentation, writeSoftmax } from '../../activities/inference/write-prediction';
import { readNifti } from '../../activities/io/nifti';
import { writePostprocessingJson } from '../../activities/postprocessing/rules';
import { ensembleFolder, foldFolder, modelFolder } from '../../activities/io/layout';

const SHAPE = [2, 3, 4];
const N = 24;
const props: ExportProperties = {
  original_size_of_raw_data: SHAPE, original_spacing: [3, 2, 1], size_after_cropping: SHAPE, crop_bbox: [[0, 2], [0, 3], [0, 4]],
  spacing_after_resampling: [3, 2, 1], itk_spacing: [1, 2, 3], itk_origin: [5, 6, 7], itk_direction: [1, 0, 0, 0, -1, 0, 0, 0, 1],
};
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ensembling-'));

/** Two-class softmax with foreground probability fg[i]. */
function softmax(fg: (i: number) => number): Float32Array {
  const d = new Float32Array(2 * N);
  for (let i = 0; i < N; i++) {
    d[N + i] = fg(i);
    d[i] = 1 - fg(i);
  }
  return d;
}

test('ensembleFolders averages the softmax of both folders, argmaxes, keeps the geometry, applies postprocessing', async () => {
  const dir = tmp();
  const [a, b, out, out2] = ['a', 'b', 'out', 'out2'].map((d) => path.join(dir, d));
  // a: confident foreground on voxels 0..7 (0.9), 0.3 elsewhere; b: 0.2 on 0..5, 0.45 elsewhere except voxel 23 (0.95)
  const fgA = (i: number) => (i < 8 ? 0.9 : 0.3);
  const fgB = (i: number) => (i < 6 ? 0.2 : i === 23 ? 0.95 : 0.45);
  for (const [d, fg] of [[a, fgA], [b, fgB]] as const) {
    fs.mkdirSync(d, { recursive: true });
    writeSoftmax(d, 'c1', { data: softmax(fg), numClasses: 2, shape: [2, 3, 4] }, props);
  }
  writeSoftmax(a, 'only_in_a', { data: softmax(fgA), numClasses: 2, shape: [2, 3, 4] }, props);
  const r = await ensembleFolders([a, b], out, { saveNpz: true });
  assert.deepEqual(r.cases, ['c1']);
  const seg = await readNifti(segmentationFile(out, 'c1'));
  const expected = Array.from({ length: N }, (_, i) => ((fgA(i) + fgB(i)) / 2 > 0.5 ? 1 : 0));
  assert.deepEqual(Array.from(seg.data), expected);
  assert.equal(expected[23], 1, 'an isolated voxel (0.3 + 0.95) / 2 > 0.5');
  assert.deepEqual(seg.geometry, { spacing: [1, 2, 3], origin: [5, 6, 7], direction: [1, 0, 0, 0, -1, 0, 0, 0, 1] });
  assert.ok(fs.existsSync(path.join(out, 'c1.npz')));

  const pp = path.join(dir, 'postprocessing.json');
  writePostprocessingJson(pp, {
    dc_per_class_pp_all: {}, dc_per_class_pp_per_class: {}, dc_per_class_raw: {}, for_which_classes: [[1]],
    min_valid_object_sizes: 'None', num_samples: 1, validation_final: 'f', validation_raw: 'r',
  });
  await ensembleFolders([a, b], out2, { postprocessingFile: pp });
  const post = await readNifti(segmentationFile(out2, 'c1'));
  assert.equal(post.data[23], 0, 'the isolated component is removed by the postprocessing rules');
  assert.equal(post.data[0], 1);
});

test('ensembleFolders refuses folders without common softmax files', async () => {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'a'));
  fs.mkdirSync(path.join(dir, 'b'));
  await assert.rejects(ensembleFolders([path.join(dir, 'a'), path.join(dir, 'b')], path.join(dir, 'o')), /no case has a softmax \.npz in every folder/);
});

function taskPaths(root: string, labels: Record<string, string> = { '0': 'background', '1': 'a', '2': 'b' }): TaskPaths {
  const rawDir = path.join(root, 'raw', 'Task099_Toy');
  fs.mkdirSync(rawDir, { recursive: true });
  fs.writeFileSync(path.join(rawDir, 'dataset.json'), JSON.stringify({
    name: 'Toy', modality: { '0': 'MR' }, labels, numTraining: 0, training: [], test: [],
  }));
  return { taskName: 'Task099_Toy', rawDir, croppedDir: path.join(root, 'cropped'), preprocessedDir: path.join(root, 'pp'), resultsDir: path.join(root, 'results') };
}

function writeSummaryJson(dir: string, dice: Record<string, number>): void {
  fs.mkdirSync(dir, { recursive: true });
  const mean = Object.fromEntries(Object.entries(dice).map(([l, d]) => [l, { Dice: d }]));
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ results: { all: [], mean } }));
}

const TR = 'nnUNetTrainerV2';
const PL = 'nnUNetPlansv2.1';

function craft(paths: TaskPaths, singles: Partial<Record<Configuration, Record<string, number>>>, ensembles: Array<[Configuration[], Record<string, number>]>): void {
  for (const [c, dice] of Object.entries(singles)) writeSummaryJson(path.join(modelFolder(paths, c as Configuration, TR, PL), 'cv_niftis_raw'), dice!);
  for (const [cs, dice] of ensembles) writeSummaryJson(path.join(ensembleFolder(paths, cs, TR, PL), 'ensembled_raw'), dice);
}

const input = (paths: TaskPaths, configurations: Configuration[], strict = false) =>
  ({ paths, trainer: TR, plansIdentifier: PL, configurations, folds: [0, 1, 2, 3, 4] as const, strict }) as Parameters<typeof findBest>[0];

test('find-best picks the ensemble when it scores highest and prints the ensemble commands', async () => {
  const paths = taskPaths(tmp());
  craft(paths, { '2d': { '0': 0.99, '1': 0.8, '2': 0.6 }, '3d_fullres': { '1': 0.85, '2': 0.65 } }, [[['2d', '3d_fullres'], { '1': 0.86, '2': 0.66 }]]);
  const r = await findBest(input(paths, ['2d', '3d_fullres']));
  assert.deepEqual(r.candidates.map((c) => [c.name, +c.meanForegroundDice.toFixed(3)]), [
    ['2d', 0.7], ['3d_fullres', 0.75], [`ensemble_2d__${TR}__${PL}--3d_fullres__${TR}__${PL}`, 0.76],
  ]);
  assert.deepEqual(r.winner.configurations, ['2d', '3d_fullres']);
  assert.deepEqual(r.winnerDicePerClass, { '1': 0.86, '2': 0.66 });
  assert.equal(r.predictCommands.length, 3);
  assert.match(r.predictCommands[0], /^nnUNet_predict -i FOLDER_WITH_TEST_CASES -o OUTPUT_FOLDER_MODEL1 -tr nnUNetTrainerV2 -ctr nnUNetTrainerV2CascadeFullRes -m 2d -p nnUNetPlansv2.1 -t Task099_Toy -z$/);
  assert.match(r.predictCommands[2], /^nnUNet_ensemble -f OUTPUT_FOLDER_MODEL1 OUTPUT_FOLDER_MODEL2 -o OUTPUT_FOLDER -pp .*ensembles\/Task099_Toy\/ensemble_2d__.*\/postprocessing\.json$/);
  assert.equal(fs.readFileSync(r.commandsFile, 'utf8'), r.predictCommands.join('\n') + '\n');
  assert.match(fs.readFileSync(r.summaryCsv, 'utf8'), /^model,class1,class2,average\n2d,0\.8000,0\.6000,0\.7000\n/, "nnU-Net's header and '%01.4f'");
});

test('find-best picks a single configuration, first on ties; skips missing ones unless strict', async () => {
  const paths = taskPaths(tmp());
  craft(paths, { '2d': { '1': 0.9 }, '3d_fullres': { '1': 0.9 } }, [[['2d', '3d_fullres'], { '1': 0.85 }]]);
  const r = await findBestConfiguration({ ...input(paths, ['2d', '3d_fullres', '3d_lowres']), strict: false });
  assert.equal(r.winner.name, '2d');
  assert.deepEqual(r.predictCommands, [`nnUNet_predict -i FOLDER_WITH_TEST_CASES -o OUTPUT_FOLDER_MODEL1 -tr ${TR} -ctr nnUNetTrainerV2CascadeFullRes -m 2d -p ${PL} -t Task099_Toy`]);
  assert.equal(r.candidates.length, 3);
  await assert.rejects(findBest(input(paths, ['2d', '3d_lowres'], true)), /3d_lowres: .*does not exist \(not trained\)/);
});

/** A label map on the props grid from a predicate. */
const labels = (f: (i: number) => number) => Uint8Array.from({ length: N }, (_, i) => f(i));

test('find-best ensembles the folds\' validation softmax into ensembled_raw and scores it against the references', async () => {
  const paths = taskPaths(tmp(), { '0': 'background', '1': 'organ' });
  const gt = path.join(paths.preprocessedDir, 'gt_segmentations');
  fs.mkdirSync(gt, { recursive: true });
  const truth = labels((i) => (i < 12 ? 1 : 0));
  await writeSegmentation(segmentationFile(gt, 'c1'), truth.slice(), props);
  // model A over-segments (fg 0.6 everywhere), model B under-segments (fg 0.8 on 0..11, 0.1 elsewhere)
  const models = { '2d': (i: number) => (i < 12 ? 0.6 : 0.55), '3d_fullres': (i: number) => (i < 12 ? 0.8 : 0.1) } as const;
  for (const [c, fg] of Object.entries(models)) {
    const dir = path.join(foldFolder(modelFolder(paths, c as Configuration, TR, PL), 0), 'validation_raw');
    fs.mkdirSync(dir, { recursive: true });
    writeSoftmax(dir, 'c1', { data: softmax(fg), numClasses: 2, shape: [2, 3, 4] }, props);
    await writeSegmentation(segmentationFile(dir, 'c1'), labels((i) => (fg(i) > 0.5 ? 1 : 0)), props);
  }
  const r = await findBest({ ...input(paths, ['2d', '3d_fullres']), folds: [0] });
  const byName = Object.fromEntries(r.candidates.map((c) => [c.configurations.join('+'), c.meanForegroundDice]));
  assert.equal(byName['2d'], (2 * 12) / (2 * 12 + 12), 'over-segmenting model: Dice 2/3');
  assert.equal(byName['3d_fullres'], 1);
  assert.equal(byName['2d+3d_fullres'], 1, 'mean fg (0.6+0.8)/2 and (0.55+0.1)/2 -> exact');
  assert.equal(r.winner.name, '3d_fullres', 'first of equal scores');
  assert.ok(fs.existsSync(path.join(ensembleFolder(paths, ['2d', '3d_fullres'], TR, PL), 'ensembled_raw', 'c1.nii.gz')));
  assert.ok(fs.existsSync(path.join(modelFolder(paths, '2d', TR, PL), 'cv_niftis_raw', 'summary.json')));

  // The same request again reuses both folders; a re-validated fold (here: 2d now perfect) rebuilds them.
  const cvSummary = path.join(modelFolder(paths, '2d', TR, PL), 'cv_niftis_raw', 'summary.json');
  const builtAt = fs.statSync(cvSummary).mtimeMs;
  await findBest({ ...input(paths, ['2d', '3d_fullres']), folds: [0] });
  assert.equal(fs.statSync(cvSummary).mtimeMs, builtAt, 'unchanged folds: cv_niftis_raw is reused');
  const dir2d = path.join(foldFolder(modelFolder(paths, '2d', TR, PL), 0), 'validation_raw');
  writeSoftmax(dir2d, 'c1', { data: softmax((i) => (i < 12 ? 0.9 : 0.05)), numClasses: 2, shape: [2, 3, 4] }, props);
  await writeSegmentation(segmentationFile(dir2d, 'c1'), truth.slice(), props);
  const again = await findBest({ ...input(paths, ['2d', '3d_fullres']), folds: [0] });
  const rescored = Object.fromEntries(again.candidates.map((c) => [c.configurations.join('+'), c.meanForegroundDice]));
  assert.equal(rescored['2d'], 1, 'the re-validated fold is scored, not the stale cv_niftis_raw');
  assert.equal(again.winner.name, '2d');

  // Fold folders cleaned up after consolidation: the pooled results stay usable (nothing to rebuild them from).
  fs.rmSync(dir2d, { recursive: true });
  const afterCleanup = await findBest({ ...input(paths, ['2d', '3d_fullres']), folds: [0] });
  assert.equal(afterCleanup.candidates.find((c) => c.name === '2d')!.meanForegroundDice, 1);
});

test('find-best and postprocess find each model under its own plans (2D nnUNetPlansv2.1, 3D nnUNetPlansv2.1_4GB)', async () => {
  const { postprocess } = await import('../../activities/postprocessing/activity');
  const PL4 = 'nnUNetPlansv2.1_4GB';
  const plans = { '2d': PL, '3d': PL4 };
  const paths = taskPaths(tmp(), { '0': 'background', '1': 'organ' });
  const gt = path.join(paths.preprocessedDir, 'gt_segmentations');
  fs.mkdirSync(gt, { recursive: true });
  await writeSegmentation(segmentationFile(gt, 'c1'), labels((i) => (i < 12 ? 1 : 0)), props);
  // 2d over-segments (Dice 2/3), 3d_fullres misses voxels 10 and 11 (Dice 10/11); their mean is exact
  const models = { '2d': (i: number) => (i < 12 ? 0.9 : 0.55), '3d_fullres': (i: number) => (i < 10 ? 0.8 : i < 12 ? 0.3 : 0.1) } as const;
  for (const [c, fg] of Object.entries(models)) {
    const dir = path.join(foldFolder(modelFolder(paths, c as Configuration, TR, plans), 0), 'validation_raw');
    fs.mkdirSync(dir, { recursive: true });
    writeSoftmax(dir, 'c1', { data: softmax(fg), numClasses: 2, shape: [2, 3, 4] }, props);
    await writeSegmentation(segmentationFile(dir, 'c1'), labels((i) => (fg(i) > 0.5 ? 1 : 0)), props);
  }
  assert.ok(fs.existsSync(path.join(paths.resultsDir, '3d_fullres', 'Task099_Toy', `${TR}__${PL4}`)));

  const oneId = await findBest({ ...input(paths, ['2d', '3d_fullres']), folds: [0] });
  assert.deepEqual(oneId.candidates.map((c) => c.name), ['2d'], 'one identifier for both kinds: 3d_fullres is looked for under the 2D plans');

  const r = await findBest({ ...input(paths, ['2d', '3d_fullres']), plansIdentifier: PL4, plansIdentifiers: plans, folds: [0] });
  const ensemble = `ensemble_2d__${TR}__${PL}--3d_fullres__${TR}__${PL4}`;
  assert.deepEqual(r.candidates.map((c) => [c.name, +c.meanForegroundDice.toFixed(4)]), [['2d', 0.6667], ['3d_fullres', 0.9091], [ensemble, 1]]);
  assert.equal(r.winner.name, ensemble);
  assert.match(r.predictCommands[0], / -m 2d -p nnUNetPlansv2\.1 /);
  assert.match(r.predictCommands[1], / -m 3d_fullres -p nnUNetPlansv2\.1_4GB /);
  assert.ok(r.predictCommands[2].includes(`-pp ${path.join(paths.resultsDir, 'ensembles', 'Task099_Toy', ensemble, 'postprocessing.json')}`));

  const pp = await postprocess({ paths, winner: r.winner, trainer: TR, plansIdentifier: PL4, plansIdentifiers: plans, folds: [0] });
  assert.equal(pp.postprocessingFile, path.join(paths.resultsDir, 'ensembles', 'Task099_Toy', ensemble, 'postprocessing.json'));
  assert.equal(pp.diceBefore, 1);
});
