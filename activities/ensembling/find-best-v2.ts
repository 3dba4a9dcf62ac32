/**
 * nnU-Net v2's find_best_configuration: each trained model's folds accumulated (crossval_results_folds_X), with
 * ensembling every pair of models' validation probabilities (ensemble_crossvalidations: fold_X/validation/<case>.npz,
 * so the folds must be validated with --npz) into <results>/<Dataset>/ensembles/ensemble___A___B___folds; the best
 * foreground mean Dice wins (first on a tie, single models before ensembles), its postprocessing is determined,
 * and inference_information.json and inference_instructions.txt are written as v2 writes them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic';
import { BadInputError } from '../common/errors';
import { readV1ModelMarker } from '../io/move-to-v2';
import { accumulateCrossvalV2 } from '../evaluation/accumulate-cv-v2';
import { evaluateFolderV2, labelsFromDatasetJson, readSummaryV2, stringifyPythonJsonV2 } from '../evaluation/summary-v2';
import {
  datasetJsonFile, gtSegmentationsFolder, modelPlansFile, plansV2File, rawLabelsFolder, v2CrossvalFolder, v2EnsemblesFolder, v2FindBestFiles,
  v2FoldFolder, v2ModelFolder, v2PostprocessingFiles, v2ValidationFolder,
} from '../io/layout';
import { determinePostprocessingV2 } from '../postprocessing/determine-v2';
import { mergeCaseV2 } from './ensemble-folders-v2';

export interface TrainedModelV2 { plans: string; configuration: string; trainer: string }

export interface FindBestV2Input {
  resultsRoot: string;
  datasetName: string;
  /** As given on the command line (recorded in inference_information.json and the commands). */
  datasetNameOrId: string;
  preprocessedDir: string;
  rawDir: string;
  models: readonly TrainedModelV2[];
  folds: readonly number[];
  allowEnsembling: boolean;
  log?: (line: string) => void;
}

