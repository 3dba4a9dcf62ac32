/**
 * `nnunet move-to-v2`: an nnunet-ts v1 task's trained models and cross-validation results placed into nnU-Net
 * v2's tree, where v2's commands look for them:
 * - nnUNet_raw/DatasetXXX_Name: the raw task converted as nnUNetv2_convert_old_nnUNet_dataset does (kept when it
 *   exists already);
 * - nnUNet_preprocessed/DatasetXXX_Name: dataset.json, gt_segmentations (the raw labels, as v2's preprocessing
 *   copies them) and the v1 splits_final.json (same JSON form in v2), each only where missing;
 * - nnUNet_results/DatasetXXX_Name/<trainer>__<plans identifier>__<configuration>: the v1 model folder, every file
 *   hard-linked (copied across file systems), plus the v2 dataset.json, a marker naming it a v1 model, and per
 *   fold `validation/` holding the fold's validation_raw segmentations (what accumulate_crossval_results and
 *   find_best_configuration read).
 * Nothing in the v1 tree is changed: files are linked or copied, and files written into the v2 folder replace a
 * link by rename, never through it. Each model folder is built under a temporary name and renamed into place;
 * an existing one is refused unless `force`.
 * A v1 network (Generic_UNet) is not a v2 network: nnunetv2 cannot load these folders; nnunet-ts's v2 prediction
 * recognises the marker and predicts them with the v1 method (docs/interop.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIGURATIONS, type TaskPaths } from '../contract';
import { writeDirAtomic, writeJsonAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { convertOldTaskToV2 } from './convert-v2';
import {
  datasetJsonFile, gtSegmentationsFolder, rawLabelsFolder, RESULT_FOLDERS, splitsFile, v1ModelMarkerFile, v2ModelFolder, v2ValidationFolder,
} from './layout';

/** What the marker file of a moved v1 model folder records. */
export interface V1ModelMarker {
  method: 'nnU-Net v1';
  network: 'Generic_UNet';
  task: string;
  configuration: string;
  trainer: string;
  plans_identifier: string;
  /** The v1 model folder it was moved from. */
  source: string;
}

export interface MoveToV2Input {
  task: TaskPaths;
  /** DatasetXXX_Name. */
  datasetName: string;
  rawRoot: string;
  preprocessedRoot: string;
  resultsRoot: string;
  /** Replace existing v2 model folders of the same name. */
  force?: boolean;
}

export interface MovedModel { from: string; to: string; folds: string[]; validationCases: number }
export interface MoveToV2Result { rawDir: string; rawConverted: boolean; preprocessedDir: string; models: MovedModel[] }

const V2_DATASET_NAME = /^Dataset\d{3}_.+$/;

/** The moved v1 model's marker, or undefined for any other folder. */
export function readV1ModelMarker(modelDir: string): V1ModelMarker | undefined {
  const file = v1ModelMarkerFile(modelDir);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as V1ModelMarker;
  } catch (err) {
    throw new BadInputError(`${file}: unreadable (${(err as Error).message}); move the model again with nnunet move-to-v2 --force`, file);
  }
}

/** The v1 model folders of a task: <results>/nnUNet/<configuration>/<task>/<trainer>__<plans identifier>. */
function v1Models(task: TaskPaths): Array<{ dir: string; configuration: string; trainer: string; plans: string }> {
  return CONFIGURATIONS.flatMap((configuration) => {
    const base = path.join(task.resultsDir, configuration, task.taskName);
    if (!fs.existsSync(base)) return [];
    return fs.readdirSync(base).flatMap((name) => {
      const m = /^(.+?)__(.+)$/.exec(name);
      const dir = path.join(base, name);
      return m && fs.statSync(dir).isDirectory() ? [{ dir, configuration, trainer: m[1]!, plans: m[2]! }] : [];
    });
  });
}

/** A hard link of `src` at `dst`, or a copy where links are not possible (another file system). */
function linkOrCopy(src: string, dst: string): void {
  try {
    fs.linkSync(src, dst);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
    fs.copyFileSync(src, dst);
  }
}

function linkTree(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (e.isDirectory()) linkTree(path.join(src, e.name), path.join(dst, e.name));
    else if (e.isFile()) linkOrCopy(path.join(src, e.name), path.join(dst, e.name));
  }
}

