/**
 * The audit: the command lines of nnU-Net v1's documentation (its readme and documentation folder), run unchanged
 * on a small demo task, each checked for its exit code and what it writes. The training budget is tiny through
 * NNUNET_EPOCHS / NNUNET_ITERATIONS_PER_EPOCH; nnU-Net's own flags stay as the documentation writes them. The lines
 * the demo task cannot run (3d_lowres and the cascade: it plans no lowres stage) are listed in NOT_RUN_HERE with
 * the test that covers them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertBuilt } from '../client/cli-helpers';
import { niftis, ok } from './audit-lines';
import { makeDataEnv } from './helpers';

const TASK_ID = '963';
const TASK = 'Task963_Demo';
const MODEL = (c: string): string => `${c}/${TASK}/nnUNetTrainerV2__nnUNetPlansv2.1`;
const TRAINED = ['2d', '3d_fullres'];
const FOLDS = [0, 1, 2, 3, 4];

/** nnU-Net's documented lines this audit cannot run on the demo task, with why (each is covered elsewhere). */
export const NOT_RUN_HERE: Array<{ line: string; reason: string }> = [
  { line: 'nnUNet_train 3d_lowres nnUNetTrainerV2 TASK FOLD --npz', reason: 'the demo plans no lowres stage; test/training/cascade.test.ts trains 3d_lowres folds' },
  { line: 'nnUNet_train 3d_cascade_fullres nnUNetTrainerV2CascadeFullRes TASK FOLD --npz', reason: 'as above; test/training/cascade.test.ts trains the cascade and checks the missing-lowres-folds error' },
];


// About 10 minutes on a busy 2-core machine (ten trainings, then predictions with five folds): run on request.
const skip = process.env.NNUNET_AUDIT === '1' ? false : 'set NNUNET_AUDIT=1 to run the audit of nnU-Net\'s documented command lines (about 5 minutes)';

