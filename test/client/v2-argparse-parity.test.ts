/**
 * client/v2-argparse.ts against Python's own argparse: the v2 parser definitions are rebuilt with argparse in Python,
 * and both read the same command lines; the values (or the error message) must agree. Skips without Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseV2Args } from '../../client/v2-argparse';
import { V2_PARSERS } from '../../client/v2-argparse-specs';
import { pythonLacks, runPython } from '../io/python-check';

const CASES: Array<[string, string[]]> = [
  ['nnUNetv2_train', ['4', '3d_fullres', '0']],
  ['nnUNetv2_train', ['Dataset004_X', '2d', 'all', '-tr', 'nnUNetTrainer_5epochs', '--npz', '--c', '-p=nnUNetResEncUNetMPlans', '-num_gpus', '2']],
  ['nnUNetv2_train', ['4', '2d', '0', '--va']],
  ['nnUNetv2_train', ['4', '2d', '0', '--val_b', '-device', 'cpu']],
  ['nnUNetv2_train', ['4', '2d']],
  ['nnUNetv2_train', ['4', '2d', '0', 'extra']],
  ['nnUNetv2_train', ['4', '2d', '0', '-num_gpus', 'x']],
  ['nnUNetv2_predict', ['-i', 'in', '-o', 'out', '-d', '4', '-c', '3d_fullres', '-f', '0', '1', 'all', '-step_size', '0.3', '--save_prob', '-chk', 'checkpoint_best.pth']],
  ['nnUNetv2_predict', ['-i', 'in', '-o', 'out', '-d', '4', '-c', '3d_fullres', '-n', '2']],
  ['nnUNetv2_predict', ['-i', 'in', '-o', 'out']],
  ['nnUNetv2_predict', ['-i', 'in', '-o', 'out', '-d', '4', '-c', '2d', '-step_size', '5e-1']],
  ['nnUNetv2_predict', ['-i', 'in', '-o', 'out', '-d', '4', '-c', '2d', '-step_size', '.5']],
  ['nnUNetv2_predict', ['-i', 'in', '-o', 'out', '-d', '4', '-c', '2d', '-step_size', 'half']],
  ['nnUNetv2_predict_from_modelfolder', ['-i', 'a', '-o', 'b', '-m', 'model', '--c', '-f', '0', '-npp', '1', '-nps', '2']],
  ['nnUNetv2_plan_and_preprocess', ['-d', '4', '5', '-c', '2d', '3d_fullres', '-np', '2', '4', '--verify_dataset_integrity', '-gpu_memory_target', '12.5']],
  ['nnUNetv2_plan_and_preprocess', ['-d4', '-overwrite_target_spacing', '1', '0.5', '0.5']],
  ['nnUNetv2_plan_experiment', ['-d', '4', '-pl', 'nnUNetPlannerResEncM', '-overwrite_plans_name', 'X', '--unknown', 'v']],
  ['nnUNetv2_preprocess', ['-d', '4', '-plans_name', 'P', '-c', '3d_fullres', '--verbose']],
  ['nnUNetv2_extract_fingerprint', ['-d', '4', '-np', '3', '--clean', '--no_pbar']],
  ['nnUNetv2_find_best_configuration', ['4', '-c', '2d', '3d_fullres', '-f', '0', '1', '--disable_ensembling', '--no_overwrite']],
  ['nnUNetv2_find_best_configuration', ['4', '-f', 'a']],
  ['nnUNetv2_ensemble', ['-i', 'a', 'b', '-o', 'c', '--save_npz']],
  ['nnUNetv2_evaluate_folder', ['gt', 'pred', '-djfile', 'd.json', '-pfile', 'p.json', '--chill', '-np', '2']],
  ['nnUNetv2_evaluate_simple', ['gt', 'pred', '-l', '1', '2', '-il', '3']],
  ['nnUNetv2_evaluate_simple', ['-l', '1', '2', 'gt', 'pred']],
  ['nnUNetv2_evaluate_simple', ['gt', 'pred']],
  ['nnUNetv2_export_model_to_zip', ['-d', '4', '-o', 'x.zip', '--not_strict', '-chk', 'checkpoint_final.pth', 'checkpoint_best.pth']],
  ['nnUNetv2_export_model_to_zip', ['-d', '4', '-o', 'x.zip']],
  ['nnUNetv2_convert_MSD_dataset', ['-i', 'Task05_Prostate', '-overwrite_id', '201', '-np', '2']],
  ['nnUNetv2_convert_MSD_dataset', ['-i', 'Task05_Prostate', '-overwrite', '201']],
  ['nnUNetv2_convert_old_nnUNet_dataset', ['/data/Task004_X', 'Dataset004_X']],
  ['nnUNetv2_move_plans_between_datasets', ['-s', '2', '-t', '4', '-sp', 'nnUNetPlans', '-tp', 'nnUNetPlansFrom2']],
  ['nnUNetv2_apply_postprocessing', ['-i', 'a', '-o', 'b', '-pp_pkl_file', 'p.pkl', '-plans_json', 'pl.json']],
  ['nnUNetv2_accumulate_crossval_results', ['4', '-c', '3d_fullres', '-f', '0', '1']],
  ['nnUNetv2_plot_overlay_pngs', ['-d', '4', '-o', 'out', '--use_raw', '-overlay_intensity', '0.5']],
  ['nnUNetv2_download_pretrained_model_by_url', ['https://x/y.zip']],
  ['nnUNetv2_install_pretrained_model_from_zip', []],
  ['nnUNetv2_train_pretrained', ['4', '2d', '11', '-p', 'P']],
  ['nnUNetv2_plan_like_dynamic', ['-d', '4', '-n', 'pre', '--pretrained_checkpoint', 'c.pth', '--plans', 'P']],
];

/** Builds each parser with argparse from the JSON definitions, parses, prints {values} or {error} per case. */
const PY = `import argparse, json, sys, io, contextlib
specs, cases = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def build(prog, spec):
    p = argparse.ArgumentParser(prog=prog)
    for pos in spec['positionals']:
        p.add_argument(pos['name'], **({'choices': pos['choices']} if 'choices' in pos else {}))
    for o in spec['options']:
        kw = {}
        if o['nargs'] == 0:
            kw['action'] = 'store_false' if o.get('storeFalse') else 'store_true'
            if o.get('storeFalse'): kw['default'] = False
        else:
            if o['nargs'] == '+': kw['nargs'] = '+'
            if o.get('type'): kw['type'] = {'int': int, 'float': float}[o['type']]
            if 'default' in o: kw['default'] = o['default']
            if 'choices' in o: kw['choices'] = o['choices']
        if o.get('required'): kw['required'] = True
        p.add_argument(*o['names'], **kw)
    return p
out = []
for prog, argv in cases:
    p = build(prog, specs[prog])
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            if specs[prog].get('knownArgsOnly'):
                ns, unknown = p.parse_known_args(argv)
            else:
                ns, unknown = p.parse_args(argv), []
        out.append({'values': vars(ns), 'unknown': unknown})
    except SystemExit:
        out.append({'error': err.getvalue().strip().splitlines()[-1]})
print(json.dumps(out))`;

test("v2's argparse emulation reads command lines as Python's argparse does (values, unknown tokens, error messages)", { skip: pythonLacks(['argparse']) }, () => {
  const expected = JSON.parse(runPython(PY, [JSON.stringify(V2_PARSERS), JSON.stringify(CASES)])) as Array<{ values?: Record<string, unknown>; unknown?: string[]; error?: string }>;
  CASES.forEach(([prog, argv], i) => {
    const want = expected[i]!;
    let got: typeof want;
    try {
      const r = parseV2Args(prog, V2_PARSERS[prog]!, argv);
      got = { values: r.values, unknown: r.unknown };
    } catch (err) {
      got = { error: (err as Error).message.split('\n').pop() };
    }
    assert.deepEqual(got, want, `${prog} ${argv.join(' ')}`);
  });
});
