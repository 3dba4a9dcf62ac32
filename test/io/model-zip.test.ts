/**
 * Model zips: export writes nnU-Net's layout (the member list nnU-Net v1's own export writes for the same folder,
 * when Python has nnU-Net), install puts it back byte for byte, refuses unsafe or foreign members and existing
 * models (unless --overwrite), and leaves nothing behind when an archive is damaged.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import type { Configuration, Fold, TaskPaths } from '../../activities/contract';
import { exportModelZip, installModelZip } from '../../activities/io/model-zip';
import { listZip } from '../../activities/io/zip-archive';
import { binShim, runCli } from '../client/cli-helpers';
import { pythonLacks, runPython } from './python-check';

const TASK = 'Task099_ZipFixture';
const MODEL = 'nnUNetTrainerV2__nnUNetPlansv2.1';
const ENSEMBLE = `ensemble_2d__${MODEL}--3d_fullres__${MODEL}`;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'model-zip-'));

function write(file: string, content: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** A results root with 2d and 3d_fullres models (folds 0 and 1), an ensemble and a stray folder export must skip. */
function makeResults(root: string): TaskPaths {
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24; // 3 MB: several read chunks
  for (const c of ['2d', '3d_fullres']) {
    const model = path.join(root, c, TASK, MODEL);
    for (const f of ['fold_0', 'fold_1']) {
      write(path.join(model, f, 'model_final_checkpoint.model'), c === '2d' && f === 'fold_0' ? big : `weights ${c} ${f}`);
      write(path.join(model, f, 'model_final_checkpoint.model.pkl'), `pkl ${c} ${f}`);
      write(path.join(model, f, 'debug.json'), '{}');
      write(path.join(model, f, 'progress.png'), 'png');
      write(path.join(model, f, 'model_latest.model'), 'not exported');
      write(path.join(model, f, 'validation_raw', 'summary.json'), 'not exported');
    }
    write(path.join(model, 'plans.pkl'), `plans ${c}`);
    write(path.join(model, 'postprocessing.json'), '{}');
  }
  write(path.join(root, 'ensembles', TASK, ENSEMBLE, 'postprocessing.json'), '{"ens": 1}');
  write(path.join(root, 'ensembles', TASK, `ensemble_2d__Other__x--3d_fullres__${MODEL}`, 'postprocessing.json'), '{}');
  return { taskName: TASK, rawDir: path.join(root, 'raw', TASK), croppedDir: '', preprocessedDir: '', resultsDir: root };
}

const exportOpts = (paths: TaskPaths, output: string, configurations: Configuration[] = ['2d', '3d_fullres'], folds: Fold[] = [0, 1]) => ({
  paths, output, configurations, folds, trainer: 'nnUNetTrainerV2', cascadeTrainer: 'nnUNetTrainerV2CascadeFullRes', plans: 'nnUNetPlansv2.1', strict: true,
});

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name))).sort();
}

const EXPECTED = [
  ...['2d', '3d_fullres'].flatMap((c) => [
    ...['fold_0', 'fold_1'].flatMap((f) => ['debug.json', 'model_final_checkpoint.model', 'model_final_checkpoint.model.pkl', 'progress.png'].map((n) => `${c}/${TASK}/${MODEL}/${f}/${n}`)),
    `${c}/${TASK}/${MODEL}/plans.pkl`, `${c}/${TASK}/${MODEL}/postprocessing.json`,
  ]),
  `ensembles/${TASK}/${ENSEMBLE}/postprocessing.json`,
].sort();