/** Per fold, validation/ with the fold's validation_raw segmentations (not v1's summary.json or softmax .npz). */
function linkValidations(modelDir: string, fileEnding: string): { folds: string[]; cases: number } {
  const folds = fs.readdirSync(modelDir).filter((d) => /^fold_\d+$|^all$/.test(d)).sort();
  let cases = 0;
  for (const fold of folds) {
    const raw = path.join(modelDir, fold, RESULT_FOLDERS.validation);
    if (!fs.existsSync(raw)) continue;
    const out = v2ValidationFolder(path.join(modelDir, fold));
    fs.mkdirSync(out, { recursive: true });
    for (const f of fs.readdirSync(raw).filter((n) => n.endsWith(fileEnding))) {
      linkOrCopy(path.join(raw, f), path.join(out, f));
      cases++;
    }
  }
  return { folds, cases };
}

function linkMissing(srcDir: string, dstDir: string): void {
  if (!fs.existsSync(srcDir)) return;
  fs.mkdirSync(dstDir, { recursive: true });
  for (const f of fs.readdirSync(srcDir)) {
    if (!fs.existsSync(path.join(dstDir, f)) && fs.statSync(path.join(srcDir, f)).isFile()) linkOrCopy(path.join(srcDir, f), path.join(dstDir, f));
  }
}

function preparePreprocessed(input: MoveToV2Input, rawDir: string): string {
  const dir = path.join(input.preprocessedRoot, input.datasetName);
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(datasetJsonFile(dir))) linkOrCopy(datasetJsonFile(rawDir), datasetJsonFile(dir));
  linkMissing(rawLabelsFolder(rawDir), gtSegmentationsFolder(dir));
  const splits = splitsFile(input.task);
  const target = splitsFile({ preprocessedDir: dir });
  if (fs.existsSync(splits) && !fs.existsSync(target)) linkOrCopy(splits, target);
  return dir;
}

export async function moveTaskToV2(input: MoveToV2Input): Promise<MoveToV2Result> {
  if (!V2_DATASET_NAME.test(input.datasetName)) throw new BadInputError(`${input.datasetName}: a v2 dataset name is DatasetXXX_Name (three digits), e.g. Dataset004_Hippocampus`);
  const models = v1Models(input.task);
  if (models.length === 0) throw new BadInputError(`${input.task.resultsDir}: no trained model folders of ${input.task.taskName} (<configuration>/${input.task.taskName}/<trainer>__<plans>); train the task first`, input.task.resultsDir);
  const targets = models.map((m) => v2ModelFolder(input.resultsRoot, input.datasetName, m.trainer, m.plans, m.configuration));
  const existing = targets.filter((t) => fs.existsSync(t));
  if (existing.length > 0 && !input.force) {
    throw new BadInputError(`${existing.join(', ')}: already in the v2 tree; nothing was changed. Pass --force to replace ${existing.length === 1 ? 'it' : 'them'}`, existing[0]);
  }
  const rawDir = path.join(input.rawRoot, input.datasetName);
  const rawConverted = !fs.existsSync(rawDir);
  if (rawConverted) await convertOldTaskToV2(input.task.rawDir, input.datasetName, input.rawRoot);
  const datasetJson = JSON.parse(fs.readFileSync(datasetJsonFile(rawDir), 'utf8')) as { file_ending: string };
  const preprocessedDir = preparePreprocessed(input, rawDir);
  const moved: MovedModel[] = [];
  for (const [i, m] of models.entries()) {
    let linked = { folds: [] as string[], cases: 0 };
    await writeDirAtomic(targets[i]!, (tmp) => {
      linkTree(m.dir, tmp);
      // written by rename: a hard-linked dataset.json of the v1 folder is replaced, not written through
      writeJsonAtomic(datasetJsonFile(tmp), datasetJson);
      const marker: V1ModelMarker = {
        method: 'nnU-Net v1', network: 'Generic_UNet', task: input.task.taskName, configuration: m.configuration, trainer: m.trainer, plans_identifier: m.plans, source: m.dir,
      };
      writeJsonAtomic(v1ModelMarkerFile(tmp), marker);
      linked = linkValidations(tmp, datasetJson.file_ending);
    });
    moved.push({ from: m.dir, to: targets[i]!, folds: linked.folds, validationCases: linked.cases });
  }
  return { rawDir, rawConverted, preprocessedDir, models: moved };
}
