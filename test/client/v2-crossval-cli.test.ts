/**
 * The v2 cross-validation entry points end to end on the tiny v2 dataset (test/training/v2/fixture.ts): the fold
 * trained in this process as `nnunet train --method v2` does (1 epoch × 2 iterations, fold validation; nnUNetv2_train
 * runs the same through its fold workflow: test/e2e/v2-train-folds.test.ts), then --val --npz,
 * nnUNetv2_accumulate_crossval_results, nnUNetv2_determine_postprocessing, nnUNetv2_find_best_configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { runV2Alias } from '../../client/v2-aliases';
import { resolveDataset } from '../../client/v2-commands';
import { trainV2InProcess, v2TrainInput } from '../../client/v2-train';
import { TINY_DATASET, tinyPreprocessedV2 } from '../training/v2/fixture';

test('v2 fold training (in process) + --val --npz, accumulate_crossval_results, determine_postprocessing, find_best_configuration', async () => {
  const d = tinyPreprocessedV2();
  const log = console.log;
  const err = process.stderr.write.bind(process.stderr);
  try {
    const config = loadConfig({ env: {
      nnUNet_raw: path.join(d.root, 'raw'), nnUNet_preprocessed: path.dirname(d.preprocessedDir), nnUNet_results: d.resultsRoot,
      NNUNET_EPOCHS: '1', NNUNET_ITERATIONS_PER_EPOCH: '2', NNUNET_BACKEND: 'cpu',
    } });
    console.log = () => undefined;
    process.stderr.write = () => true;
    const run = (prog: string, argv: string[]) => runV2Alias(prog, argv, config);
    const { paths } = resolveDataset(config, '990');
    const fold = { configuration: '3d_fullres', fold: '0', trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans' };
    await trainV2InProcess(config, v2TrainInput(config, paths, fold));
    const model = path.join(d.resultsRoot, TINY_DATASET, 'nnUNetTrainer__nnUNetPlans__3d_fullres');
    assert.ok(fs.existsSync(path.join(model, 'fold_0', 'validation', 'summary.json')));
    await trainV2InProcess(config, v2TrainInput(config, paths, { ...fold, validationOnly: true, npz: true }));
    assert.ok(fs.readdirSync(path.join(model, 'fold_0', 'validation')).some((f) => f.endsWith('.npz')));
    await run('nnUNetv2_accumulate_crossval_results', ['990', '-c', '3d_fullres', '-f', '0']);
    const cv = path.join(model, 'crossval_results_folds_0');
    assert.ok(fs.existsSync(path.join(cv, 'summary.json')));
    await run('nnUNetv2_determine_postprocessing', ['-i', cv, '-ref', path.join(d.preprocessedDir, 'gt_segmentations')]);
    assert.ok(fs.existsSync(path.join(cv, 'postprocessing.pkl')) && fs.existsSync(path.join(cv, 'postprocessed', 'summary.json')));
    await run('nnUNetv2_find_best_configuration', ['990', '-c', '3d_fullres', '-f', '0', '--disable_ensembling']);
    const info = JSON.parse(fs.readFileSync(path.join(d.resultsRoot, TINY_DATASET, 'inference_information.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as { ensembling_allowed: boolean; all_results: Record<string, unknown> };
    assert.deepEqual([info.ensembling_allowed, Object.keys(info.all_results)], [false, ['nnUNetTrainer__nnUNetPlans__3d_fullres']]);
  } finally {
    console.log = log;
    process.stderr.write = err;
    d.cleanup();
  }
});