type DatasetJson = { file_ending: string; labels: Record<string, number | number[]>; regions_class_order?: number[] };
const readJson = <T>(file: string): T => {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing`, file);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
};

/** filter_available_models: configurations the plans lack are skipped; a listed model without its folder is an error. */
function availableModels(input: FindBestV2Input): TrainedModelV2[] {
  return input.models.filter((m) => {
    // a v1 model moved by nnunet move-to-v2 has no v2 plans; its marker names its configuration
    if (readV1ModelMarker(v2ModelFolder(input.resultsRoot, input.datasetName, m.trainer, m.plans, m.configuration))) return true;
    const plansFile = plansV2File(input.preprocessedDir, m.plans);
    const plans = readJson<{ configurations?: Record<string, unknown> }>(plansFile);
    if (!plans.configurations?.[m.configuration]) {
      input.log?.(`Configuration ${m.configuration} not found in plans ${m.plans}.\nInferred plans file: ${plansFile}.`);
      return false;
    }
    const dir = v2ModelFolder(input.resultsRoot, input.datasetName, m.trainer, m.plans, m.configuration);
    if (!fs.existsSync(dir)) throw new BadInputError(`${dir}: trained model ${m.trainer}__${m.plans}__${m.configuration} has no output folder; train it (with --npz to ensemble configurations)`, dir);
    return true;
  });
}

/** ensemble_crossvalidations: per case the two models' validation probabilities (from whichever fold holds it). */
async function ensembleCrossvalidations(modelDirs: readonly string[], outputDir: string, folds: readonly number[]): Promise<void> {
  const ds = readJson<DatasetJson>(datasetJsonFile(modelDirs[0]!));
  const where = modelDirs.map((dir) => {
    const map = new Map<string, string>();
    for (const f of folds) {
      const v = v2ValidationFolder(v2FoldFolder(dir, f));
      if (!fs.existsSync(v)) throw new BadInputError(`${v}: missing; train every requested fold of ${dir}`, v);
      const npz = fs.readdirSync(v).filter((n) => n.endsWith('.npz'));
      if (npz.length === 0) throw new BadInputError(`${v}: no .npz files; rerun the validation with --npz (nnUNetv2_train ... --val --npz)`, v);
      for (const n of npz) map.set(n.slice(0, -4), v);
    }
    return map;
  });
  const cases = [...new Set(where.flatMap((m) => [...m.keys()]))].sort();
  where.forEach((m, i) => {
    const missing = cases.filter((c) => !m.has(c));
    if (missing.length > 0) throw new BadInputError(`${modelDirs[i]}: no validation probabilities for ${missing.slice(0, 3).join(', ')}; all models must have the same cases`, modelDirs[i]);
  });
  fs.mkdirSync(outputDir, { recursive: true });
  for (const c of cases) {
    const dirs = where.map((m) => m.get(c)!);
    await mergeCaseV2(dirs.map((d) => path.join(d, `${c}.npz`)), path.join(dirs[0]!, `${c}.pkl`), outputDir, c, {
      fileEnding: ds.file_ending, regionsClassOrder: Object.values(ds.labels).some(Array.isArray) ? ds.regions_class_order : undefined,
    });
  }
  fs.copyFileSync(datasetJsonFile(modelDirs[0]!), datasetJsonFile(outputDir));
  fs.copyFileSync(modelPlansFile(modelDirs[0]!), modelPlansFile(outputDir));
}

const identifier = (m: TrainedModelV2) => `${m.trainer}__${m.plans}__${m.configuration}`;

function predictCommand(input: FindBestV2Input, m: TrainedModelV2, output: string, saveNpz: boolean): string {
  const folds = input.folds.map((f) => ` ${f}`).join('');
  return `nnUNetv2_predict -d ${input.datasetNameOrId} -i INPUT_FOLDER -o ${output} -f ${folds} -tr ${m.trainer} -c ${m.configuration} -p ${m.plans}${saveNpz ? ' --save_probabilities' : ''}`;
}

/** print_inference_instructions' text (default_num_processes 8). */
function instructions(input: FindBestV2Input, selected: readonly TrainedModelV2[], ppFile: string, plansFile: string): string {
  const lines = ['***Run inference like this:***\n'];
  const ensemble = selected.length > 1;
  if (ensemble) lines.push('An ensemble won! What a surprise! Run the following commands to run predictions with the ensemble members:\n');
  const outputs = selected.map((_, j) => (ensemble ? `OUTPUT_FOLDER_MODEL_${j + 1}` : 'OUTPUT_FOLDER'));
  selected.forEach((m, j) => lines.push(predictCommand(input, m, outputs[j]!, ensemble)));
  if (ensemble) lines.push('\nThe run ensembling with:\n', `nnUNetv2_ensemble -i ${outputs.join(' ')} -o OUTPUT_FOLDER -np 8`);
  lines.push('\n***Once inference is completed, run postprocessing like this:***\n');
  lines.push(`nnUNetv2_apply_postprocessing -i OUTPUT_FOLDER -o OUTPUT_FOLDER_PP -pp_pkl_file ${ppFile} -np 8 -plans_json ${plansFile}`);
  return lines.map((l) => `${l}\n`).join('');
}

/** One model or ensemble find_best_configuration scored: its pooled cross-validation folder (summary.json inside). */
export interface CandidateV2 { name: string; result: number; source: string; members: TrainedModelV2[] }

export interface FindBestV2Result {
  best: string;
  results: Record<string, number>;
  /** Every candidate in v2's order (single models, then ensembles); `best` names one of them. */
  candidates: CandidateV2[];
  instructions: string;
}

export async function findBestConfigurationV2(input: FindBestV2Input): Promise<FindBestV2Result> {
  const log = input.log ?? (() => undefined);
  const models = availableModels(input);
  if (models.length === 0) throw new BadInputError(`${input.datasetName}: none of the requested configurations is in the plans`);
  const gt = gtSegmentationsFolder(input.preprocessedDir);
  const results: Record<string, { source: string; result: number; members: TrainedModelV2[] }> = {};
  const folds = input.folds.map(String);
  const dirOf = (m: TrainedModelV2) => v2ModelFolder(input.resultsRoot, input.datasetName, m.trainer, m.plans, m.configuration);
  for (const m of models) {
    const dir = dirOf(m);
    const r = await accumulateCrossvalV2({ modelDir: dir, outputDir: v2CrossvalFolder(dir, folds), folds, referenceDirs: [rawLabelsFolder(input.rawDir), gt] });
    results[path.basename(dir)] = { source: path.dirname(r.summaryFile), result: r.summary.foreground_mean.Dice, members: [m] };
  }
  if (input.allowEnsembling) {
    for (let i = 0; i < models.length; i++) {
      for (let j = i + 1; j < models.length; j++) {
        const pair = [models[i]!, models[j]!];
        const name = `ensemble___${identifier(pair[0]!)}___${identifier(pair[1]!)}___${folds.join('_')}`;
        const out = path.join(v2EnsemblesFolder(input.resultsRoot, input.datasetName), name);
        await ensembleCrossvalidations(pair.map(dirOf), out, input.folds);
        const ds = readJson<DatasetJson>(datasetJsonFile(out));
        const { labelsOrRegions, ignoreLabel } = labelsFromDatasetJson(ds.labels, datasetJsonFile(out));
        const { summary } = await evaluateFolderV2({ referenceDir: gt, predictionDir: out, fileEnding: ds.file_ending, labelsOrRegions, ignoreLabel, chill: true });
        results[name] = { source: out, result: summary.foreground_mean.Dice, members: pair };
      }
    }
  }
  const keys = Object.keys(results);
  const bestScore = Math.max(...keys.map((k) => results[k]!.result));
  const best = keys.find((k) => results[k]!.result === bestScore) ?? keys[0]!;
  log('\n***All results:***');
  for (const k of keys) log(`${k}: ${results[k]!.result}`);
  log(`\n*Best*: ${best}: ${results[best]!.result}\n`);
  log('***Determining postprocessing for best model/ensemble***');
  const source = results[best]!.source;
  const ds = readJson<DatasetJson>(datasetJsonFile(source));
  const { labelsOrRegions, ignoreLabel } = labelsFromDatasetJson(ds.labels, datasetJsonFile(source));
  await determinePostprocessingV2({ predictionsDir: source, referenceDir: gt, fileEnding: ds.file_ending, labelsOrRegions, ignoreLabel, keepPostprocessed: true, log });
  const pp = v2PostprocessingFiles(source);
  const info = {
    folds: input.folds, dataset_name_or_id: input.datasetNameOrId, considered_models: models, ensembling_allowed: input.allowEnsembling,
    all_results: Object.fromEntries(keys.map((k) => [k, results[k]!.result])),
    best_model_or_ensemble: {
      result_on_crossval_pre_pp: results[best]!.result,
      result_on_crossval_post_pp: readSummaryV2(path.join(pp.postprocessedDir, 'summary.json')).foreground_mean.Dice,
      postprocessing_file: pp.pkl, some_plans_file: modelPlansFile(source),
      selected_model_or_models: results[best]!.members.map((m) => ({ configuration: m.configuration, trainer: m.trainer, plans_identifier: m.plans })),
    },
  };
  const files = v2FindBestFiles(input.resultsRoot, input.datasetName);
  writeFileAtomic(files.information, stringifyPythonJsonV2(info));
  const text = instructions(input, results[best]!.members, pp.pkl, modelPlansFile(source));
  writeFileAtomic(files.instructions, text);
  return {
    best, results: Object.fromEntries(keys.map((k) => [k, results[k]!.result])), instructions: text,
    candidates: keys.map((k) => ({ name: k, ...results[k]! })),
  };
}
