/**
 * Model zips in nnU-Net v1's export layout, member names relative to RESULTS_FOLDER/nnUNet:
 *   <configuration>/<task>/<trainer>__<plans>/fold_N/{model_final_checkpoint.model, .model.pkl, debug.json, progress.png}
 *   <configuration>/<task>/<trainer>__<plans>/{plans.pkl, postprocessing.json}   (plus our plans.json when present)
 *   ensembles/<task>/ensemble_<a>--<b>/postprocessing.json
 * Installing checks every member name first (nothing may leave the folder, no links), extracts into a staging
 * folder, and moves each model or ensemble folder into place whole; an installed folder is replaced only when
 * asked. See docs/interop.md, "Model zips and the pretrained catalog".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIGURATIONS, type Configuration, type Fold, type TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import {
  checkpointFile, checkpointPklFile, CHECKPOINT_NAMES, debugFile, ensemblesFolder, foldFolder, modelFolder, modelPlansFile,
  modelPlansPklFile, networkArchitectureFile, postprocessingFile, progressPlotFile, trainerFor,
} from './layout';
import { extractZipEntry, listZip, writeZipFromFiles, type ZipEntry } from './zip-archive';

const TOP_FOLDERS: readonly string[] = [...CONFIGURATIONS, 'ensembles'];
/** Members sit at least this deep: configuration (or ensembles) / task / model (or ensemble) folder / file. */
const UNIT_DEPTH = 3;

export interface InstallResult {
  /** Model and ensemble folders installed, relative to the results root. */
  installed: string[];
  /** Of those, the ones that replaced an installed folder (only with `overwrite`). */
  replaced: string[];
  files: number;
}

/** The member's path segments, or why it may not be extracted. */
function memberSegments(name: string): string[] | string {
  if (name.includes('\\')) return 'a backslash in the name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return 'a path leaving the results folder (..)';
  if (parts.length === 0) return 'an empty name';
  if (!TOP_FOLDERS.includes(parts[0])) return `not nnU-Net's export layout (the first folder must be one of ${TOP_FOLDERS.join(', ')})`;
  return parts;
}

/** Groups the archive's files by model/ensemble folder, refusing any member that is unsafe or out of layout. */
function planInstall(zipFile: string, entries: readonly ZipEntry[]): Map<string, ZipEntry[]> {
  const units = new Map<string, ZipEntry[]>();
  const problems: string[] = [];
  for (const e of entries) {
    const parts = memberSegments(e.name);
    if (typeof parts === 'string') { problems.push(`${e.name}: ${parts}`); continue; }
    if (e.isSymlink) { problems.push(`${e.name}: a symbolic link`); continue; }
    if (e.isDirectory) continue;
    if (parts.length <= UNIT_DEPTH) { problems.push(`${e.name}: a file outside a model folder (<configuration>/<task>/<trainer>__<plans>/...)`); continue; }
    const unit = parts.slice(0, UNIT_DEPTH).join('/');
    units.set(unit, [...(units.get(unit) ?? []), e]);
  }
  if (problems.length) {
    throw new BadInputError(`${zipFile}: refusing to install: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`, zipFile);
  }
  if (units.size === 0) throw new BadInputError(`${zipFile}: holds no model folder; is it a model zip made by nnUNet_export_model_to_zip?`, zipFile);
  return units;
}

