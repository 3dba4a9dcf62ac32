/**
 * nnUNetv2_predict and nnUNetv2_predict_from_modelfolder (predict_entry_point / predict_entry_point_modelfolder):
 * the model folder (given with -m, or nnUNet_results/DatasetXXX/TRAINER__PLANS__CONFIGURATION from -d -tr -p -c),
 * the folds (-f, default 0 1 2 3 4 as v2: a missing fold is an error naming it), the checkpoint (-chk), the cases
 * of -i (-num_parts / -part_id split them as v2: every num_parts-th case), then activities/inference/v2's
 * predict_from_files. -device picks nothing: the tensor backend is the configured one (worker.backend).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import { BadInputError } from '../activities/common/errors';
import { v2CheckpointFile, v2ModelFolder, v2PredictionFiles } from '../activities/io/layout';
import { readV1ModelMarker, type V1ModelMarker } from '../activities/io/move-to-v2';
import { UsageError } from './context';
import type { V2Args, V2Value } from './v2-argparse';
import { foldersWithId, type V2Handler } from './v2-commands';

const list = (v: V2Value): Array<string | number> => (Array.isArray(v) ? v : v === null || v === false ? [] : [v as string | number]);

function foldsOf(prog: string, args: V2Args, model: string, checkpoint: string): Array<number | 'all'> {
  const folds = list(args.values.f).map((f) => (String(f) === 'all' ? 'all' as const : Number(f)));
  if (folds.some((f) => f !== 'all' && !Number.isInteger(f))) throw new UsageError(`${prog}: -f takes fold numbers or all, got ${list(args.values.f).join(' ')}`);
  const missing = folds.filter((f) => !fs.existsSync(v2CheckpointFile(model, f, checkpoint)));
  if (missing.length > 0) {
    const which = missing.map((f) => v2CheckpointFile(model, f, checkpoint)).join(', ');
    throw new BadInputError(`${which}: missing; pass -f with the folds this model has${args.given.has('f') ? '' : ' (the default is 0 1 2 3 4, as in nnU-Net v2)'} or another -chk`, model);
  }
  return folds;
}

/** The options both entry points share, run on a model folder. */
async function predictModelFolder(prog: string, args: V2Args, config: Config, model: string): Promise<void> {
  if (!fs.existsSync(model)) throw new BadInputError(`${model}: no such model folder`, model);
  const marker = readV1ModelMarker(model);
  if (marker) return predictMovedV1(prog, args, config, model, marker);
  const checkpoint = String(args.values.chk);
  const folds = foldsOf(prog, args, model, checkpoint);
  const { loadV2Model } = await import('../activities/network/v2/model-folder');
  const { initBackend } = await import('../activities/network/backend');
  const { modelReaderWriter, predictFilesV2, rawCasesInFolder } = await import('../activities/inference/v2/predict-files');
  const numParts = Number(args.values.num_parts ?? 1);
  const partId = Number(args.values.part_id ?? 0);
  if (!(numParts >= 1 && partId >= 0 && partId < numParts)) throw new UsageError(`${prog}: -part_id must be in 0..num_parts-1 (got ${partId} of ${numParts})`);
  const backend = await initBackend({ preference: config.worker.backend });
  console.error(`${prog}: backend ${backend.id} (${backend.detail})`);
  const loaded = loadV2Model(model, { folds, checkpointName: checkpoint });
  try {
    const channels = Object.keys(loaded.datasetJson.channel_names ?? loaded.datasetJson.modality ?? {}).length;
    const ending = loaded.datasetJson.file_ending;
    const prev = args.values.prev_stage_predictions;
    const cases = rawCasesInFolder(String(args.values.i), ending, channels, modelReaderWriter(loaded))
      .filter((_, i) => i % numParts === partId)
      .map((c) => (prev ? { ...c, previousStage: existingPrevious(String(prev), c.caseId, ending) } : c));
    const done = await predictFilesV2(loaded, cases, String(args.values.o), {
      saveProbabilities: args.values.save_probabilities === true,
      mirroring: args.values.disable_tta !== true,
      stepSize: Number(args.values.step_size),
      overwrite: args.values.continue_prediction !== true,
      recordedArgs: { ...args.values, model_folder: model, folds, backend: backend.id },
      log: (line) => console.error(`${prog}: ${line}`),
    });
    console.log(`${prog}: ${done.length} of ${cases.length} case(s) predicted with ${loaded.configurationName} (folds ${folds.join(' ')}) -> ${String(args.values.o)}`);
  } finally {
    loaded.dispose();
  }
}

