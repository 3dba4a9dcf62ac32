/**
 * find-best with the 2D and 3D plans named apart (a non-default GPU memory target): the CLI's identifiers per kind,
 * and the `nnunet predict` lines the task view prints giving each model its own plans.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { FindBestOutput, TaskPaths } from '../../activities/contract';
import { plansIdentifiersFrom } from '../../client/commands/find-best';
import { nnunetPredictCommands } from '../../client/task-view';

test('find-best plans: --pl2d / --pl3d, else --plans, else the planners\' identifiers for the configured GPU memory', () => {
  const config = (gb: number) => ({ planning: { gpuMemoryTargetGb: gb } });
  assert.deepEqual(plansIdentifiersFrom({}, config(8)), { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1' });
  assert.deepEqual(plansIdentifiersFrom({}, config(11)), { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1_big' });
  assert.deepEqual(plansIdentifiersFrom({}, config(4)), { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1_4GB' });
  assert.deepEqual(plansIdentifiersFrom({ plans: 'P' }, config(11)), { '2d': 'P', '3d': 'P' });
  assert.deepEqual(plansIdentifiersFrom({ plans: 'P', pl3d: 'Q' }, config(8)), { '2d': 'P', '3d': 'Q' });
});

test('task view: each `nnunet predict` line names its model\'s plans when they are not the default', () => {
  const root = '/nonexistent-results-root';
  const paths: TaskPaths = { taskName: 'Task004_Hippocampus', rawDir: path.join(root, 'raw'), croppedDir: '', preprocessedDir: '', resultsDir: path.join(root, 'nnUNet') };
  const winner = { name: 'ensemble_x', configurations: ['2d' as const, '3d_fullres' as const], meanForegroundDice: 0.9 };
  const best: FindBestOutput = {
    winner, candidates: [winner], winnerDicePerClass: {},
    predictCommands: [
      'nnUNet_predict -i FOLDER_WITH_TEST_CASES -o OUTPUT_FOLDER_MODEL1 -tr T -ctr C -m 2d -p nnUNetPlansv2.1 -t Task004_Hippocampus -z',
      'nnUNet_predict -i FOLDER_WITH_TEST_CASES -o OUTPUT_FOLDER_MODEL2 -tr T -ctr C -m 3d_fullres -p nnUNetPlansv2.1_4GB -t Task004_Hippocampus -z',
      'nnUNet_ensemble -f OUTPUT_FOLDER_MODEL1 OUTPUT_FOLDER_MODEL2 -o OUTPUT_FOLDER -pp /r/postprocessing.json',
    ],
  };
  const lines = nnunetPredictCommands(best, paths);
  assert.match(lines[0], / -m 2d --save-npz$/);
  assert.match(lines[1], / -m 3d_fullres --plans nnUNetPlansv2\.1_4GB --save-npz$/);
  assert.match(lines[2], /--postprocessing-file \/r\/postprocessing\.json$/);
});
