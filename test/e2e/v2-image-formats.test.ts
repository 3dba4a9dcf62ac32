/**
 * Datasets in other image formats through nnU-Net v2's command lines, as a user runs them: the 2D PNG demo and the
 * .mha demo (made as Task folders with a v2 dataset.json) → nnUNetv2_convert_old_nnUNet_dataset →
 * nnUNetv2_plan_and_preprocess -c 2d → nnUNetv2_train 2d 0 --npz (one epoch of one iteration) →
 * nnUNetv2_predict -f 0 --save_probabilities → nnUNetv2_ensemble / nnUNetv2_evaluate_simple. Every prediction
 * (validation, test set, ensemble) is written in the dataset's file_ending, on the raw image's grid and geometry
 * as the registry reads it; the preprocessed properties carry sitk_stuff only where v2's reader records it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { geometryDifferences } from '../../activities/io/geometry';
import { readImageFile } from '../../activities/io/image-formats/registry';
import { assertBuilt } from '../client/cli-helpers';
import { ok } from './audit-lines';

const DEMOS = [
  { flag: '--2d-png', id: '947', task: 'Task947_Demo2dPng', dataset: 'Dataset947_Demo2dPng', ending: '.png', sitk: false },
  { flag: '--mha', id: '948', task: 'Task948_DemoMha', dataset: 'Dataset948_DemoMha', ending: '.mha', sitk: true },
] as const;

/** The prediction has the input's shape and geometry (both read through the registry). */
async function assertSameGrid(prediction: string, image: string): Promise<void> {
  assert.ok(fs.existsSync(prediction), prediction);
  const [pred, raw] = await Promise.all([readImageFile(prediction, 'seg'), readImageFile(image)]);
  assert.deepEqual(pred.shape, raw.shape, `${prediction}: shape`);
  assert.deepEqual(geometryDifferences(pred.geometry, raw.geometry), [], `${prediction}: geometry`);
}

for (const demo of DEMOS) {
  test(`${demo.flag} demo through nnUNetv2_plan_and_preprocess, nnUNetv2_train and nnUNetv2_predict`, { timeout: 600_000 }, async () => {
    assertBuilt();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-e2e-v2formats-'));
    const tmp = (name: string): string => path.join(root, name);
    const env = {
      nnUNet_raw: tmp('raw'), nnUNet_preprocessed: tmp('pre'), nnUNet_results: tmp('res'),
      NNUNET_LOG_LEVEL: 'warn', NNUNET_EPOCHS: '1', NNUNET_ITERATIONS_PER_EPOCH: '1',
    };
    try {
      await ok({ ...env, nnUNet_raw_data_base: tmp('v1') }, ['nnunet', 'demo-dataset', '-t', demo.id, demo.flag, '--cases', '5', '--test-cases', '1']);
      await ok(env, ['nnUNetv2_convert_old_nnUNet_dataset', path.join(tmp('v1'), 'nnUNet_raw_data', demo.task), demo.dataset]);
      const raw = path.join(env.nnUNet_raw, demo.dataset);
      assert.equal(JSON.parse(fs.readFileSync(path.join(raw, 'dataset.json'), 'utf8')).file_ending, demo.ending, 'the converted dataset keeps its format');

      await ok(env, ['nnUNetv2_plan_and_preprocess', '-d', demo.id, '-c', '2d']);
      const pre = path.join(env.nnUNet_preprocessed, demo.dataset);
      const props = JSON.parse(fs.readFileSync(path.join(pre, 'nnUNetPlans_2d', 'demo_000.json'), 'utf8')) as { sitk_stuff?: unknown; spacing: number[] };
      assert.equal(props.sitk_stuff !== undefined, demo.sitk, 'sitk_stuff only where v2\'s reader records it');
      if (!demo.sitk) assert.deepEqual(props.spacing, [999, 1, 1], 'NaturalImage2DIO\'s spacing');
      assert.ok(fs.existsSync(path.join(pre, 'gt_segmentations', `demo_000${demo.ending}`)));

      await ok(env, ['nnUNetv2_train', demo.id, '2d', '0', '--npz']);
      const validation = path.join(env.nnUNet_results, demo.dataset, 'nnUNetTrainer__nnUNetPlans__2d', 'fold_0', 'validation');
      const validated = fs.readdirSync(validation).filter((f) => f.endsWith(demo.ending));
      assert.ok(validated.length > 0, `validation predictions in ${demo.ending}`);
      for (const f of validated) await assertSameGrid(path.join(validation, f), path.join(raw, 'imagesTr', f.replace(demo.ending, `_0000${demo.ending}`)));

      const out = tmp('predicted');
      await ok(env, ['nnUNetv2_predict', '-i', path.join(raw, 'imagesTs'), '-o', out, '-d', demo.id, '-c', '2d', '-f', '0', '--save_probabilities']);
      await assertSameGrid(path.join(out, `demo_test_000${demo.ending}`), path.join(raw, 'imagesTs', `demo_test_000_0000${demo.ending}`));

      await ok(env, ['nnUNetv2_ensemble', '-i', out, out, '-o', tmp('ensembled')]);
      assert.deepEqual(fs.readFileSync(path.join(tmp('ensembled'), `demo_test_000${demo.ending}`)), fs.readFileSync(path.join(out, `demo_test_000${demo.ending}`)),
        'an ensemble of one folder twice is that folder');
      await ok(env, ['nnUNetv2_evaluate_simple', path.join(pre, 'gt_segmentations'), validation, '-l', '1', '2', '-o', tmp('summary.json'), '--chill']);
      assert.ok(fs.existsSync(tmp('summary.json')));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
}