/** A v1 model moved into the v2 tree (nnunet move-to-v2): predicted with the v1 method, <case>.nii.gz outputs. */
async function predictMovedV1(prog: string, args: V2Args, config: Config, model: string, marker: V1ModelMarker): Promise<void> {
  const folds = list(args.values.f).map((f) => (String(f) === 'all' ? 'all' as const : Number(f)));
  const { predictMovedV1Model } = await import('../activities/inference/v1-in-v2');
  const { initBackend } = await import('../activities/network/backend');
  const backend = await initBackend({ preference: config.worker.backend });
  console.error(`${prog}: backend ${backend.id} (${backend.detail})`);
  console.error(`${prog}: ${model} is an nnU-Net v1 model (${marker.network}, moved by nnunet move-to-v2): predicting with the v1 method`);
  const prev = args.values.prev_stage_predictions;
  const r = await predictMovedV1Model({
    modelDir: model, marker, inputDir: String(args.values.i), outputDir: String(args.values.o), folds, checkpoint: String(args.values.chk),
    saveNpz: args.values.save_probabilities === true, tta: args.values.disable_tta !== true, stepSize: Number(args.values.step_size),
    lowresDir: prev ? String(prev) : undefined, overwrite: args.values.continue_prediction !== true,
    onCase: (done, total, id) => console.error(`${prog}: ${id} (${done}/${total})`),
  });
  console.log(`${prog}: ${r.predicted.length} of ${r.cases.length} case(s) predicted with the v1 ${marker.configuration} model (folds ${folds.join(' ')}) -> ${String(args.values.o)}`);
}

/** The previous stage's segmentation of a case (v2: <prev folder>/<case><file_ending>). */
function existingPrevious(folder: string, caseId: string, ending: string): string {
  const file = v2PredictionFiles(folder, caseId, ending).segmentation;
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing; -prev_stage_predictions must hold the previous stage's prediction of every case`, file);
  return file;
}

export const predictFromModelFolder: V2Handler = async (prog, args, config) => {
  await predictModelFolder(prog, args, config, String(args.values.m));
};

/** maybe_convert_to_dataset_name: a DatasetXXX_NAME as given, or the one folder of that id in raw, preprocessed or results. */
function datasetName(config: Config, spec: string): string {
  if (/^Dataset\d{3}_.+$/.test(spec)) return spec;
  if (!/^\d{1,3}$/.test(spec)) throw new UsageError(`-d ${spec}: expected a dataset id (4, 004) or a DatasetXXX_NAME`);
  const names = [...new Set(foldersWithId(config, Number(spec)).map((d) => path.basename(d)))];
  if (names.length === 0) throw new UsageError(`-d ${spec}: no Dataset${spec.padStart(3, '0')}_* folder in nnUNet_raw, nnUNet_preprocessed or nnUNet_results (${config.paths.results})`);
  if (names.length > 1) throw new UsageError(`-d ${spec} is ambiguous: ${names.sort().join(', ')}; pass the full DatasetXXX_NAME`);
  return names[0]!;
}

export const predict: V2Handler = async (prog, args, config) => {
  const dataset = datasetName(config, String(args.values.d));
  const model = v2ModelFolder(config.paths.results, dataset, String(args.values.tr), String(args.values.p), String(args.values.c));
  await predictModelFolder(prog, args, config, model);
};
