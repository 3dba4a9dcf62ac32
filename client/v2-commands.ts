/**
 * The nnU-Net v2 entry points nnunet-ts runs with v2's meaning (client/v2-aliases.ts dispatches to them): dataset
 * conversion, experiment planning from an existing dataset_fingerprint.json, evaluation into v2's summary.json and
 * moving plans between datasets. Each takes argparse's values (client/v2-argparse.ts) and the loaded config.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import { BadInputError } from '../activities/common/errors';
import { writeFileAtomic } from '../activities/common/atomic';
import { convertMsdToV2, convertOldTaskToV2, pythonJsonText } from '../activities/io/convert-v2';
import {
  datasetJsonFile, modelPlansFile, v2DownloadedZipFile, datasetFingerprintFile, plansV2File, gtSegmentationsFolder, rawLabelsFolder, v2CrossvalFolder, v2ModelFolder,
} from '../activities/io/layout';
import { accumulateCrossvalV2 } from '../activities/evaluation/accumulate-cv-v2';
import { exportModelZipV2, installModelZipV2 } from '../activities/io/model-zip-v2';
import { evaluateFolderV2, labelsFromDatasetJson, type LabelOrRegion } from '../activities/evaluation/summary-v2';
import { isReaderWriterName, readerWriterName, type ImageFormatSpec } from '../activities/io/image-formats/registry';
import { READER_WRITER_NAMES } from '../activities/io/image-formats/reader-writer';
import { readPostprocessingPklV2 } from '../activities/postprocessing/v2-rules';
import { applyPostprocessingFolderV2, determinePostprocessingV2 } from '../activities/postprocessing/determine-v2';
import { ensembleFoldersV2 } from '../activities/ensembling/ensemble-folders-v2';
import { findBestConfigurationV2 } from '../activities/ensembling/find-best-v2';
import { planDatasetV2 } from '../activities/planning/v2/plan-dataset';
import { isPlannerV2, plannerNamesV2 } from '../activities/planning/v2/presets';
import { movePlans, readerWriterFor, type PlansJson } from '../activities/planning/v2/move-plans';
import type { V2Args, V2Value } from './v2-argparse';
import { UsageError } from './context';
import { resolveTask, type TaskRef } from './task-ref';

export type V2Handler = (prog: string, args: V2Args, config: Config) => Promise<void>;

/** A v2 command (or step of one) nnunet-ts cannot run yet: exit code 2, after the full parse. */
export class V2NotAvailable extends Error {
  readonly exitCode = 2;
}

/** nnUNet_raw: where v2 Dataset folders live (nnUNet_raw, else nnUNet_raw_data_base). */
const rawRoot = (config: Config): string => config.paths.raw ?? config.paths.rawDataBase;

const str = (v: V2Value): string | undefined => (v === null || v === undefined ? undefined : String(v));
const list = (v: V2Value): Array<string | number> => (Array.isArray(v) ? v : v === null || v === false ? [] : [v as string | number]);

function readJsonFile(file: string, what: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: no such file (${what})`, file);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new BadInputError(`${file}: not valid JSON (${(err as Error).message})`, file);
  }
}

/** A v2 dataset by id or DatasetXXX_NAME (v2's maybe_convert_to_dataset_name); v1 Task folders are pointed to the converter. */
export function resolveDataset(config: Config, spec: string | number): TaskRef {
  // v2 looks for DatasetXXX_ folders only: a bare id names the one Dataset of that id even beside a v1 Task of
  // the same id (as after nnunet move-to-v2)
  const datasets = /^\d{1,3}$/.test(String(spec)) ? [...new Set(foldersWithId(config, Number(spec)).map((d) => path.basename(d)))] : [];
  const ref = resolveTask(config, datasets.length === 1 ? datasets[0]! : String(spec));
  if (!ref.paths.taskName.startsWith('Dataset')) {
    throw new UsageError(`${spec} is the nnU-Net v1 task ${ref.paths.taskName}; nnU-Net v2's commands work on DatasetXXX_NAME folders: ` +
      `convert it with nnUNetv2_convert_old_nnUNet_dataset ${ref.paths.rawDir} Dataset${ref.paths.taskName.slice(4)}`);
  }
  return ref;
}

