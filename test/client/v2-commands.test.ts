/**
 * The nnU-Net v2 commands nnunet-ts runs, end to end on tiny data under v2's environment variables: converting a v1
 * task and an MSD folder to Dataset folders, planning from a dataset_fingerprint.json, moving plans, evaluating into
 * v2's summary.json, overlay PNGs. Where Python is present, v2's own dataset.json edits and metrics (run on the same
 * files) must give the same bytes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../config';
import { BadInputError } from '../../activities/common/errors';
import { readNiftiSync, writeNiftiSync } from '../../activities/io/nifti';
import { UsageError } from '../../client/context';
import { runV2Alias, V2NotAvailable } from '../../client/v2-aliases';
import { resolveDataset } from '../../client/v2-commands';
import { readVector } from '../helpers/vectors';
import { obliqueGeometry, rampVolume } from '../io/helpers';
import { pythonLacks, runPython } from '../io/python-check';
import { tinyLabel, writeTinyTask, TINY_SHAPE } from '../io/tiny-task';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const env = {
  nnUNet_raw: path.join(tmp, 'nnUNet_raw'), nnUNet_preprocessed: path.join(tmp, 'nnUNet_preprocessed'), nnUNet_results: path.join(tmp, 'nnUNet_results'),
  nnUNet_raw_data_base: path.join(tmp, 'v1base'),
};
const config = loadConfig({ env });
const quiet = async (prog: string, argv: string[]): Promise<void> => {
  const log = console.log;
  console.log = () => undefined;
  try {
    await runV2Alias(prog, argv, config);
  } finally {
    console.log = log;
  }
};
const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
const noPython = pythonLacks(['json']);

test('nnUNetv2_convert_old_nnUNet_dataset: the v1 task is copied to nnUNet_raw/DatasetXXX_NAME with v2\'s dataset.json; found by id and name', async () => {
  const task = writeTinyTask(path.join(tmp, 'old'), { format: 'v1', cases: 2, test: 1 });
  await quiet('nnUNetv2_convert_old_nnUNet_dataset', [task, 'Dataset901_Tiny']);
  const out = path.join(env.nnUNet_raw, 'Dataset901_Tiny');
  const json = readJson(path.join(out, 'dataset.json'));
  assert.deepEqual(Object.keys(json), ['name', 'labels', 'numTraining', 'channel_names', 'file_ending'], "v2's key order");
  assert.deepEqual(json.labels, { background: 0, a: 1, b: 2 });
  assert.deepEqual(json.channel_names, { 0: 'CT', 1: 'MRI' });
  assert.equal(json.file_ending, '.nii.gz');
  assert.deepEqual(fs.readdirSync(path.join(out, 'imagesTr')).sort(), fs.readdirSync(path.join(task, 'imagesTr')).sort());
  assert.ok(fs.existsSync(path.join(out, 'imagesTs', 'test_000_0001.nii.gz')));
  for (const spec of ['901', 'Dataset901_Tiny']) assert.equal(resolveDataset(config, spec).paths.rawDir, out, `-d ${spec} finds it under nnUNet_raw`);
  await assert.rejects(quiet('nnUNetv2_convert_old_nnUNet_dataset', [task, 'Dataset901_Tiny']), (e: unknown) => e instanceof BadInputError && /already exists/.test(e.message));
  await assert.rejects(quiet('nnUNetv2_convert_old_nnUNet_dataset', [task, 'Task902_Tiny']), /must follow DatasetXXX_NAME/);
  if (!noPython) {
    // v2's convert() edits of the dict, then save_json(sort_keys=False): the same text.
    const py = runPython(`import json,sys
from copy import deepcopy
d = json.load(open(sys.argv[1]))
del d['tensorImageSize']; del d['numTest']; del d['training']; del d['test']
d['channel_names'] = deepcopy(d['modality']); del d['modality']
d['labels'] = {j: int(i) for i, j in d['labels'].items()}
d['file_ending'] = ".nii.gz"
sys.stdout.write(json.dumps(d, sort_keys=False, indent=4))`, [path.join(task, 'dataset.json')]);
    assert.equal(fs.readFileSync(path.join(out, 'dataset.json'), 'utf8'), py);
  }
});

test('nnUNetv2_convert_MSD_dataset: 4D images split into channels, DatasetXXX_NAME in nnUNet_raw; a taken id is refused; -overwrite_id', async () => {
  const msd = path.join(tmp, 'msd', 'Task05_Prostate');
  for (const sub of ['imagesTr', 'labelsTr', 'imagesTs']) fs.mkdirSync(path.join(msd, sub), { recursive: true });
  const four = rampVolume('float32', [2, ...TINY_SHAPE], obliqueGeometry());
  writeNiftiSync(path.join(msd, 'imagesTr', 'prostate_00.nii.gz'), four);
  writeNiftiSync(path.join(msd, 'imagesTs', 'prostate_01.nii.gz'), four);
  writeNiftiSync(path.join(msd, 'labelsTr', 'prostate_00.nii.gz'), tinyLabel(0));
  fs.writeFileSync(path.join(msd, 'dataset.json'), JSON.stringify({
    name: 'PROSTATE', tensorImageSize: '4D', modality: { 0: 'T2', 1: 'ADC' }, labels: { 0: 'background', 1: 'PZ', 2: 'TZ' }, numTraining: 1, numTest: 1,
    training: [{ image: './imagesTr/prostate_00.nii.gz', label: './labelsTr/prostate_00.nii.gz' }], test: ['./imagesTs/prostate_01.nii.gz'],
  }));
  await quiet('nnUNetv2_convert_MSD_dataset', ['-i', msd, '-np', '2']);
  const out = path.join(env.nnUNet_raw, 'Dataset005_Prostate');
  const json = readJson(path.join(out, 'dataset.json'));
  assert.deepEqual(Object.keys(json), ['name', 'tensorImageSize', 'labels', 'numTraining', 'numTest', 'file_ending', 'channel_names']);
  assert.deepEqual(json.labels, { background: 0, PZ: 1, TZ: 2 });
  assert.deepEqual(fs.readdirSync(path.join(out, 'imagesTr')).sort(), ['prostate_00_0000.nii.gz', 'prostate_00_0001.nii.gz']);
  assert.deepEqual(readNiftiSync(path.join(out, 'imagesTs', 'prostate_01_0001.nii.gz')).shape, TINY_SHAPE);
  assert.ok(fs.existsSync(path.join(out, 'labelsTr', 'prostate_00.nii.gz')));
  await assert.rejects(quiet('nnUNetv2_convert_MSD_dataset', ['-i', msd]), /Target dataset id 5 is already taken .*Dataset005_Prostate.*-overwrite_id/);
  await quiet('nnUNetv2_convert_MSD_dataset', ['-i', msd, '-overwrite_id', '205']);
  assert.ok(fs.existsSync(path.join(env.nnUNet_raw, 'Dataset205_Prostate', 'imagesTr', 'prostate_00_0001.nii.gz')));
  assert.deepEqual(fs.readdirSync(env.nnUNet_raw).filter((f) => f.startsWith('.')), [], 'no staging folders left behind');
  if (!noPython) {
    // v2's convert_msd_dataset edits of the dict, then save_json(sort_keys=False): the same text.
    const py = runPython(`import json,sys
d = json.load(open(sys.argv[1]))
d['labels'] = {j: int(i) for i, j in d['labels'].items()}
d['file_ending'] = ".nii.gz"
d["channel_names"] = d["modality"]
del d["modality"]; del d["training"]; del d["test"]
sys.stdout.write(json.dumps(d, sort_keys=False, indent=4))`, [path.join(msd, 'dataset.json')]);
    assert.equal(fs.readFileSync(path.join(out, 'dataset.json'), 'utf8'), py);
  }
});

test('nnUNetv2_plan_experiment and plan_and_preprocess --no_pp write <plans>.json equal to v2\'s, extract_fingerprint keeps an existing fingerprint (--clean recomputes it); move_plans adapts plans', async () => {
  type Vector = { dataset_name: string; dataset_json: unknown; fingerprint: unknown } & Record<string, unknown>;
  const v = readVector<{ vectors: Vector[] }>('planner_nnunet_v2.json').vectors[9]!;
  const id = Number(/^Dataset(\d+)_/.exec(v.dataset_name)![1]);
  fs.mkdirSync(path.join(env.nnUNet_raw, v.dataset_name), { recursive: true });
  fs.writeFileSync(path.join(env.nnUNet_raw, v.dataset_name, 'dataset.json'), JSON.stringify(v.dataset_json));
  await assert.rejects(quiet('nnUNetv2_plan_experiment', ['-d', String(id)]), /no dataset fingerprint; run nnUNetv2_extract_fingerprint -d \d+ first/);
  fs.mkdirSync(path.join(env.nnUNet_preprocessed, v.dataset_name), { recursive: true });
  fs.writeFileSync(path.join(env.nnUNet_preprocessed, v.dataset_name, 'dataset_fingerprint.json'), JSON.stringify(v.fingerprint));
  await quiet('nnUNetv2_extract_fingerprint', ['-d', String(id)]);
  // --clean recomputes: this Dataset folder holds a dataset.json only, so the extractor reports the missing images
  await assert.rejects(quiet('nnUNetv2_extract_fingerprint', ['-d', String(id), '--clean']), (e: unknown) => !(e instanceof V2NotAvailable) && /imagesTr|training|case/i.test((e as Error).message));
  assert.deepEqual(readJson(path.join(env.nnUNet_preprocessed, v.dataset_name, 'dataset_fingerprint.json')), v.fingerprint, 'a failed recomputation leaves the fingerprint as it was');
  await quiet('nnUNetv2_plan_experiment', ['-d', String(id)]);
  assert.deepEqual(readJson(path.join(env.nnUNet_preprocessed, v.dataset_name, 'nnUNetPlans.json')), v.nnUNetPlans);
  await quiet('nnUNetv2_plan_and_preprocess', ['-d', String(id), '-pl', 'nnUNetPlannerResEncM', '--no_pp']);
  assert.deepEqual(readJson(path.join(env.nnUNet_preprocessed, v.dataset_name, 'nnUNetResEncUNetMPlans.json')), v.nnUNetResEncUNetMPlans);
  // --verify_dataset_integrity verifies the Dataset folder before keeping its fingerprint.
  fs.mkdirSync(path.join(env.nnUNet_preprocessed, 'Dataset901_Tiny'), { recursive: true });
  fs.writeFileSync(path.join(env.nnUNet_preprocessed, 'Dataset901_Tiny', 'dataset_fingerprint.json'), JSON.stringify(v.fingerprint));
  await quiet('nnUNetv2_extract_fingerprint', ['-d', '901', '--verify_dataset_integrity']);
  await assert.rejects(quiet('nnUNetv2_plan_experiment', ['-d', String(id), '-pl', 'Nope']), UsageError);

  await quiet('nnUNetv2_move_plans_between_datasets', ['-s', String(id), '-t', '901', '-sp', 'nnUNetPlans', '-tp', 'nnUNetPlansFrom10']);
  const moved = readJson(path.join(env.nnUNet_preprocessed, 'Dataset901_Tiny', 'nnUNetPlansFrom10.json')) as { configurations: Record<string, { data_identifier?: string }> } & Record<string, unknown>;
  assert.equal(moved.dataset_name, 'Dataset901_Tiny');
  assert.equal(moved.plans_name, 'nnUNetPlansFrom10');
  assert.equal(moved.image_reader_writer, 'SimpleITKIO');
  assert.equal(moved.configurations['3d_fullres']!.data_identifier, 'nnUNetPlansFrom10_3d_fullres');
  assert.deepEqual((moved.configurations['3d_fullres'] as Record<string, unknown>).patch_size, (v.nnUNetPlans as typeof moved).configurations['3d_fullres']!['patch_size' as 'data_identifier']);
});

/** A prediction folder: the references with some voxels changed, and one case left out. */
function writeCases(root: string): { gt: string; pred: string } {
  const gt = path.join(root, 'gt');
  const pred = path.join(root, 'pred');
  fs.mkdirSync(gt, { recursive: true });
  fs.mkdirSync(pred, { recursive: true });
  for (let c = 0; c < 3; c++) {
    const ref = tinyLabel(c);
    writeNiftiSync(path.join(gt, `case_${c}.nii.gz`), ref);
    if (c === 2) continue;
    const p = tinyLabel(c);
    for (let i = 0; i < p.data.length; i += 7) p.data[i] = (p.data[i]! + 1 + c) % 3;
    if (c === 1) for (let i = 0; i < p.data.length; i++) if (p.data[i] === 2) p.data[i] = 0;
    writeNiftiSync(path.join(pred, `case_${c}.nii.gz`), p);
  }
  return { gt, pred };
}

