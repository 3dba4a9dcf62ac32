/**
 * v1's find-best on a region dataset (dataset.json regions organ = [1, 2], lesion = 2, regions_class_order
 * [1, 2]) from crafted fold validations: candidates ranked by v2's region foreground mean, an ensemble of region
 * models averaging their sigmoid probabilities before regions_class_order, and postprocessing decided per region
 * (an isolated false-positive organ voxel removed by keeping the largest foreground component).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Configuration, TaskPaths } from '../../activities/contract';
import { findBest } from '../../activities/ensembling/find-best';
import type { ExportProperties } from '../../activities/inference/export';
import { segmentationFile, writeSegmentation, writeSoftmax } from '../../activities/inference/write-prediction';
import { readNifti } from '../../activities/io/nifti';
import { ensembleFolder, foldFolder, modelFolder } from '../../activities/io/layout';
import { readPostprocessingRules } from '../../activities/postprocessing/rules';

const SHAPE = [2, 3, 4];
const N = 24;
const props: ExportProperties = {
  original_size_of_raw_data: SHAPE, original_spacing: [3, 2, 1], size_after_cropping: SHAPE, crop_bbox: [[0, 2], [0, 3], [0, 4]],
  spacing_after_resampling: [3, 2, 1], itk_spacing: [1, 2, 3], itk_origin: [5, 6, 7], itk_direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
};
const regionProps = { ...props, regions_class_order: [1, 2] };
const TR = 'nnUNetTrainerV2';
const PL = 'nnUNetPlansv2.1';

function regionTask(root: string): TaskPaths {
  const rawDir = path.join(root, 'raw', 'Task098_Regions');
  fs.mkdirSync(path.join(rawDir, 'imagesTr'), { recursive: true });
  fs.writeFileSync(path.join(rawDir, 'dataset.json'), JSON.stringify({
    name: 'Regions', channel_names: { 0: 'MR' }, labels: { background: 0, organ: [1, 2], lesion: 2 }, regions_class_order: [1, 2],
    numTraining: 0, file_ending: '.nii.gz',
  }));
  return { taskName: 'Task098_Regions', rawDir, croppedDir: path.join(root, 'cropped'), preprocessedDir: path.join(root, 'pp'), resultsDir: path.join(root, 'results') };
}

/** Sigmoid probabilities of the two regions (organ, lesion), class first. */
const sigmoids = (organ: (i: number) => number, lesion: (i: number) => number) =>
  Float32Array.from({ length: 2 * N }, (_, j) => (j < N ? organ(j) : lesion(j - N)));

// truth: organ on voxels 0..5 (the first two rows of slice 0), its lesion on 0..1
const truth = Uint8Array.from({ length: N }, (_, i) => (i < 2 ? 2 : i < 6 ? 1 : 0));
const lesion = (i: number) => (i < 2 ? 0.9 : 0.1);
const MODELS: Partial<Record<Configuration, (i: number) => number>> = {
  // over-segments the organ by one isolated voxel (23, not 6-connected to the organ)
  '2d': (i) => (i < 6 ? 0.9 : i === 23 ? 0.8 : 0.1),
  // under-segments it: 0.3 on voxels 4..5
  '3d_fullres': (i) => (i < 4 ? 0.7 : i < 6 ? 0.3 : 0.1),
};

test('find-best on regions: region Dice ranks, ensembles threshold averaged sigmoids, postprocessing per region', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'find-best-regions-'));
  try {
    const paths = regionTask(root);
    const gt = path.join(paths.preprocessedDir, 'gt_segmentations');
    fs.mkdirSync(gt, { recursive: true });
    await writeSegmentation(segmentationFile(gt, 'c1'), truth.slice(), props);
    for (const [c, organ] of Object.entries(MODELS)) {
      const dir = path.join(foldFolder(modelFolder(paths, c as Configuration, TR, PL), 0), 'validation_raw');
      fs.mkdirSync(dir, { recursive: true });
      writeSoftmax(dir, 'c1', { data: sigmoids(organ, lesion), numClasses: 2, shape: [2, 3, 4] }, regionProps);
      await writeSegmentation(segmentationFile(dir, 'c1'), Uint8Array.from({ length: N }, (_, i) => (lesion(i) > 0.5 ? 2 : organ(i) > 0.5 ? 1 : 0)), props);
    }
    const r = await findBest({ paths, trainer: TR, plansIdentifier: PL, configurations: ['2d', '3d_fullres'], folds: [0] });
    const byName = Object.fromEntries(r.candidates.map((c) => [c.configurations.join('+'), c]));
    assert.deepEqual(byName['2d']!.dicePerClass, { '(1, 2)': 12 / 13, '2': 1 });
    assert.equal(byName['2d']!.meanForegroundDice, (12 / 13 + 1) / 2);
    assert.equal(byName['3d_fullres']!.meanForegroundDice, (0.8 + 1) / 2, 'organ 4 of 6 voxels: Dice 0.8');
    assert.equal(byName['2d+3d_fullres']!.meanForegroundDice, 1, 'averaged organ sigmoid: (0.9 + 0.3) / 2 > 0.5 on 4..5, (0.8 + 0.1) / 2 on 23');
    assert.equal(r.winner.name, path.basename(ensembleFolder(paths, ['2d', '3d_fullres'], TR, PL)));
    const ensembled = await readNifti(segmentationFile(path.join(ensembleFolder(paths, ['2d', '3d_fullres'], TR, PL), 'ensembled_raw'), 'c1'));
    assert.deepEqual(Array.from(ensembled.data as ArrayLike<number>), Array.from(truth), 'painted in regions_class_order');
    assert.equal(fs.readFileSync(r.summaryCsv, 'utf8').split('\n')[0], 'model,class1,class2,average');

    assert.deepEqual(r.postprocessingSkipped, []);
    const model2d = modelFolder(paths, '2d', TR, PL);
    const rules = readPostprocessingRules(path.join(model2d, 'postprocessing.json'));
    assert.deepEqual(rules.forWhichClasses, [[1, 2]], 'keeping the largest foreground component removes the stray voxel');
    const pp = await readNifti(segmentationFile(path.join(model2d, 'cv_niftis_postprocessed'), 'c1'));
    assert.deepEqual(Array.from(pp.data as ArrayLike<number>), Array.from(truth));
    const ppJson = JSON.parse(fs.readFileSync(path.join(model2d, 'postprocessing.json'), 'utf8')) as { dc_per_class_raw: Record<string, number> };
    assert.deepEqual(Object.keys(ppJson.dc_per_class_raw).sort(), ['(1, 2)', '2'], 'a plain integer stays a label key, as in v2');
    assert.deepEqual(fs.readdirSync(path.join(model2d, 'cv_niftis_raw')).sort(), ['c1.nii.gz', 'summary.json'], 'the pooled folder holds what v1 keeps there');
    assert.ok(fs.existsSync(path.join(ensembleFolder(paths, ['2d', '3d_fullres'], TR, PL), 'postprocessing.json')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
