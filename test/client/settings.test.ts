/**
 * The settings function: flags win over the config, the config over nnU-Net's defaults; plans identifiers follow
 * the planners; the workflow input is built from the same settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../config';
import { taskInput } from '../../client/task-input';
import { stageSettings } from '../../client/settings';

const config = (over: { gpu?: number; trainer?: string } = {}) => {
  const c = loadConfig({ env: {} });
  return { ...c, planning: { gpuMemoryTargetGb: over.gpu ?? c.planning.gpuMemoryTargetGb }, training: { ...c.training, trainer: over.trainer ?? c.training.trainer } };
};
const paths = { taskName: 'Task004_X', rawDir: '/r', croppedDir: '/c', preprocessedDir: '/p', resultsDir: '/res' };

test('defaults are nnU-Net\'s; the config and then the flags override them', () => {
  const d = stageSettings(config());
  assert.deepEqual([d.trainer, d.epochs, d.iterationsPerEpoch, d.numProcesses, d.checkpoint], ['nnUNetTrainerV2', 1000, 250, 8, 'model_final_checkpoint']);
  assert.deepEqual(d.plansIdentifiers, { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1' });
  assert.deepEqual(d.planner, { skip: { '2d': false, '3d': false }, gpuMemoryTargetGb: 8 });
  const c = stageSettings(config({ gpu: 4, trainer: 'nnUNetTrainerV2_100epochs' }));
  assert.equal(c.trainer, 'nnUNetTrainerV2_100epochs');
  assert.deepEqual(c.plansIdentifiers, { '2d': 'nnUNetPlansv2.1', '3d': 'nnUNetPlansv2.1_4GB' });
  const f = stageSettings(config({ gpu: 4 }), { gpuMemory: 11, trainer: 'T', epochs: 3, iters: 2, processes: 1, lowresProcesses: 2, plans: 'P' });
  assert.deepEqual([f.trainer, f.epochs, f.iterationsPerEpoch, f.numProcesses, f.numProcessesLowres, f.planner.gpuMemoryTargetGb], ['T', 3, 2, 1, 2, 11]);
  assert.deepEqual(f.plansIdentifiers, { '2d': 'P', '3d': 'P' });
});

test('named planners: their identifiers; None skips a kind', () => {
  const s = stageSettings(config(), { pl3d: 'ExperimentPlanner3D_v21_32GB', pl2d: 'None' });
  assert.deepEqual(s.planner, { list: 'ExperimentPlanner3D_v21_32GB', skip: { '3d': false, '2d': true }, gpuMemoryTargetGb: 8 });
  assert.equal(s.plansIdentifiers['3d'], 'nnUNetPlansv2.1_verybig');
});

test('the workflow input carries the same settings as the direct commands use', () => {
  const o = taskInput(config({ gpu: 4 }), paths, { processes: 2, lowresProcesses: 1, pl3d: 'ExperimentPlanner3D_v21_11GB' }).options!;
  const s = stageSettings(config({ gpu: 4 }), { processes: 2, lowresProcesses: 1, pl3d: 'ExperimentPlanner3D_v21_11GB' });
  assert.deepEqual([o.trainer, o.epochs, o.iterationsPerEpoch, o.numProcesses, o.numProcessesLowres, o.gpuMemoryTargetGb, o.planner],
    [s.trainer, s.epochs, s.iterationsPerEpoch, 2, 1, 4, 'ExperimentPlanner3D_v21_11GB']);
});