/** v2's compute_metrics / compute_metrics_on_folder / save_summary_json on the same files, in Python. */
const V2_EVALUATION_PY = `import json, sys, numpy as np, SimpleITK as sitk
gt, pred, labels, ignore = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
import os
files = sorted(f for f in os.listdir(pred) if f.endswith('.nii.gz'))
def key(r): return str(tuple(r)) if isinstance(r, list) else str(r)
def mask(s, r): return np.isin(s, r) if isinstance(r, list) else s == r
res = []
for f in files:
    ref = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(gt, f)))
    prd = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(pred, f)))
    use = np.ones_like(ref, dtype=bool) if ignore is None else ref != ignore
    m = {}
    for r in labels:
        a, b = mask(ref, r), mask(prd, r)
        tp = int(np.sum(a & b & use)); fp = int(np.sum(~a & b & use)); fn = int(np.sum(a & ~b & use)); tn = int(np.sum(~a & ~b & use))
        d = {'Dice': np.nan, 'IoU': np.nan} if tp + fp + fn == 0 else {'Dice': 2 * tp / (2 * tp + fp + fn), 'IoU': tp / (tp + fp + fn)}
        d.update({'FP': fp, 'TP': tp, 'FN': fn, 'TN': tn, 'n_pred': fp + tp, 'n_ref': fn + tp})
        m[key(r)] = d
    res.append({'reference_file': os.path.join(gt, f), 'prediction_file': os.path.join(pred, f), 'metrics': m})
metrics = list(res[0]['metrics'][key(labels[0])].keys())
means = {key(r): {k: float(np.nanmean([c['metrics'][key(r)][k] for c in res])) for k in metrics} for r in labels}
fg = {k: float(np.mean([means[r][k] for r in means if r != '0'])) for k in metrics}
sys.stdout.write(json.dumps({'metric_per_case': res, 'mean': means, 'foreground_mean': fg}, sort_keys=True, indent=4))`;