test("export writes nnU-Net's layout; install restores it byte for byte; an installed model is replaced only with overwrite", () => {
  const dir = tmp();
  const src = path.join(dir, 'src');
  const paths = makeResults(src);
  const zip = path.join(dir, 'Task099.zip');
  const r = exportModelZip(exportOpts(paths, zip));
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(listZip(zip).map((e) => e.name).sort(), EXPECTED);

  const dst = path.join(dir, 'dst');
  const installed = installModelZip(zip, dst);
  assert.deepEqual(installed.installed.sort(), [`2d/${TASK}/${MODEL}`, `3d_fullres/${TASK}/${MODEL}`, `ensembles/${TASK}/${ENSEMBLE}`]);
  assert.deepEqual(filesUnder(dst), EXPECTED);
  for (const f of EXPECTED) assert.ok(fs.readFileSync(path.join(src, f)).equals(fs.readFileSync(path.join(dst, f))), f);

  assert.throws(() => installModelZip(zip, dst), /already installed in .*2d\/Task099_ZipFixture\/nnUNetTrainerV2__nnUNetPlansv2\.1.*pass --overwrite/);
  write(path.join(dst, '2d', TASK, MODEL, 'fold_0', 'stale.txt'), 'old');
  const again = installModelZip(zip, dst, { overwrite: true });
  assert.equal(again.replaced.length, 3);
  assert.deepEqual(filesUnder(dst), EXPECTED, 'the replaced folder is the archive\'s, nothing stale stays');
  assert.deepEqual(fs.readdirSync(dst).filter((d) => d.startsWith('.tmp')), [], 'no staging left');
});

test('export: a missing model or fold is an error in strict mode, a warning with --disable_strict', () => {
  const dir = tmp();
  const paths = makeResults(path.join(dir, 'src'));
  const zip = path.join(dir, 'out.zip');
  assert.throws(() => exportModelZip(exportOpts(paths, zip, ['2d', '3d_lowres'])), /Task099_ZipFixture is missing the model 3d_lowres/);
  assert.throws(() => exportModelZip(exportOpts(paths, zip, ['2d'], [0, 2])), /not all requested folds present \(missing 2\)/);
  fs.rmSync(path.join(paths.resultsDir, '2d', TASK, MODEL, 'postprocessing.json'));
  assert.throws(() => exportModelZip(exportOpts(paths, zip, ['2d'])), /postprocessing\.json: missing; run nnUNet_determine_postprocessing/);
  const loose = exportModelZip({ ...exportOpts(paths, zip, ['2d', '3d_lowres']), strict: false });
  assert.match(loose.warnings.join('\n'), /3d_lowres: no model/);
  assert.match(loose.warnings.join('\n'), /postprocessing\.json missing/);
  assert.ok(!fs.existsSync(path.join(dir, 'nothing.zip')));
});

test('install refuses members that leave the folder, links, foreign layouts and damaged archives, writing nothing', () => {
  const dir = tmp();
  const dst = path.join(dir, 'results');
  const zipOf = (name: string, members: Record<string, Uint8Array | [Uint8Array, { attrs: number; os: number }]>) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, zipSync(members as Parameters<typeof zipSync>[0]));
    return file;
  };
  const ok = new TextEncoder().encode('x');
  const good = `2d/${TASK}/${MODEL}/plans.pkl`;
  for (const [name, member, why] of [
    ['up.zip', `2d/${TASK}/../../../evil.txt`, /leaving the results folder/],
    ['abs.zip', '/etc/evil', /absolute path/],
    ['foreign.zip', 'Task099/fold_0/model.model', /not nnU-Net's export layout/],
    ['shallow.zip', `2d/${TASK}/plans.pkl`, /outside a model folder/],
  ] as const) {
    assert.throws(() => installModelZip(zipOf(name, { [good]: ok, [member]: ok }), dst), why, name);
  }
  const link = zipOf('link.zip', { [good]: ok, [`2d/${TASK}/${MODEL}/fold_0/l`]: [ok, { attrs: (0o120777 << 16) >>> 0, os: 3 }] });
  assert.throws(() => installModelZip(link, dst), /symbolic link/);

  const valid = fs.readFileSync(zipOf('valid.zip', { [good]: new Uint8Array(5000).fill(7) }));
  const truncated = path.join(dir, 'truncated.zip');
  fs.writeFileSync(truncated, valid.subarray(0, valid.length - 30));
  assert.throws(() => installModelZip(truncated, dst), /truncated\.zip: not a readable zip archive/);
  const corrupt = Buffer.from(valid);
  corrupt[30 + good.length + 3] ^= 0xff; // inside the deflated data, after the local header and name
  const corruptFile = path.join(dir, 'corrupt.zip');
  fs.writeFileSync(corruptFile, corrupt);
  assert.throws(() => installModelZip(corruptFile, dst), /corrupt\.zip: not a readable zip archive/);
  assert.deepEqual(fs.existsSync(dst) ? filesUnder(dst) : [], [], 'nothing installed');
  assert.deepEqual(fs.existsSync(dst) ? fs.readdirSync(dst) : [], [], 'no staging folder left');
});

