/**
 * The v2 audit: the command lines of nnU-Net v2's documentation (documentation/how_to_use_nnunet.md), run as
 * written under nnUNet_raw / nnUNet_preprocessed / nnUNet_results, on the demo task converted to a v2 Dataset, each
 * checked for its exit code and what it writes. The training budget is tiny through NNUNET_EPOCHS /
 * NNUNET_ITERATIONS_PER_EPOCH; nnU-Net's own flags stay as the documentation writes them. The printed commands of
 * inference_instructions.txt are run as printed, placeholders replaced by folders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertBuilt, binShim, cleanEnv, CLI, ROOT } from '../client/cli-helpers';

const ID = '972';
const DATASET = `Dataset${ID}_Demo`;
const FOLDS = ['0', '1', '2', '3', '4'];
const CONFIGS = ['2d', '3d_fullres'];
const MODEL = (c: string): string => `nnUNetTrainer__nnUNetPlans__${c}`;

interface Ran { code: number | null; stdout: string; stderr: string }

/** Runs an nnU-Net v2 command line (its bin shim) or `nnunet …`, as a user's shell would, without blocking the event loop. */
function run(env: Record<string, string>, line: string[], timeoutMs = 600_000): Promise<Ran> {
  const [cmd, ...args] = line;
  const script = cmd === 'nnunet' ? CLI : binShim(cmd);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: cleanEnv(env), cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${line.join(' ')} timed out\n${stderr}`)); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

async function ok(env: Record<string, string>, line: string[]): Promise<Ran> {
  const r = await run(env, line);
  assert.equal(r.code, 0, `${line.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

const niftis = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.nii.gz')).sort();

const skip = process.env.NNUNET_AUDIT === '1' ? false : 'set NNUNET_AUDIT=1 to run the audit of nnU-Net v2\'s documented command lines (a few minutes)';

test('nnU-Net v2\'s documented command lines run on the demo Dataset with a tiny budget', { skip, timeout: 1_200_000 }, async (t) => {
  assertBuilt();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-e2e-v2audit-'));
  const tmp = (name: string): string => path.join(root, name);
  const env = {
    nnUNet_raw: tmp('nnUNet_raw'), nnUNet_preprocessed: tmp('nnUNet_preprocessed'), nnUNet_results: tmp('nnUNet_results'),
    NNUNET_LOG_LEVEL: 'warn', NNUNET_EPOCHS: '1', NNUNET_ITERATIONS_PER_EPOCH: '1',
  };
  const results = path.join(env.nnUNet_results, DATASET);
  try {
    const v1 = { ...env, nnUNet_raw_data_base: tmp('v1') };
    await ok(v1, ['nnunet', 'demo-dataset', '-t', ID, '--cases', '5', '--test-cases', '1']);
    const task = path.join(v1.nnUNet_raw_data_base, 'nnUNet_raw_data', `Task${ID}_Demo`);
    const imagesTs = path.join(task, 'imagesTs');

    await t.test('nnUNetv2_convert_old_nnUNet_dataset INPUT_FOLDER OUTPUT_DATASET_NAME', async () => {
      await ok(env, ['nnUNetv2_convert_old_nnUNet_dataset', task, DATASET]);
      assert.equal(niftis(path.join(env.nnUNet_raw, DATASET, 'labelsTr')).length, 5);
    });

    await t.test('nnUNetv2_plan_and_preprocess -d DATASET_ID --verify_dataset_integrity -c 2d 3d_fullres', async () => {
      await ok(env, ['nnUNetv2_plan_and_preprocess', '-d', ID, '--verify_dataset_integrity', '-c', ...CONFIGS]);
      const pre = path.join(env.nnUNet_preprocessed, DATASET);
      for (const f of ['nnUNetPlans.json', 'dataset.json', 'dataset_fingerprint.json']) assert.ok(fs.existsSync(path.join(pre, f)), f);
      assert.equal(niftis(path.join(pre, 'gt_segmentations')).length, 5);
    });

    await t.test('nnUNetv2_train DATASET_NAME_OR_ID UNET_CONFIGURATION FOLD --npz', async () => {
      for (const c of CONFIGS) {
        for (const f of FOLDS) await ok(env, ['nnUNetv2_train', ID, c, f, '--npz']);
        for (const f of FOLDS) {
          const fold = path.join(results, MODEL(c), `fold_${f}`);
          assert.ok(fs.existsSync(path.join(fold, 'checkpoint_final.pth')), `${c} fold ${f}: trained`);
          assert.ok(fs.existsSync(path.join(fold, 'validation', 'summary.json')), `${c} fold ${f}: validated`);
          assert.ok(fs.readdirSync(path.join(fold, 'validation')).some((n) => n.endsWith('.npz')), `${c} fold ${f}: --npz`);
        }
      }
    });

    let instructions: string[] = [];
    await t.test('nnUNetv2_find_best_configuration DATASET_NAME_OR_ID -c CONFIGURATIONS -f FOLDS', async () => {
      await ok(env, ['nnUNetv2_find_best_configuration', ID, '-c', ...CONFIGS, '-f', ...FOLDS]);
      assert.ok(fs.existsSync(path.join(results, 'inference_information.json')));
      instructions = fs.readFileSync(path.join(results, 'inference_instructions.txt'), 'utf8').split('\n').filter((l) => l.startsWith('nnUNetv2_'));
      assert.ok(instructions.some((l) => l.startsWith('nnUNetv2_predict ')), instructions.join('\n'));
      assert.ok(instructions.some((l) => l.startsWith('nnUNetv2_apply_postprocessing ')), instructions.join('\n'));
    });

    await t.test('the printed nnUNetv2_predict / nnUNetv2_ensemble / nnUNetv2_apply_postprocessing lines, as printed', async () => {
      const folders: Record<string, string> = {
        INPUT_FOLDER: imagesTs, OUTPUT_FOLDER: tmp('final'), OUTPUT_FOLDER_PP: tmp('final_pp'),
        OUTPUT_FOLDER_MODEL_1: tmp('model1'), OUTPUT_FOLDER_MODEL_2: tmp('model2'),
      };
      for (const line of instructions) {
        // the budget: no mirroring (a v2 flag too); everything else exactly as printed
        const argv = line.split(/\s+/).filter(Boolean).map((w) => folders[w] ?? w);
        await ok(env, argv[0] === 'nnUNetv2_predict' ? [...argv, '--disable_tta'] : argv);
      }
      assert.equal(niftis(tmp('final')).length, 1, 'the test case');
      assert.equal(niftis(tmp('final_pp')).length, 1, 'postprocessed');
    });

    await t.test('nnUNetv2_predict -c each --save_probabilities, then nnUNetv2_ensemble -i A B -o OUT -np 2', async () => {
      for (const c of CONFIGS) {
        await ok(env, ['nnUNetv2_predict', '-i', imagesTs, '-o', tmp(`pred_${c}`), '-d', ID, '-c', c, '-f', ...FOLDS, '--save_probabilities', '--disable_tta']);
        assert.ok(fs.readdirSync(tmp(`pred_${c}`)).some((n) => n.endsWith('.npz')), `${c}: probabilities`);
      }
      await ok(env, ['nnUNetv2_ensemble', '-i', ...CONFIGS.map((c) => tmp(`pred_${c}`)), '-o', tmp('ensembled'), '-np', '2']);
      assert.equal(niftis(tmp('ensembled')).length, 1);
    });

    await t.test('nnUNetv2_evaluate_folder GT PRED -djfile DATASET_JSON -pfile PLANS (and --chill for one fold)', async () => {
      const pre = path.join(env.nnUNet_preprocessed, DATASET);
      const gt = path.join(pre, 'gt_segmentations');
      const flags = ['-djfile', path.join(pre, 'dataset.json'), '-pfile', path.join(pre, 'nnUNetPlans.json')];
      const fold0 = path.join(results, MODEL('2d'), 'fold_0', 'validation');
      const strict = await run(env, ['nnUNetv2_evaluate_folder', gt, fold0, ...flags, '-o', tmp('strict.json')]);
      assert.equal(strict.code, 1, 'one fold does not predict every reference case: refused without --chill, as v2');
      assert.match(strict.stderr, /--chill/);
      const out = tmp('eval_summary.json');
      await ok(env, ['nnUNetv2_evaluate_folder', gt, fold0, ...flags, '-o', out, '--chill']);
      const summary = JSON.parse(fs.readFileSync(out, 'utf8').replace(/\bNaN\b/g, 'null')) as { metric_per_case: unknown[]; mean: Record<string, unknown> };
      assert.equal(summary.metric_per_case.length, niftis(fold0).length);
      assert.deepEqual(Object.keys(summary.mean).sort(), ['1', '2']);
    });

    await t.test('nnUNetv2_export_model_to_zip -d ID -o ZIP -c 2d -f FOLDS, then nnUNetv2_install_pretrained_model_from_zip ZIP', async () => {
      const zip = tmp('model.zip');
      await ok(env, ['nnUNetv2_export_model_to_zip', '-d', ID, '-o', zip, '-c', '2d', '-f', ...FOLDS]);
      assert.ok(fs.statSync(zip).size > 0);
      const other = { ...env, nnUNet_results: tmp('installed_results') };
      await ok(other, ['nnUNetv2_install_pretrained_model_from_zip', zip]);
      const installed = path.join(other.nnUNet_results, DATASET, MODEL('2d'));
      for (const f of FOLDS) assert.ok(fs.existsSync(path.join(installed, `fold_${f}`, 'checkpoint_final.pth')), `fold ${f} installed`);
      await ok(other, ['nnUNetv2_predict', '-i', imagesTs, '-o', tmp('pred_installed'), '-d', ID, '-c', '2d', '-f', ...FOLDS, '--disable_tta']);
      assert.equal(niftis(tmp('pred_installed')).length, 1);
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