test('nnUNetv2_evaluate_simple / _folder: v2\'s summary.json (labels, regions, ignore label); --chill; equal to v2\'s metrics in Python', async () => {
  const { gt, pred } = writeCases(path.join(tmp, 'eval'));
  await assert.rejects(quiet('nnUNetv2_evaluate_simple', [gt, pred, '-l', '1', '2']), /Not all files in .* exist in .*case_2\.nii\.gz missing \(pass --chill/);
  await quiet('nnUNetv2_evaluate_simple', [gt, pred, '-l', '1', '2', '--chill']);
  const text = fs.readFileSync(path.join(pred, 'summary.json'), 'utf8');
  const summary = JSON.parse(text.replace(/\bNaN\b/g, 'null')) as { metric_per_case: Array<{ metrics: Record<string, Record<string, number>> }>; mean: Record<string, Record<string, number>>; foreground_mean: Record<string, number> };
  assert.deepEqual(Object.keys(summary), ['foreground_mean', 'mean', 'metric_per_case'], 'sorted keys');
  assert.equal(summary.metric_per_case.length, 2);
  assert.deepEqual(Object.keys(summary.mean), ['1', '2']);
  assert.deepEqual(Object.keys(summary.foreground_mean), ['Dice', 'FN', 'FP', 'IoU', 'TN', 'TP', 'n_pred', 'n_ref']);
  const c0 = summary.metric_per_case[0]!.metrics['1']!;
  assert.equal(c0.TP + c0.FP + c0.FN + c0.TN, TINY_SHAPE.reduce((a, b) => a * b, 1));
  assert.equal(c0.Dice, (2 * c0.TP) / (2 * c0.TP + c0.FP + c0.FN));
  assert.match(text, /"TP": \d+,/, 'counts are ints in the cases');
  assert.match(text, /"foreground_mean": \{\n {8}"Dice": [\d.]+,\n {8}"FN": \d+\.\d+,/, 'means are floats');

  const djfile = path.join(tmp, 'eval', 'dataset.json');
  const pfile = path.join(tmp, 'eval', 'plans.json');
  fs.writeFileSync(pfile, '{}');
  const out = path.join(tmp, 'eval', 'regions.json');
  fs.writeFileSync(djfile, JSON.stringify({ labels: { background: 0, whole: [1, 2], core: 2, ignore: 2 }, regions_class_order: [1, 2], file_ending: '.nii.gz', channel_names: { 0: 'x' }, numTraining: 3 }));
  await quiet('nnUNetv2_evaluate_folder', [gt, pred, '-djfile', djfile, '-pfile', pfile, '-o', out, '--chill']);
  const regions = JSON.parse(fs.readFileSync(out, 'utf8').replace(/\bNaN\b/g, 'null')) as typeof summary;
  assert.match(fs.readFileSync(out, 'utf8'), /"mean": \{\n {8}"\(1, 2\)": \{[^}]+\},\n {8}"2": \{/, 'regions keyed as Python prints tuples, sorted as strings');
  assert.equal(regions.metric_per_case[0]!.metrics['2']!.TP, 0, 'voxels of the ignore label count nowhere');
  await assert.rejects(quiet('nnUNetv2_evaluate_folder', [gt, pred, '-djfile', djfile, '-pfile', path.join(tmp, 'none.json')]), /none\.json: no such file/);

  const skip = pythonLacks(['numpy', 'SimpleITK']);
  if (skip) {
    console.log(`# skipping the comparison with v2's metrics in Python: ${skip}`);
    return;
  }
  assert.equal(text, runPython(V2_EVALUATION_PY, [gt, pred, '[1, 2]', 'null']), 'labels: the same summary.json text');
  assert.equal(fs.readFileSync(out, 'utf8'), runPython(V2_EVALUATION_PY, [gt, pred, '[[1, 2], 2]', '2']), 'regions and the ignore label: the same text');
});

test('nnUNetv2_plot_overlay_pngs --use_raw plots the raw Dataset; without --use_raw (v2\'s preprocessed data) it exits 2', async () => {
  const out = path.join(tmp, 'pngs');
  // The `nnunet` command it runs reads the environment, as from a shell.
  Object.assign(process.env, env);
  await quiet('nnUNetv2_plot_overlay_pngs', ['-d', '901', '-o', out, '--use_raw', '-channel_idx', '1']);
  assert.deepEqual(fs.readdirSync(out).sort(), ['case_000.png', 'case_001.png']);
  await assert.rejects(quiet('nnUNetv2_plot_overlay_pngs', ['-d', '901', '-o', out]), (e: unknown) => e instanceof V2NotAvailable && /Add --use_raw/.test(e.message));
});

/** A v2 results tree as nnunetv2 leaves it (file contents are placeholders: only the layout matters here). */
function writeV2Results(results: string): string {
  const model = path.join(results, 'Dataset901_Tiny', 'nnUNetTrainer__nnUNetPlans__3d_fullres');
  const files = [
    'fold_0/checkpoint_final.pth', 'fold_0/checkpoint_best.pth', 'fold_0/debug.json', 'fold_0/progress.png', 'fold_0/validation/summary.json',
    'fold_0/validation/case_000.nii.gz', 'fold_0/validation/case_000.npz', 'fold_0/training_log_2024_1_1_00_00_00.txt',
    'plans.json', 'dataset.json', 'dataset_fingerprint.json', 'crossval_results_folds_0/summary.json', 'crossval_results_folds_0/postprocessing.pkl',
  ];
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(model, f)), { recursive: true });
    fs.writeFileSync(path.join(model, f), `content of ${f}`);
  }
  const ensemble = path.join(results, 'Dataset901_Tiny', 'ensembles', 'ensemble___nnUNetTrainer__nnUNetPlans__2d___nnUNetTrainer__nnUNetPlans__3d_fullres___0_1_2_3_4');
  fs.mkdirSync(ensemble, { recursive: true });
  fs.writeFileSync(path.join(ensemble, 'summary.json'), '{}');
  fs.writeFileSync(path.join(results, 'Dataset901_Tiny', 'inference_information.json'), '{}');
  return model;
}