const lacks = pythonLacks(['zipfile', 'nnunet.inference.pretrained_models.collect_pretrained_models']);
test("nnU-Net v1's own export of the same folder lists the same members, and its installer reads our zip", { skip: lacks }, () => {
  const dir = tmp();
  const src = path.join(dir, 'results', 'nnUNet');
  const paths = makeResults(src);
  const ours = path.join(dir, 'ours.zip');
  exportModelZip(exportOpts(paths, ours));
  const theirs = path.join(dir, 'theirs.zip');
  const installed = path.join(dir, 'installed');
  const out = runPython(`
import os, sys, json, zipfile
os.environ['RESULTS_FOLDER'] = sys.argv[1]
from nnunet.inference.pretrained_models import collect_pretrained_models as c, download_pretrained_model as d
c.export_pretrained_model('${TASK}', sys.argv[2], ('2d', '3d_fullres'), folds=(0, 1), strict=True)
d.network_training_output_dir = sys.argv[4]
d.install_model_from_zip_file(sys.argv[3])
print('NAMES', json.dumps(sorted(zipfile.ZipFile(sys.argv[2]).namelist())))
`, [path.dirname(src), theirs, ours, installed]);
  const names = JSON.parse(out.split('\n').find((l) => l.startsWith('NAMES '))!.slice(6)) as string[];
  assert.deepEqual(names, EXPECTED);
  assert.deepEqual(filesUnder(installed), EXPECTED, "nnU-Net's installer unpacks our zip into the same tree");
  assert.deepEqual(installModelZip(theirs, path.join(dir, 'back')).installed.length, 3, "we install nnU-Net's zip");
});

test('nnUNet_export_model_to_zip and nnUNet_install_pretrained_model_from_zip take nnU-Net\'s flags', () => {
  const dir = tmp();
  makeResults(path.join(dir, 'results', 'nnUNet'));
  const zip = path.join(dir, 'out.zip');
  const env = { RESULTS_FOLDER: path.join(dir, 'results'), nnUNet_raw_data_base: path.join(dir, 'raw'), nnUNet_preprocessed: path.join(dir, 'pp') };
  const exported = runCli(['-t', '99', '-o', zip, '-m', '2d', '3d_fullres', '-f', '0', '1', '-tr', 'nnUNetTrainerV2', '-pl', 'nnUNetPlansv2.1'], { script: binShim('nnUNet_export_model_to_zip'), env });
  assert.equal(exported.status, 0, exported.stderr);
  assert.deepEqual(listZip(zip).map((e) => e.name).sort(), EXPECTED);
  const strict = runCli(['-t', '99', '-o', zip, '-f', '0', '1'], { script: binShim('nnUNet_export_model_to_zip'), env });
  assert.equal(strict.status, 1);
  assert.match(strict.stderr, /missing the model 3d_lowres/, "nnU-Net's default -m includes 3d_lowres; strict refuses");
  const target = { RESULTS_FOLDER: path.join(dir, 'other') };
  const installed = runCli([zip], { script: binShim('nnUNet_install_pretrained_model_from_zip'), env: target });
  assert.equal(installed.status, 0, installed.stderr);
  assert.deepEqual(filesUnder(path.join(dir, 'other', 'nnUNet')), EXPECTED);
  const usage = runCli([], { script: binShim('nnUNet_install_pretrained_model_from_zip'), env: target });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: nnUNet_install_pretrained_model_from_zip ZIP/);
});