/** nnUNet_install_pretrained_model_from_zip: unzips a model zip into `resultsRoot` (RESULTS_FOLDER/nnUNet). */
export function installModelZip(zipFile: string, resultsRoot: string, opts: { overwrite?: boolean } = {}): InstallResult {
  const units = planInstall(zipFile, listZip(zipFile));
  const existing = [...units.keys()].filter((u) => fs.existsSync(path.join(resultsRoot, u)));
  if (existing.length && !opts.overwrite) {
    throw new BadInputError(`${zipFile}: already installed in ${resultsRoot}: ${existing.join(', ')}; pass --overwrite to replace ${existing.length === 1 ? 'it' : 'them'} (nnU-Net would overwrite silently)`, zipFile);
  }
  fs.mkdirSync(resultsRoot, { recursive: true });
  const staging = fs.mkdtempSync(path.join(resultsRoot, '.tmp-install-'));
  let files = 0;
  try {
    for (const entries of units.values()) {
      for (const e of entries) {
        const target = path.join(staging, ...e.name.split('/').filter((p) => p !== '' && p !== '.'));
        fs.mkdirSync(path.dirname(target), { recursive: true });
        extractZipEntry(zipFile, e, target);
        files++;
      }
    }
    for (const unit of units.keys()) moveIntoPlace(path.join(staging, unit), path.join(resultsRoot, unit));
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { installed: [...units.keys()], replaced: existing, files };
}

/** Renames a complete folder into place; an old one is moved aside first and removed after. */
function moveIntoPlace(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const old = fs.existsSync(to) ? path.join(path.dirname(to), `.tmp-replaced-${path.basename(to)}.${process.pid}`) : undefined;
  if (old) fs.renameSync(to, old);
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if (old) fs.renameSync(old, to);
    throw err;
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

export interface ExportOptions {
  paths: TaskPaths;
  output: string;
  configurations: Configuration[];
  trainer: string;
  cascadeTrainer: string;
  plans: string;
  folds: Fold[];
  /** nnU-Net's default; --disable_strict skips missing configurations and postprocessing.json. */
  strict: boolean;
  /**
   * A results folder (like paths.resultsDir) holding nnU-Net-format copies of the same models, as
   * `nnunet export-nnunet` writes them: a member found there (torch .model, .model.pkl, plans.pkl) is packed
   * instead of ours, so the zip is one nnU-Net v1 can use.
   */
  nnunetCopies?: string;
}

export interface ExportResult { output: string; files: string[]; warnings: string[] }

/** Where a member's bytes come from: the nnU-Net-format copy when there is one, else the file itself. */
function memberSource(file: string, opts: ExportOptions): string {
  if (!opts.nnunetCopies) return file;
  const copy = path.join(opts.nnunetCopies, path.relative(opts.paths.resultsDir, file));
  return fs.existsSync(copy) ? copy : file;
}

const memberExists = (file: string, opts: ExportOptions): boolean => fs.existsSync(memberSource(file, opts));

/** The files of one fold: nnU-Net's list; in strict mode every one it copies must be there. */
function foldMembers(fold: string, opts: ExportOptions, warnings: string[]): string[] {
  const strict = opts.strict;
  const checkpoint = checkpointFile(fold, CHECKPOINT_NAMES.final);
  const required = [debugFile(fold), checkpoint, progressPlotFile(fold)];
  const missing = required.filter((f) => !fs.existsSync(f));
  if (!fs.existsSync(checkpoint) || (strict && missing.length)) {
    throw new BadInputError(`${fold}: missing ${missing.map((f) => path.basename(f)).join(', ')}; train the fold to the end${strict ? ' or pass --disable_strict' : ''}`, fold);
  }
  if (!memberExists(checkpointPklFile(checkpoint), opts)) {
    warnings.push(`${fold}: no ${path.basename(checkpointPklFile(checkpoint))}: nnunet-ts can use this model, nnU-Net v1 cannot (export it with \`nnunet export-nnunet\` first)`);
  }
  return [...required, checkpointPklFile(checkpoint), networkArchitectureFile(fold)].filter((f) => memberExists(f, opts));
}

function modelMembers(model: string, c: Configuration, opts: ExportOptions, warnings: string[]): string[] {
  const missingFolds = opts.folds.filter((f) => !fs.existsSync(foldFolder(model, f)));
  if (missingFolds.length) throw new BadInputError(`${model}: not all requested folds present (missing ${missingFolds.join(', ')}); pass -f with the folds it has`, model);
  const plans = [modelPlansPklFile(model), modelPlansFile(model)].filter((f) => memberExists(f, opts));
  if (plans.length === 0) throw new BadInputError(`${model}: plans.pkl (or our plans.json) missing, Task ${opts.paths.taskName} model ${c}`, model);
  const pp = postprocessingFile(model);
  if (!fs.existsSync(pp)) {
    if (opts.strict) throw new BadInputError(`${pp}: missing; run nnUNet_determine_postprocessing (or find-best) or pass --disable_strict`, model);
    warnings.push(`${model}: postprocessing.json missing`);
  }
  return [...opts.folds.flatMap((f) => foldMembers(foldFolder(model, f), opts, warnings)), ...plans, ...(fs.existsSync(pp) ? [pp] : [])];
}

/** ensemble_<cfg>__<trainer>__<plans>--<cfg>__<trainer>__<plans> folders made of exported models only (nnU-Net's check_if_valid). */
function ensembleMembers(opts: ExportOptions): string[] {
  const dir = ensemblesFolder(opts.paths);
  if (!fs.existsSync(dir)) return [];
  const valid = (member: string) => {
    const [c, tr, pl] = member.split('__');
    return (opts.configurations as string[]).includes(c) && [opts.trainer, opts.cascadeTrainer].includes(tr) && pl === opts.plans;
  };
  return fs.readdirSync(dir).filter((d) => d.startsWith('ensemble_') && d.slice('ensemble_'.length).split('--').every(valid))
    .map((d) => postprocessingFile(path.join(dir, d))).filter((f) => fs.existsSync(f)).sort();
}

/** nnUNet_export_model_to_zip: the task's models (and their ensembles' postprocessing) as nnU-Net lays them out. */
export function exportModelZip(opts: ExportOptions): ExportResult {
  const root = opts.paths.resultsDir;
  const warnings: string[] = [];
  const files: string[] = [];
  for (const c of opts.configurations) {
    const model = modelFolder(opts.paths, c, trainerFor(c, opts.trainer, opts.cascadeTrainer), opts.plans);
    if (!fs.existsSync(model)) {
      if (opts.strict) throw new BadInputError(`Task ${opts.paths.taskName} is missing the model ${c} (${model}); leave it out of -m or pass --disable_strict`, model);
      warnings.push(`${c}: no model at ${model}, skipped`);
      continue;
    }
    files.push(...modelMembers(model, c, opts, warnings));
  }
  if (files.length === 0) throw new BadInputError(`Task ${opts.paths.taskName}: none of ${opts.configurations.join(', ')} is trained under ${root}; nothing to export`, root);
  files.push(...ensembleMembers(opts));
  writeZipFromFiles(opts.output, files.map((f) => ({ name: path.relative(root, f).split(path.sep).join('/'), file: memberSource(f, opts) })));
  return { output: opts.output, files: files.map((f) => path.relative(root, f)), warnings };
}