test('nnUNetv2_export_model_to_zip / install_pretrained_model_from_zip / download_pretrained_model_by_url: v2\'s zip layout, checked members, extracted over nnUNet_results', async () => {
  writeV2Results(env.nnUNet_results);
  const zip = path.join(tmp, 'Dataset901.zip');
  await assert.rejects(quiet('nnUNetv2_export_model_to_zip', ['-d', '901', '-o', zip, '-f', '0']), /missing the trained model of configuration 3d_lowres .*--not_strict/);
  await assert.rejects(quiet('nnUNetv2_export_model_to_zip', ['-d', '901', '-o', zip, '-c', '3d_fullres']), /not all requested folds are present \(fold_1, fold_2, fold_3, fold_4 missing\)/);
  await quiet('nnUNetv2_export_model_to_zip', ['-d', '901', '-o', zip, '-f', '0', '--not_strict']);
  const { listZip } = await import('../../activities/io/zip-archive');
  const m = 'Dataset901_Tiny/nnUNetTrainer__nnUNetPlans__3d_fullres';
  assert.deepEqual(listZip(zip).map((e) => e.name).sort(), [
    `${m}/crossval_results_folds_0/postprocessing.pkl`, `${m}/crossval_results_folds_0/summary.json`, `${m}/dataset.json`, `${m}/dataset_fingerprint.json`,
    `${m}/fold_0/checkpoint_final.pth`, `${m}/fold_0/debug.json`, `${m}/fold_0/progress.png`, `${m}/fold_0/validation/summary.json`, `${m}/plans.json`,
    'Dataset901_Tiny/ensembles/ensemble___nnUNetTrainer__nnUNetPlans__2d___nnUNetTrainer__nnUNetPlans__3d_fullres___0_1_2_3_4/summary.json',
    'Dataset901_Tiny/inference_information.json',
  ].sort(), "v2's members: no best checkpoint, no validation predictions, no training logs unless asked");
  const cv = path.join(tmp, 'cv.zip');
  await quiet('nnUNetv2_export_model_to_zip', ['-d', '901', '-o', cv, '-f', '0', '-c', '3d_fullres', '--exp_cv_preds', '-chk', 'checkpoint_final.pth', 'checkpoint_best.pth']);
  const cvNames = listZip(cv).map((e) => e.name);
  assert.ok(cvNames.includes(`${m}/fold_0/validation/case_000.nii.gz`) && cvNames.includes(`${m}/fold_0/checkpoint_best.pth`));
  assert.ok(!cvNames.includes(`${m}/fold_0/validation/case_000.npz`), 'never the softmax .npz');

  const installed = path.join(tmp, 'installed');
  const installConfig = loadConfig({ env: { ...env, nnUNet_results: installed } });
  await runV2Alias('nnUNetv2_install_pretrained_model_from_zip', [zip], installConfig);
  assert.equal(fs.readFileSync(path.join(installed, m, 'fold_0', 'checkpoint_final.pth'), 'utf8'), 'content of fold_0/checkpoint_final.pth');
  await runV2Alias('nnUNetv2_install_pretrained_model_from_zip', [zip], installConfig);

  const { writeZipFromFiles } = await import('../../activities/io/zip-archive');
  const evil = path.join(tmp, 'evil.zip');
  writeZipFromFiles(evil, [{ name: 'Dataset901_Tiny/../../escape.txt', file: zip }, { name: 'Task004_Old/x', file: zip }]);
  await assert.rejects(runV2Alias('nnUNetv2_install_pretrained_model_from_zip', [evil], installConfig), /refusing to install: .*leaving the results folder.*Task004_Old\/x: not in a DatasetXXX_NAME folder/);

  const http = await import('node:http');
  const server = http.createServer((_req, res) => {
    const body = fs.readFileSync(zip);
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const downloaded = path.join(tmp, 'downloaded');
  try {
    const { port } = server.address() as { port: number };
    await runV2Alias('nnUNetv2_download_pretrained_model_by_url', [`http://127.0.0.1:${port}/Dataset901.zip`], loadConfig({ env: { ...env, nnUNet_results: downloaded } }));
  } finally {
    server.close();
  }
  assert.ok(fs.existsSync(path.join(downloaded, m, 'plans.json')));
  assert.deepEqual(fs.readdirSync(path.join(downloaded, '.downloads')), [], 'the zip is removed after installing');
});

test('nnUNetv2_apply_postprocessing applies a v2 postprocessing.pkl (keep the largest component, full connectivity); other functions are refused', async () => {
  const { writePickle, PyGlobal, tuple } = await import('../../activities/io/pickle');
  const dir = path.join(tmp, 'pp');
  const input = path.join(dir, 'in');
  fs.mkdirSync(input, { recursive: true });
  const shape = [4, 6, 6];
  const seg = { data: new Uint8Array(4 * 6 * 6), dtype: 'uint8' as const, shape, geometry: obliqueGeometry() };
  const at = (z: number, y: number, x: number) => (z * 6 + y) * 6 + x;
  for (const [z, y, x] of [[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 1, 1], [3, 5, 5], [2, 0, 5], [2, 1, 5]] as const) seg.data[at(z, y, x)] = 1;
  for (const [z, y, x] of [[3, 0, 0], [3, 0, 1], [0, 5, 5]] as const) seg.data[at(z, y, x)] = 2;
  writeNiftiSync(path.join(input, 'case_0.nii.gz'), seg);
  fs.writeFileSync(path.join(input, 'plans.json'), JSON.stringify({ image_reader_writer: 'SimpleITKIO' }));
  fs.writeFileSync(path.join(input, 'dataset.json'), JSON.stringify({ file_ending: '.nii.gz', labels: { background: 0, a: 1, b: 2 } }));
  const fn = new PyGlobal('nnunetv2.postprocessing.remove_connected_components', 'remove_all_but_largest_component_from_segmentation');
  const pkl = path.join(dir, 'postprocessing.pkl');
  writePickle(pkl, tuple([fn, fn], [new Map([['labels_or_regions', 1]]), new Map([['labels_or_regions', [1, 2]]])]));
  await quiet('nnUNetv2_apply_postprocessing', ['-i', input, '-o', path.join(dir, 'out'), '-pp_pkl_file', pkl]);
  const out = readNiftiSync(path.join(dir, 'out', 'case_0.nii.gz'));
  const kept = [...out.data].flatMap((v, i) => (v === 0 ? [] : [`${i}:${v}`]));
  // Label 1: the corner-touching group (0,0,0) (0,0,1) (0,1,0) (1,1,1) is one component of 4 with full connectivity.
  // Then labels 1 and 2 as one mask: that component is still the largest.
  assert.deepEqual(kept, [at(0, 0, 0), at(0, 0, 1), at(0, 1, 0), at(1, 1, 1)].map((i) => `${i}:1`));
  assert.equal(out.dtype, 'uint8');

  const bad = path.join(dir, 'bad.pkl');
  writePickle(bad, tuple([new PyGlobal('nnunetv2.postprocessing.remove_connected_components', 'something_else')], [new Map()]));
  await assert.rejects(quiet('nnUNetv2_apply_postprocessing', ['-i', input, '-o', path.join(dir, 'o2'), '-pp_pkl_file', bad]), /something_else is not available here/);
  await assert.rejects(quiet('nnUNetv2_apply_postprocessing', ['-i', dir, '-o', path.join(dir, 'o3'), '-pp_pkl_file', pkl]), /plans\.json: no such file/);

  const skip = pythonLacks(['numpy', 'SimpleITK', 'skimage']);
  if (skip) return void console.log(`# skipping the comparison with v2's rule in Python: ${skip}`);
  // v2's remove_all_but_largest_component_from_segmentation (acvl_utils: skimage label, default connectivity).
  const py = runPython(`import sys, numpy as np, SimpleITK as sitk
from skimage.measure import label
seg = sitk.GetArrayFromImage(sitk.ReadImage(sys.argv[1]))
for lr in ([1], [1, 2]):
    mask = np.isin(seg, lr)
    lab = label(mask)
    sizes = {i: int((lab == i).sum()) for i in range(1, lab.max() + 1)}
    keep = [i for i, s in sizes.items() if s == max(sizes.values())]
    seg[mask & ~np.isin(lab, keep)] = 0
print(' '.join(f'{i}:{v}' for i, v in enumerate(seg.ravel()) if v))`, [path.join(input, 'case_0.nii.gz')]);
  assert.deepEqual(kept, py.trim().split(' '));
});