/** The folders holding a DatasetXXX_ of this id (v2's find_candidate_datasets: raw, preprocessed, results). */
export function foldersWithId(config: Config, id: number): string[] {
  const prefix = `Dataset${String(id).padStart(3, '0')}_`;
  const roots = [rawRoot(config), config.paths.preprocessed, config.paths.results];
  return roots.flatMap((root) => (fs.existsSync(root) ? fs.readdirSync(root).filter((d) => d.startsWith(prefix)).map((d) => path.join(root, d)) : []));
}

export const convertMsdDataset: V2Handler = async (prog, args, config) => {
  const overwriteId = args.values.overwrite_id === null ? undefined : Number(args.values.overwrite_id);
  const r = await convertMsdToV2(String(args.values.i), rawRoot(config), overwriteId, (id) => foldersWithId(config, id));
  console.log(`${prog}: ${r.datasetName} -> ${r.outDir}`);
};

export const convertOldDataset: V2Handler = async (prog, args, config) => {
  const r = await convertOldTaskToV2(String(args.values.input_folder), String(args.values.output_dataset_name), rawRoot(config));
  console.log(`${prog}: ${r.datasetName} -> ${r.outDir}`);
};

function targetSpacing(values: Array<string | number>): number[] | undefined {
  if (values.length === 0) return undefined;
  const spacing = values.map(Number);
  if (spacing.length !== 3 || !spacing.every((n) => Number.isFinite(n) && n > 0)) {
    throw new UsageError(`-overwrite_target_spacing takes three positive numbers, got ${values.join(' ')}`);
  }
  return spacing;
}

function datasetIds(prog: string, args: V2Args): Array<string | number> {
  const ids = list(args.values.d);
  if (ids.length === 0) throw new UsageError(`${prog}: -d is required (the dataset ids, e.g. -d 4)`);
  return ids;
}

/**
 * plan_experiments: v2's planner on each dataset's fingerprint; writes <plans name>.json and, as v2's planner, a copy
 * of the raw dataset.json into nnUNet_preprocessed/DatasetXXX/. Returns each dataset with its plans name.
 */
export async function planDatasets(prog: string, args: V2Args, config: Config): Promise<Array<{ paths: TaskRef['paths']; plansName: string }>> {
  const ids = datasetIds(prog, args);
  const planner = String(args.values.pl);
  if (!isPlannerV2(planner)) throw new UsageError(`${prog}: unknown planner ${planner}; known: ${plannerNamesV2().join(', ')}`);
  const planned = [];
  for (const id of ids) {
    const { paths } = resolveDataset(config, id);
    const fingerprintFile = datasetFingerprintFile(paths.preprocessedDir);
    if (!fs.existsSync(fingerprintFile)) throw new BadInputError(`${fingerprintFile}: no dataset fingerprint; run nnUNetv2_extract_fingerprint -d ${String(id)} first`, fingerprintFile);
    const { plansFile: out, plans } = planDatasetV2(paths, {
      planner,
      gpuMemoryTargetGb: args.values.gpu_memory_target === null ? undefined : Number(args.values.gpu_memory_target),
      preprocessorName: String(args.values.preprocessor_name),
      overwriteTargetSpacing: targetSpacing(list(args.values.overwrite_target_spacing)),
      plansName: str(args.values.overwrite_plans_name),
    });
    console.log(`${prog}: ${paths.taskName}: ${planner} -> ${out} (configurations ${Object.keys(plans.configurations).join(', ')})`);
    planned.push({ paths, plansName: String(plans.plans_name) });
  }
  return planned;
}

export const planExperiment: V2Handler = async (prog, args, config) => {
  await planDatasets(prog, args, config);
};