test('nnU-Net v1\'s documented command lines run on a demo task with a tiny budget', { skip, timeout: 1_800_000 }, async (t) => {
  assertBuilt();
  const data = makeDataEnv('audit');
  const env = { ...data.env, NNUNET_LOG_LEVEL: 'warn' };
  const results = path.join(env.RESULTS_FOLDER, 'nnUNet');
  const tmp = (name: string): string => path.join(data.root, name);
  try {
    await ok(env, ['nnunet', 'demo-dataset', '-t', TASK_ID, '--cases', '5', '--test-cases', '2']);
    const rawTask = path.join(env.nnUNet_raw_data_base, 'nnUNet_raw_data', TASK);
    const imagesTs = path.join(rawTask, 'imagesTs');

    await t.test('nnUNet_convert_decathlon_task -i MSD_TASK -output_task_id 964', async () => {
      const msd = tmp('Task09_Audit');
      for (const sub of ['imagesTr', 'labelsTr']) fs.mkdirSync(path.join(msd, sub), { recursive: true });
      for (const f of niftis(path.join(rawTask, 'labelsTr'))) {
        fs.copyFileSync(path.join(rawTask, 'imagesTr', f.replace('.nii.gz', '_0000.nii.gz')), path.join(msd, 'imagesTr', f));
        fs.copyFileSync(path.join(rawTask, 'labelsTr', f), path.join(msd, 'labelsTr', f));
      }
      const training = niftis(path.join(msd, 'labelsTr')).map((f) => ({ image: `./imagesTr/${f}`, label: `./labelsTr/${f}` }));
      fs.writeFileSync(path.join(msd, 'dataset.json'), JSON.stringify({ name: 'Audit', modality: { 0: 'MRI' }, labels: { 0: 'background', 1: 'a', 2: 'b' }, numTraining: training.length, numTest: 0, training, test: [] }));
      await ok(env, ['nnUNet_convert_decathlon_task', '-i', msd, '-p', '2', '-output_task_id', '964']);
      const converted = path.join(env.nnUNet_raw_data_base, 'nnUNet_raw_data', 'Task964_Audit', 'imagesTr');
      assert.equal(niftis(converted).filter((f) => f.endsWith('_0000.nii.gz')).length, training.length);
    });

    await t.test('nnUNet_plan_and_preprocess -t TASK --verify_dataset_integrity', async () => {
      await ok(env, ['nnUNet_plan_and_preprocess', '-t', TASK_ID, '--verify_dataset_integrity']);
      assert.ok(fs.existsSync(path.join(env.nnUNet_preprocessed, TASK, 'nnUNetPlansv2.1_plans_3D.json')));
    });

    await t.test('nnUNet_plot_task_pngs -t TASK -o OUT (and --use_raw)', async () => {
      await ok(env, ['nnUNet_plot_task_pngs', '-t', TASK_ID, '-o', tmp('pngs')]);
      await ok(env, ['nnUNet_plot_task_pngs', '-t', TASK_ID, '-o', tmp('pngs_raw'), '--use_raw']);
      for (const dir of ['pngs', 'pngs_raw']) {
        const pngs = fs.readdirSync(tmp(dir));
        assert.equal(pngs.length, 5, dir);
        assert.deepEqual([...fs.readFileSync(path.join(tmp(dir), pngs[0])).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
      }
    });

    await t.test('nnUNet_train CONFIG nnUNetTrainerV2 TASK FOLD --npz: five folds at once, for 2d and 3d_fullres; then -val --npz', async () => {
      for (const p of NOT_RUN_HERE) t.diagnostic(`not run here: ${p.line} (${p.reason})`);
      // nnU-Net's lines unchanged; the budget comes from the environment (docs/cli.md, "nnUNet_train").
      const budget = { ...env, NNUNET_EPOCHS: '1', NNUNET_ITERATIONS_PER_EPOCH: '1' };
      for (const c of TRAINED) {
        const runs = await Promise.all(FOLDS.map((f) => ok(budget, ['nnUNet_train', c, 'nnUNetTrainerV2', TASK_ID, String(f), '--npz'])));
        runs.forEach((r, f) => assert.match(r.stdout + r.stderr, new RegExp(`nnunet-fold-${TASK_ID.padStart(3, '0')}-${c}-nnUNetTrainerV2__nnUNetPlansv2\\.1-${f}`), `${c} fold ${f} ran its own fold workflow`));
      }
      for (const c of TRAINED) {
        const model = path.join(results, MODEL(c));
        for (const f of FOLDS) {
          assert.ok(fs.existsSync(path.join(model, `fold_${f}`, 'model_final_checkpoint.model')), `${c} fold ${f}: trained`);
          assert.ok(fs.existsSync(path.join(model, `fold_${f}`, 'postprocessing.json')), `${c} fold ${f}: its own postprocessing.json`);
          assert.ok(fs.existsSync(path.join(model, `fold_${f}`, 'validation_raw_postprocessed', 'summary.json')));
        }
        assert.equal(niftis(path.join(model, 'gt_niftis')).length, 5, `${c}: gt_niftis in the model folder`);
      }
      const fold0 = path.join(results, MODEL('3d_fullres'), 'fold_0');
      const checkpointBefore = fs.statSync(path.join(fold0, 'model_final_checkpoint.model')).mtimeMs;
      await ok(budget, ['nnUNet_train', '3d_fullres', 'nnUNetTrainerV2', TASK_ID, '0', '-val', '--npz']);
      assert.equal(fs.statSync(path.join(fold0, 'model_final_checkpoint.model')).mtimeMs, checkpointBefore, '-val trains nothing');
      assert.ok(fs.readdirSync(path.join(fold0, 'validation_raw')).some((f) => f.endsWith('.npz')), '-val --npz: the softmax is there');
    });

    await t.test('nnUNet_determine_postprocessing -m 3d_fullres -t TASK', async () => {
      await ok(env, ['nnUNet_determine_postprocessing', '-m', '3d_fullres', '-t', TASK_ID]);
      const model = path.join(results, MODEL('3d_fullres'));
      assert.ok(fs.existsSync(path.join(model, 'postprocessing.json')));
      assert.equal(niftis(path.join(model, 'cv_niftis_postprocessed')).length, 5);
    });

    await t.test('nnUNet_evaluate_folder -ref REF -pred PRED -l 1 2', async () => {
      const model = path.join(results, MODEL('3d_fullres'));
      const pred = tmp('cv_copy');
      fs.mkdirSync(pred);
      for (const f of niftis(path.join(model, 'cv_niftis_raw'))) fs.copyFileSync(path.join(model, 'cv_niftis_raw', f), path.join(pred, f));
      await ok(env, ['nnUNet_evaluate_folder', '-ref', path.join(model, 'gt_niftis'), '-pred', pred, '-l', '1', '2']);
      const summary = JSON.parse(fs.readFileSync(path.join(pred, 'summary.json'), 'utf8')) as { results: { all: unknown[]; mean: Record<string, unknown> } };
      assert.equal(summary.results.all.length, 5);
      assert.deepEqual(Object.keys(summary.results.mean).sort(), ['1', '2']);
    });

    let commands: string[] = [];
    await t.test('nnUNet_find_best_configuration -m 2d 3d_fullres -t TASK', async () => {
      await ok(env, ['nnUNet_find_best_configuration', '-m', '2d', '3d_fullres', '-t', TASK_ID]);
      const ensembles = path.join(results, 'ensembles', TASK);
      const csv = fs.readFileSync(path.join(ensembles, 'summary.csv'), 'utf8').trim().split('\n');
      assert.equal(csv[0], 'model,class1,class2,average');
      assert.equal(csv.length, 4, 'two configurations and their ensemble');
      for (const row of csv.slice(1)) assert.match(row, /^[\w.-]+(,(\d\.\d{4}|nan)){3}$/);
      const ensemble = fs.readdirSync(ensembles).find((d) => d.startsWith('ensemble_'))!;
      for (const dir of [path.join(results, MODEL('2d')), path.join(results, MODEL('3d_fullres')), path.join(ensembles, ensemble)]) {
        assert.ok(fs.existsSync(path.join(dir, 'postprocessing.json')), `${dir}: every candidate has its postprocessing`);
      }
      commands = fs.readFileSync(path.join(ensembles, 'prediction_commands.txt'), 'utf8').trim().split('\n');
      assert.match(commands[0], new RegExp(`^nnUNet_predict -i FOLDER_WITH_TEST_CASES -o OUTPUT_FOLDER_MODEL1 -tr nnUNetTrainerV2 -ctr nnUNetTrainerV2CascadeFullRes -m (2d|3d_fullres) -p nnUNetPlansv2\\.1 -t ${TASK}`));
    });

    await t.test('every printed prediction command, as printed (plus --disable_tta for the budget)', async () => {
      const folders: Record<string, string> = { FOLDER_WITH_TEST_CASES: imagesTs, OUTPUT_FOLDER_MODEL1: tmp('model1'), OUTPUT_FOLDER_MODEL2: tmp('model2'), OUTPUT_FOLDER: tmp('final') };
      for (const line of commands) {
        const argv = line.split(' ').map((w) => folders[w] ?? w);
        // the budget: no mirroring (an nnU-Net flag too); everything else exactly as printed
        await ok(env, argv[0] === 'nnUNet_predict' ? [...argv, '--disable_tta'] : argv);
      }
      const final = commands.some((c) => c.startsWith('nnUNet_ensemble')) ? tmp('final') : tmp('model1');
      assert.equal(niftis(final).length, 2, 'both test cases');
      assert.ok(fs.existsSync(path.join(final, 'postprocessing.json')), 'the chosen postprocessing was applied');
    });

    await t.test('nnUNet_predict for each configuration with -z, then nnUNet_ensemble -f A B -o OUT -pp FILE', async (st) => {
      if (commands.some((c) => c.startsWith('nnUNet_ensemble'))) return st.skip('the printed commands above were these (an ensemble won)');
      for (const c of TRAINED) await ok(env, ['nnUNet_predict', '-i', imagesTs, '-o', tmp(`pred_${c}`), '-t', TASK, '-m', c, '-z', '--disable_tta']);
      const ensemble = fs.readdirSync(path.join(results, 'ensembles', TASK)).find((d) => d.startsWith('ensemble_'))!;
      const pp = path.join(results, 'ensembles', TASK, ensemble, 'postprocessing.json');
      await ok(env, ['nnUNet_ensemble', '-f', tmp('pred_2d'), tmp('pred_3d_fullres'), '-o', tmp('ensembled'), '-pp', pp]);
      assert.equal(niftis(tmp('ensembled')).length, 2);
    });

    await t.test('nnUNet_predict --part_id 1 --num_parts 2 (-m defaults to 3d_fullres)', async () => {
      const r = await ok(env, ['nnUNet_predict', '--input_folder', imagesTs, '--output_folder', tmp('part1'), '--task_name', TASK_ID, '--part_id=1', '--num_parts', '2', '--disable_tta']);
      assert.match(r.stderr, /--configuration 3d_fullres/);
      const all = niftis(imagesTs).map((f) => f.replace(/_\d{4}\.nii\.gz$/, '.nii.gz')).filter((f, i, a) => a.indexOf(f) === i).sort();
      assert.deepEqual(niftis(tmp('part1')), all.filter((_, i) => i % 2 === 1));
    });

    await t.test('nnUNet_change_trainer_class -i MODEL -tr T and nnUNet_train_DP -h', async () => {
      const r = await ok(env, ['nnUNet_change_trainer_class', '-i', path.join(results, MODEL('2d')), '-tr', 'nnUNetTrainerV2']);
      assert.match(r.stdout, /5 fold folder\(s\).*nothing to change/s);
      const h = await ok(env, ['nnUNet_train_DP', '-h']);
      assert.match(h.stdout, /^usage: nnUNet_train_DP \[-h\]/);
    });
  } finally {
    data.remove();
  }
});
