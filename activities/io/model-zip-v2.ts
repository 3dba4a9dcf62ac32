/**
 * nnU-Net v2's model zips: member names relative to nnUNet_results, models at
 * DatasetXXX_NAME/<trainer>__<plans>__<configuration>/ (fold_X/checkpoint_final.pth, debug.json, progress.png,
 * validation/summary.json; plans.json, dataset.json, dataset_fingerprint.json, crossval_results_folds_*), matching
 * ensembles under DatasetXXX_NAME/ensembles/ and find_best's inference_information.json/.txt.
 * - export: the files v2's export_pretrained_model puts in the zip, from a v2 results tree.
 * - install: what v2 does (extract over nnUNet_results, replacing files of the same name), after checking every
 *   member first: nothing may leave the results folder or be a link, and everything sits in a DatasetXXX_NAME folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { v2CrossvalFolder, v2EnsemblesFolder, v2FoldFolder, v2InferenceInformationFiles, v2ModelFolder } from './layout';
import { extractZipEntry, listZip, writeZipFromFiles, type ZipEntry } from './zip-archive';

const DATASET_FOLDER = /^Dataset\d{3}_.+$/;

export interface ExportV2Options {
  results: string;
  dataset: string;
  output: string;
  configurations: readonly string[];
  trainer: string;
  plans: string;
  folds: readonly string[];
  /** A configuration without a trained model is an error (else skipped). */
  strict: boolean;
  checkpoints: readonly string[];
  /** The folds' validation predictions and the pooled cross-validation folder too. */
  crossvalPredictions: boolean;
}

const isFile = (f: string): boolean => fs.existsSync(f) && fs.statSync(f).isFile();
const filesIn = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)).filter(isFile) : []);

function required(file: string, what: string): string {
  if (!isFile(file)) throw new BadInputError(`${file}: missing (${what}); the model folder is incomplete`, file);
  return file;
}

function foldFiles(fold: string, opts: ExportV2Options): string[] {
  const out = [path.join(fold, 'debug.json')].filter(isFile);
  for (const chk of opts.checkpoints) out.push(required(path.join(fold, chk), `checkpoint ${chk}`));
  out.push(required(path.join(fold, 'progress.png'), 'the training curve'));
  out.push(...[path.join(fold, 'network_architecture.pdf')].filter(isFile));
  const validation = path.join(fold, 'validation');
  if (opts.crossvalPredictions) out.push(...filesIn(validation).filter((f) => !f.endsWith('.npz') && !f.endsWith('.pkl')));
  else out.push(required(path.join(validation, 'summary.json'), 'the fold\'s validation summary'));
  return out;
}

function modelFiles(model: string, configuration: string, opts: ExportV2Options): string[] {
  const folds = opts.folds.map((f) => v2FoldFolder(model, f));
  const absent = folds.filter((f) => !fs.existsSync(f));
  if (absent.length > 0) throw new BadInputError(`${opts.dataset} ${configuration}: not all requested folds are present (${absent.map((f) => path.basename(f)).join(', ')} missing)`);
  required(path.join(model, 'plans.json'), `plans.json of ${opts.dataset} ${configuration}`);
  const out = folds.flatMap((f) => foldFiles(f, opts));
  const crossval = v2CrossvalFolder(model, opts.folds);
  out.push(...(opts.crossvalPredictions ? filesIn(crossval) : ['summary.json', 'postprocessing.pkl', 'postprocessing.json'].map((f) => path.join(crossval, f)).filter(isFile)));
  for (const f of ['plans.json', 'dataset_fingerprint.json', 'dataset.json']) out.push(required(path.join(model, f), f));
  return out;
}

/** Ensembles whose every member is this trainer and plans with one of the exported configurations. */
function ensembleFiles(opts: ExportV2Options): string[] {
  const dir = v2EnsemblesFolder(opts.results, opts.dataset);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((e) => fs.statSync(path.join(dir, e)).isDirectory()).flatMap((e) => {
    const [, ...models] = e.split('___').slice(0, -1);
    const ok = models.every((m) => {
      const [tr, pl, c] = m.split('__');
      return tr === opts.trainer && pl === opts.plans && opts.configurations.includes(c ?? '');
    });
    if (!ok) return [];
    const folder = path.join(dir, e);
    return opts.crossvalPredictions ? filesIn(folder) : ['summary.json', 'postprocessing.pkl', 'postprocessing.json'].map((f) => path.join(folder, f)).filter(isFile);
  });
}

/** nnUNetv2_export_model_to_zip; returns the member names written. */
export function exportModelZipV2(opts: ExportV2Options): string[] {
  const files: string[] = [];
  for (const c of opts.configurations) {
    const model = v2ModelFolder(opts.results, opts.dataset, opts.trainer, opts.plans, c);
    if (!fs.existsSync(model)) {
      if (opts.strict) throw new BadInputError(`${opts.dataset} is missing the trained model of configuration ${c} (${model}); pass --not_strict to skip it`, model);
      continue;
    }
    files.push(...modelFiles(model, c, opts));
  }
  files.push(...ensembleFiles(opts), ...v2InferenceInformationFiles(opts.results, opts.dataset).filter(isFile));
  if (files.length === 0) throw new BadInputError(`${opts.dataset}: nothing to export: no model of ${opts.trainer}__${opts.plans} for ${opts.configurations.join(', ')} in ${opts.results}`);
  const members = files.map((file) => ({ name: path.relative(opts.results, file).split(path.sep).join('/'), file }));
  writeZipFromFiles(opts.output, members);
  return members.map((m) => m.name);
}

/** Why a member may not be extracted, or undefined. */
function refusal(e: ZipEntry): string | undefined {
  if (e.isSymlink) return 'a symbolic link';
  if (e.name.includes('\\')) return 'a backslash in the name';
  if (e.name.startsWith('/') || /^[A-Za-z]:/.test(e.name)) return 'an absolute path';
  const parts = e.name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return 'a path leaving the results folder (..)';
  if (!DATASET_FOLDER.test(parts[0] ?? '')) return 'not in a DatasetXXX_NAME folder (not an nnU-Net v2 model zip)';
  return undefined;
}

export interface InstallV2Result { datasets: string[]; files: number }

/** nnUNetv2_install_pretrained_model_from_zip: extracts the zip over `results` (nnUNet_results) as v2 does. */
export function installModelZipV2(zipFile: string, results: string): InstallV2Result {
  const entries = listZip(zipFile);
  const problems = entries.map((e) => [e.name, refusal(e)] as const).filter(([, why]) => why !== undefined);
  if (problems.length > 0) {
    throw new BadInputError(`${zipFile}: refusing to install: ${problems.slice(0, 5).map(([n, why]) => `${n}: ${why}`).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`, zipFile);
  }
  const files = entries.filter((e) => !e.isDirectory);
  if (files.length === 0) throw new BadInputError(`${zipFile}: an empty model zip`, zipFile);
  fs.mkdirSync(results, { recursive: true });
  for (const e of files) {
    const target = path.join(results, ...e.name.split('/').filter((p) => p !== '' && p !== '.'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    extractZipEntry(zipFile, e, target);
  }
  return { datasets: [...new Set(files.map((e) => e.name.split('/')[0]!))], files: files.length };
}