async function evaluate(prog: string, args: V2Args, fileEnding: string, labels: LabelOrRegion[], ignoreLabel: number | undefined): Promise<void> {
  const { summary, outputFile } = await evaluateFolderV2({
    referenceDir: String(args.values.gt_folder),
    predictionDir: String(args.values.pred_folder),
    fileEnding,
    labelsOrRegions: labels,
    ignoreLabel,
    chill: args.values.chill === true,
    outputFile: str(args.values.o),
    concurrency: Math.max(1, Math.min(Number(args.values.np), 4)),
  });
  console.log(`${prog}: ${summary.metric_per_case.length} cases, foreground mean Dice ${summary.foreground_mean.Dice.toFixed(4)} -> ${outputFile}`);
}

export const evaluateFolder: V2Handler = async (prog, args) => {
  const djfile = String(args.values.djfile);
  const dataset = readJsonFile(djfile, 'the dataset.json given with -djfile');
  const plans = readJsonFile(String(args.values.pfile), 'the plans file given with -pfile');
  if (plans.label_manager !== undefined && plans.label_manager !== 'LabelManager') {
    throw new BadInputError(`${String(args.values.pfile)}: label manager ${String(plans.label_manager)} is not available in nnunet-ts (only LabelManager)`);
  }
  if (typeof dataset.file_ending !== 'string' || typeof dataset.labels !== 'object' || dataset.labels === null) {
    throw new BadInputError(`${djfile}: a v2 dataset.json needs "file_ending" and "labels" (name -> value); convert a v1 one with nnUNetv2_convert_old_nnUNet_dataset`, djfile);
  }
  const { labelsOrRegions, ignoreLabel } = labelsFromDatasetJson(dataset.labels as Record<string, number | number[]>, djfile);
  await evaluate(prog, args, dataset.file_ending, labelsOrRegions, ignoreLabel);
};

export const evaluateSimple: V2Handler = async (prog, args) => {
  const gt = String(args.values.gt_folder);
  const first = fs.existsSync(gt) ? fs.readdirSync(gt).filter((f) => fs.statSync(path.join(gt, f)).isFile()).sort()[0] : undefined;
  if (first === undefined) throw new BadInputError(`${gt}: no reference files (or no such folder)`, gt);
  // v2 takes the extension of the first reference file: '.gz' for case.nii.gz.
  const ending = path.extname(first);
  const ignore = args.values.il === null ? undefined : Number(args.values.il);
  await evaluate(prog, args, ending, list(args.values.l).map(Number), ignore);
};

export const movePlansBetweenDatasets: V2Handler = async (prog, args, config) => {
  const source = resolveDataset(config, String(args.values.s)).paths;
  const target = resolveDataset(config, String(args.values.t)).paths;
  const sourcePlans = String(args.values.sp);
  const targetPlans = str(args.values.tp) ?? sourcePlans;
  if (!fs.existsSync(source.preprocessedDir)) {
    throw new BadInputError(`${source.preprocessedDir}: the preprocessed folder of the source dataset is missing; plan the source dataset first`, source.preprocessedDir);
  }
  const plans = readJsonFile(plansV2File(source.preprocessedDir, sourcePlans), 'the source plans; run the experiment planning first') as PlansJson;
  const targetJson = readJsonFile(datasetJsonFile(target.rawDir), 'the target dataset.json');
  const ending = String(targetJson.file_ending ?? '');
  const rw = typeof targetJson.overwrite_image_reader_writer === 'string' ? targetJson.overwrite_image_reader_writer : readerWriterFor(ending);
  if (!rw) throw new BadInputError(`${datasetJsonFile(target.rawDir)}: no image reader/writer reads "${ending}" files`);
  const out = plansV2File(target.preprocessedDir, targetPlans);
  fs.mkdirSync(target.preprocessedDir, { recursive: true });
  writeFileAtomic(out, pythonJsonText(movePlans(plans, target.taskName, sourcePlans, targetPlans, rw)));
  console.log(`${prog}: ${source.taskName}/${sourcePlans} -> ${out}`);
};

