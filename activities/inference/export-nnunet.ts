/**
 * `nnunet export-nnunet`: a model folder of ours written as nnU-Net v1 writes one, so nnU-Net's own
 * nnUNet_predict loads it: <out>/nnUNet/<configuration>/<task>/<trainer>__<plans>/ with plans.pkl,
 * postprocessing.json (when the model has one) and per fold <checkpoint>.model (torch zip format, Generic_UNet's
 * state_dict names and layouts, the keys nnU-Net's load_checkpoint_ram reads) and <checkpoint>.model.pkl (trainer
 * name, init arguments, plans). Every file is written atomically; running it again rewrites the same content.
 * See docs/interop.md, "nnU-Net v1 models".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Configuration, Fold, TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { writeModelPkl } from '../io/nnunet-pickles';
import { checkpointFile, checkpointPklFile, DEFAULT_CHECKPOINT, foldFolder, modelFolder, modelPlansPklFile, networkTrainingOutputFolder, plansFile as taskPlansFile, postprocessingFile } from '../io/layout';
import { nnunetCheckpointExtra, writeTorchCheckpoint } from '../io/torch-checkpoint';
import type { PyValue } from '../io/pickle-values';
import { describeUNet } from '../network/architecture';
import { loadCheckpointWeights } from '../network/checkpoint-file';
import { checkpointKindOf, loadWeightsFor, stateDictFromWeights } from '../network/torch-weights';
import type { ResolvedConfiguration } from '../planning/configuration';
import { plansAsPklJson, writePlansPkl } from '../planning/plans-pkl';
import { resolveModelConfiguration } from './model-configuration';
import { availableFolds } from './network-predictor';

export interface ExportNnunetOptions {
  paths: TaskPaths;
  configuration: Configuration;
  trainer: string;
  plansIdentifier: string;
  /** The folder nnU-Net will use as RESULTS_FOLDER. */
  outputRoot: string;
  /** Default: every fold_N of the model folder. */
  folds?: Fold[];
  checkpoint?: string;
}

export interface ExportNnunetResult {
  modelDir: string;
  folds: Fold[];
  files: string[];
}

export function exportNnunetModel(opts: ExportNnunetOptions): ExportNnunetResult {
  const source = modelFolder(opts.paths, opts.configuration, opts.trainer, opts.plansIdentifier);
  const folds = opts.folds ?? availableFolds(source);
  const checkpoint = opts.checkpoint ?? DEFAULT_CHECKPOINT;
  if (folds.length === 0) throw new BadInputError(`${source}: no trained folds of ${opts.configuration} to export; train first or pass -f`, source);
  const missing = folds.map((f) => checkpointFile(foldFolder(source, f), checkpoint)).filter((f) => !fs.existsSync(f));
  if (missing.length) throw new BadInputError(`${missing.join(', ')}: checkpoint missing; train these folds, choose others with -f, or another checkpoint with -chk`, missing[0]);
  const rc = resolveModelConfiguration({ paths: opts.paths, modelDir: source, configuration: opts.configuration, plansIdentifier: opts.plansIdentifier, folds, checkpoint });
  if (rc.plans.label_spec) {
    throw new BadInputError(`${source}: a model trained with regions or an ignore label cannot be exported for nnU-Net v1, whose trainers know neither (v1's nnUNetTrainerV2BraTSRegions hard-codes the BraTS regions); predict it here with nnunet predict`, source);
  }
  const target = modelFolder({ ...opts.paths, resultsDir: networkTrainingOutputFolder(path.resolve(opts.outputRoot)) }, opts.configuration, opts.trainer, opts.plansIdentifier);
  if (target === source) throw new BadInputError(`${opts.outputRoot}: exporting into the model's own results folder would overwrite it; pass another -o`, opts.outputRoot);
  fs.mkdirSync(target, { recursive: true });
  const files: string[] = [];
  writePlansPkl(modelPlansPklFile(target), rc.plans);
  files.push(modelPlansPklFile(target));
  if (fs.existsSync(postprocessingFile(source))) {
    writeFileAtomic(postprocessingFile(target), fs.readFileSync(postprocessingFile(source)));
    files.push(postprocessingFile(target));
  }
  for (const fold of folds) files.push(...exportFold(rc, opts, checkpointFile(foldFolder(source, fold), checkpoint), target, fold, checkpoint));
  return { modelDir: target, folds, files };
}

/** One fold: the torch checkpoint and its .model.pkl. */
function exportFold(rc: ResolvedConfiguration, opts: ExportNnunetOptions, from: string, target: string, fold: Fold, checkpoint: string): string[] {
  const foldDir = foldFolder(target, fold);
  const { network } = rc;
  const arch = describeUNet(rc.stage, { inChannels: network.inChannels, numClasses: network.numClasses, baseFeatures: network.baseFeatures, maxFeatures: network.maxFeatures });
  const weights = loadWeightsFor(arch, from);
  const meta = checkpointKindOf(from) === 'nnunet-ts' ? loadCheckpointWeights(from).meta : {};
  fs.mkdirSync(foldDir, { recursive: true });
  const out = checkpointFile(foldDir, checkpoint);
  writeTorchCheckpoint(out, { stateDict: stateDictFromWeights(arch, weights), extra: checkpointExtras(meta) });
  writeModelPkl(checkpointPklFile(out), {
    init: initArgs(rc, opts, target, fold),
    name: opts.trainer,
    plans: plansAsPklJson(rc.plans),
  });
  return [out, checkpointPklFile(out)];
}

/** The keys nnU-Net's load_checkpoint_ram reads, from our training history where there is one. */
function checkpointExtras(meta: Record<string, unknown>): Record<string, PyValue> {
  const history = (meta.history ?? {}) as { trainLosses?: number[]; valLosses?: number[]; evalMetrics?: number[] };
  const trainLosses = history.trainLosses ?? [];
  // nnU-Net resets epoch to len(all_tr_losses) when they differ, so keep them equal.
  return nnunetCheckpointExtra({ epoch: trainLosses.length, trainLosses, valLosses: history.valLosses ?? [], evalMetrics: history.evalMetrics ?? [] });
}

/** nnUNetTrainer's init args: (plans_file, fold, output_folder, dataset_directory, batch_dice, stage, unpack_data, deterministic, fp16). */
function initArgs(rc: ResolvedConfiguration, opts: ExportNnunetOptions, target: string, fold: Fold): PyValue[] {
  const kind = rc.configuration === '2d' ? '2d' : '3d_fullres';
  // nnU-Net's default_configuration: batch dice for 2d and multi-stage 3d plans, except 3d_lowres.
  const batchDice = (rc.configuration === '2d' || rc.plans.num_stages > 1) && rc.configuration !== '3d_lowres';
  return [taskPlansFile(opts.paths, opts.plansIdentifier, kind), fold, target, opts.paths.preprocessedDir, batchDice, rc.stageIndex, true, true, false];
}
