/**
 * The layout module: every name nnU-Net expects, computed from the task paths, and the one legacy read-back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { TaskPaths } from '../../activities/contract';
import {
  checkpointFile, CHECKPOINT_FILES, ensembleFolder, foldFolder, gtSegmentationsFolder, modelFolder, nextStageFolder, plansFile,
  plansFileName, plansIdentifierOfLegacyFile, splitsFile, stageDataFolder, taskPathsFor, trainerFor, validationFolder,
} from '../../activities/io/layout';

const roots = { rawDataBase: '/d/raw', preprocessed: '/d/pre', results: '/d/res' };
const paths: TaskPaths = taskPathsFor('/d/raw/nnUNet_raw_data/Task004_Hippocampus', roots);

test('task paths: nnU-Net v1 folders from the raw folder', () => {
  assert.deepEqual(paths, {
    taskName: 'Task004_Hippocampus', rawDir: '/d/raw/nnUNet_raw_data/Task004_Hippocampus', croppedDir: '/d/raw/nnUNet_cropped_data/Task004_Hippocampus',
    preprocessedDir: '/d/pre/Task004_Hippocampus', resultsDir: '/d/res/nnUNet',
  });
  assert.equal(splitsFile(paths), '/d/pre/Task004_Hippocampus/splits_final.json');
  assert.equal(gtSegmentationsFolder(paths.preprocessedDir), '/d/pre/Task004_Hippocampus/gt_segmentations');
  assert.equal(stageDataFolder(paths.preprocessedDir, 'nnUNetData_plans_v2.1_2D', 0), '/d/pre/Task004_Hippocampus/nnUNetData_plans_v2.1_2D_stage0');
});

test('plans files: 2d from the 2D plans, every 3D configuration from the 3D plans; legacy names read back', () => {
  assert.equal(plansFileName('nnUNetPlansv2.1', '2d'), 'nnUNetPlansv2.1_plans_2D.json');
  assert.equal(plansFile(paths, 'nnUNetPlansv2.1_4GB', '3d_lowres'), '/d/pre/Task004_Hippocampus/nnUNetPlansv2.1_4GB_plans_3D.json');
  assert.equal(plansFile(paths, 'P', '2d'), '/d/pre/Task004_Hippocampus/P_plans_2D.json');
  assert.equal(plansFile(paths, 'P', '3d'), '/d/pre/Task004_Hippocampus/P_plans_3D.json');
  assert.equal(plansIdentifierOfLegacyFile('/x/nnUNetPlansv2.1_big_plans_3D.json'), 'nnUNetPlansv2.1_big');
  assert.equal(plansIdentifierOfLegacyFile('/x/plans.json'), undefined);
});

test('results tree: model, fold, validation, checkpoints, cascade and ensembles with each model\'s own plans', () => {
  const plans = { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1_4GB' };
  const model = modelFolder(paths, '3d_cascade_fullres', 'nnUNetTrainerV2', plans);
  assert.equal(model, '/d/res/nnUNet/3d_cascade_fullres/Task004_Hippocampus/nnUNetTrainerV2CascadeFullRes__nnUNetPlansv2.1_4GB');
  assert.equal(trainerFor('3d_cascade_fullres', 'MyTrainer'), 'MyTrainer');
  assert.equal(foldFolder(model, 'all'), path.join(model, 'all'));
  assert.equal(validationFolder(foldFolder(model, 3)), path.join(model, 'fold_3', 'validation_raw'));
  assert.equal(checkpointFile(foldFolder(model, 0), 'model_best'), path.join(model, 'fold_0', CHECKPOINT_FILES.best));
  assert.equal(nextStageFolder(paths, 'nnUNetPlansv2.1_4GB'), '/d/res/nnUNet/3d_lowres/Task004_Hippocampus/nnUNetTrainerV2__nnUNetPlansv2.1_4GB/pred_next_stage');
  assert.equal(ensembleFolder(paths, ['2d', '3d_fullres'], 'nnUNetTrainerV2', plans),
    '/d/res/nnUNet/ensembles/Task004_Hippocampus/ensemble_2d__nnUNetTrainerV2__nnUNetPlansv2.1--3d_fullres__nnUNetTrainerV2__nnUNetPlansv2.1_4GB');
});