export const exportModelToZip: V2Handler = async (prog, args, config) => {
  const dataset = resolveDataset(config, String(args.values.d)).paths.taskName;
  const members = exportModelZipV2({
    results: config.paths.results,
    dataset,
    output: String(args.values.o),
    configurations: list(args.values.c).map(String),
    trainer: String(args.values.tr),
    plans: String(args.values.p),
    folds: list(args.values.f).map(String),
    // v2's --not_strict is a store_false flag with default False, so v2 always exports strictly; here it does what it says.
    strict: !args.given.has('not_strict'),
    checkpoints: list(args.values.chk).map(String),
    crossvalPredictions: args.values.exp_cv_preds === true,
  });
  console.log(`${prog}: ${members.length} files of ${dataset} -> ${String(args.values.o)}`);
};

function reportInstall(prog: string, zip: string, config: Config): void {
  const r = installModelZipV2(zip, config.paths.results);
  console.log(`${prog}: ${r.files} files of ${r.datasets.join(', ')} installed into ${config.paths.results}`);
}

export const installFromZip: V2Handler = async (prog, args, config) => {
  reportInstall(prog, String(args.values.zip), config);
};

/** v2's download_and_install_from_url: download (resumable here), extract into nnUNet_results, remove the zip. */
export const downloadByUrl: V2Handler = async (prog, args, config) => {
  const url = String(args.values.url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${prog}: ${url} is not a URL`);
  }
  const name = `${createHash('sha256').update(url).digest('hex').slice(0, 8)}-${path.basename(parsed.pathname) || 'model.zip'}`;
  const target = v2DownloadedZipFile(config.paths.results, name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const { downloadFile } = await import('../activities/io/download');
  console.error(`${prog}: Downloading pretrained model from url: ${url}`);
  await downloadFile(url, target);
  reportInstall(prog, target, config);
  fs.rmSync(target, { force: true });
};

/** v2's apply_postprocessing_to_folder: plans.json and dataset.json from the flags or the input folder. */
export const applyPostprocessing: V2Handler = async (prog, args) => {
  const input = String(args.values.i);
  const output = String(args.values.o);
  const plans = readJsonFile(str(args.values.plans_json) ?? modelPlansFile(input), 'the plans file (give -plans_json, or keep nnUNetv2_predict\'s plans.json in the input folder)');
  const dataset = readJsonFile(str(args.values.dataset_json) ?? datasetJsonFile(input), 'dataset.json (give -dataset_json, or keep the copy nnUNetv2_predict writes in the input folder)');
  const rw = plans.image_reader_writer ?? 'SimpleITKIO';
  if (!isReaderWriterName(rw)) throw new BadInputError(`image reader/writer ${String(rw)} is not available here (${READER_WRITER_NAMES.join(', ')})`);
  const ending = String(dataset.file_ending);
  // an ending no reader/writer reads is refused here, naming dataset.json, before any file is touched
  readerWriterName({ file_ending: ending }, str(args.values.dataset_json) ?? datasetJsonFile(input));
  const steps = readPostprocessingPklV2(String(args.values.pp_pkl_file));
  const files = fs.readdirSync(input).filter((f) => f.endsWith(ending)).sort();
  await applyPostprocessingFolderV2(input, output, files, steps, rw);
  console.log(`${prog}: ${files.length} files, ${steps.length} step(s) -> ${output}`);
};

/** nnUNetv2_accumulate_crossval_results DATASET -c CONFIGURATION [-f FOLDS] [-o OUT] [-p PLANS] [-tr TRAINER]. */
export const accumulateCrossvalResults: V2Handler = async (prog, args, config) => {
  const { paths } = resolveDataset(config, String(args.values.dataset_name_or_id));
  const modelDir = v2ModelFolder(config.paths.results, paths.taskName, String(args.values.tr), String(args.values.p), String(args.values.c));
  const folds = list(args.values.f).map(String);
  const outputDir = str(args.values.o) ?? v2CrossvalFolder(modelDir, folds);
  const r = await accumulateCrossvalV2({
    modelDir, outputDir, folds, referenceDirs: [rawLabelsFolder(paths.rawDir), gtSegmentationsFolder(paths.preprocessedDir)],
  });
  console.log(`${prog}: ${r.summaryFile}: mean Dice ${r.summary.foreground_mean.Dice} (reference ${r.referenceDir})`);
};

/** nnUNetv2_determine_postprocessing -i PREDICTIONS -ref REFERENCES [-plans_json F] [-dataset_json F] [--remove_postprocessed]. */
export const determinePostprocessing: V2Handler = async (prog, args) => {
  const input = String(args.values.i);
  const dataset = readJsonFile(str(args.values.dataset_json) ?? datasetJsonFile(input), 'dataset.json (give -dataset_json, or keep the copy the validation/accumulation leaves in the input folder)');
  const plans = readJsonFile(str(args.values.plans_json) ?? modelPlansFile(input), 'the plans file (give -plans_json, or keep plans.json in the input folder)');
  if (plans.label_manager !== undefined && plans.label_manager !== 'LabelManager') throw new BadInputError(`label manager ${String(plans.label_manager)} is not available here (only LabelManager)`);
  const { labelsOrRegions, ignoreLabel } = labelsFromDatasetJson(dataset.labels as Record<string, number | number[]>, str(args.values.dataset_json) ?? datasetJsonFile(input));
  const r = await determinePostprocessingV2({
    predictionsDir: input, referenceDir: String(args.values.ref), fileEnding: String(dataset.file_ending), labelsOrRegions, ignoreLabel,
    keepPostprocessed: args.values.remove_postprocessed !== true, log: (line) => console.log(line),
  });
  console.log(`${prog}: ${r.kwargs.length} step(s); foreground mean Dice ${r.before} -> ${r.after}`);
};

/** nnUNetv2_ensemble -i FOLDER FOLDER ... -o OUT [--save_npz]: dataset.json from the first folder. */
export const ensembleFolders: V2Handler = async (prog, args) => {
  const inputs = list(args.values.i).map(String);
  const dataset = readJsonFile(datasetJsonFile(inputs[0]!), 'dataset.json in the first input folder (nnUNetv2_predict writes it)');
  const regions = Object.values(dataset.labels as Record<string, unknown>).some(Array.isArray);
  const cases = await ensembleFoldersV2({
    inputDirs: inputs, outputDir: String(args.values.o), fileEnding: String(dataset.file_ending),
    regionsClassOrder: regions ? (dataset.regions_class_order as number[]) : undefined, saveProbabilities: args.values.save_npz === true,
    readerWriter: readerWriterName(dataset as unknown as ImageFormatSpec, datasetJsonFile(inputs[0]!)),
  });
  console.log(`${prog}: ${cases.length} cases from ${inputs.length} folders -> ${String(args.values.o)}`);
};

/** nnUNetv2_find_best_configuration DATASET [-p ...] [-c ...] [-tr ...] [-f ...] [--disable_ensembling]. */
export const findBestConfiguration: V2Handler = async (prog, args, config) => {
  const spec = String(args.values.dataset_name_or_id);
  const { paths } = resolveDataset(config, spec);
  // dumb_trainer_config_plans_to_trained_models_dict: trainers × configurations × plans
  const models = list(args.values.tr).flatMap((trainer) => list(args.values.c).flatMap((configuration) =>
    list(args.values.p).map((plans) => ({ plans: String(plans), configuration: String(configuration), trainer: String(trainer) }))));
  const r = await findBestConfigurationV2({
    resultsRoot: config.paths.results, datasetName: paths.taskName, datasetNameOrId: spec, preprocessedDir: paths.preprocessedDir, rawDir: paths.rawDir,
    models, folds: list(args.values.f).map(Number), allowEnsembling: args.values.disable_ensembling !== true, log: (line) => console.log(line),
  });
  console.log(`\n${r.instructions}`);
  console.log(`${prog}: best ${r.best}`);
};
