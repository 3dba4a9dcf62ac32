/**
 * nnUNetPredictor.predict_from_files with a loaded v2 model folder: per case DefaultPreprocessor.run_case on the
 * raw files with the model's plans (a test case: no seg; for a cascade's second stage the previous stage's
 * segmentation takes the seg's place and is stacked onto the image as one-hot foreground channels), the sliding
 * window over every fold (model-predictor.ts), then export_prediction_from_logits (export.ts): <case><file_ending>
 * with the raw image's geometry and, with saveProbabilities, <case>.npz ('probabilities', float32, classes first,
 * raw array order) + <case>.pkl (the case properties as v2 pickles them). Like v2 it leaves dataset.json,
 * plans.json and predict_from_raw_data_args.json in the output folder.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import { writeJsonAtomic } from '../../common/atomic';
import { caseImages } from '../../io/dataset';
import { datasetJsonFile, modelPlansFile, v2PredictionArgsFile, v2PredictionFiles } from '../../io/layout';
import { geometryOfCaseProperties } from '../../io/geometry';
import { readerWriterName, writeImageFile, type ReaderWriterName } from '../../io/image-formats/registry';
import { writeNpz } from '../../io/npz';
import { PyFloat, tuple, writePickle } from '../../io/pickle';
import { loadCaseV2 } from '../../fingerprint/v2/load-case';
import type { LoadedV2Model } from '../../network/v2/model-folder';
import { resolveConfigurationV2, type PlansJsonV2 } from '../../preprocessing/v2/plans';
import { runCaseArraysV2, type CasePropertiesV2, type PreprocessedCaseV2 } from '../../preprocessing/v2/run-case';
import { exportLogitsV2, type ExportedCaseV2, type ExportModelV2 } from './export';
import { predictPreprocessedV2, type PredictV2Options } from './model-predictor';

export interface RawCaseV2 {
  caseId: string;
  /** One file per channel, channel order. */
  images: string[];
  /** The previous stage's segmentation of this case (cascade only). */
  previousStage?: string;
}

export interface PredictFilesV2Options extends PredictV2Options {
  saveProbabilities?: boolean;
  /** false: cases whose segmentation (and, when saving them, probabilities) exist are skipped (v2's --continue_prediction). */
  overwrite?: boolean;
  /** Recorded in predict_from_raw_data_args.json. */
  recordedArgs?: Record<string, unknown>;
  log?: (line: string) => void;
}

const isRegionBased = (model: LoadedV2Model): boolean => Object.values(model.datasetJson.labels).some((v) => Array.isArray(v));

/** LabelManager.foreground_labels of a model. */
export function foregroundLabelsV2(model: LoadedV2Model): number[] {
  const labels = model.datasetJson.labels;
  const ignore = labels.ignore;
  const values = Object.entries(labels).filter(([k]) => k !== 'ignore').flatMap(([, v]) => (Array.isArray(v) ? v : [v]));
  return [...new Set(values)].filter((v) => v !== 0 && v !== ignore).sort((a, b) => a - b);
}

/** What export_prediction_from_logits reads from a loaded model. */
export function exportModelV2(model: LoadedV2Model): ExportModelV2 {
  const regions = isRegionBased(model);
  if (regions && !Array.isArray(model.datasetJson.regions_class_order)) {
    throw new BadInputError(`${datasetJsonFile(model.dir)}: a region-based model needs regions_class_order`, datasetJsonFile(model.dir));
  }
  return {
    configuration: model.configuration,
    transposeForward: (model.plans as unknown as PlansJsonV2).transpose_forward,
    regionsClassOrder: regions ? model.datasetJson.regions_class_order : undefined,
    source: modelPlansFile(model.dir),
  };
}

const isCascade = (model: LoadedV2Model): boolean => typeof model.configuration.previous_stage === 'string' && model.configuration.previous_stage !== '';

/** convert_labelmap_to_one_hot(seg, foreground_labels) stacked after the image channels. */
export function withPreviousStage(data: Float32Array, seg: ArrayLike<number>, labels: readonly number[]): Float32Array {
  const n = seg.length;
  const out = new Float32Array(data.length + labels.length * n);
  out.set(data);
  labels.forEach((label, k) => {
    const base = data.length + k * n;
    for (let i = 0; i < n; i++) if (seg[i] === label) out[base + i] = 1;
  });
  return out;
}

/** The preprocessed input of one case (image channels, plus the previous stage one-hot for a cascade). */
async function preprocess(model: LoadedV2Model, rawCase: RawCaseV2): Promise<PreprocessedCaseV2 & { input: Float32Array }> {
  const cascade = isCascade(model);
  if (cascade && !rawCase.previousStage) {
    throw new BadInputError(`${rawCase.caseId}: ${model.dir} is a cascade stage (previous_stage ${String(model.configuration.previous_stage)}); ` +
      'predict the previous stage first and pass its output folder with -prev_stage_predictions');
  }
  const plansFile = modelPlansFile(model.dir);
  const cfg = resolveConfigurationV2(model.plans as unknown as PlansJsonV2, model.configurationName, plansFile);
  const loaded = await loadCaseV2(rawCase.images, cascade ? rawCase.previousStage! : null, modelReaderWriter(model));
  const channels = Object.keys(model.datasetJson.channel_names ?? model.datasetJson.modality ?? {}).length;
  if (channels > 0 && loaded.channels.length !== channels) {
    throw new BadInputError(`${rawCase.images.join(', ')}: ${loaded.channels.length} channel(s), the model takes ${channels} (dataset.json channel_names)`, rawCase.images[0]);
  }
  const c = runCaseArraysV2(loaded, cfg, null, rawCase.images[0]!);
  return { ...c, input: cascade ? withPreviousStage(c.data, c.seg, foregroundLabelsV2(model)) : c.data };
}

/** The properties as v2 pickles them (tuples, floats). */
function pythonProperties(p: CasePropertiesV2): Record<string, unknown> {
  const floats = (v: readonly number[]) => v.map((x) => new PyFloat(x));
  const s = p.sitk_stuff;
  return {
    ...(s ? { sitk_stuff: { spacing: tuple(...floats(s.spacing)), origin: tuple(...floats(s.origin)), direction: tuple(...floats(s.direction)) } } : {}),
    spacing: floats(p.spacing),
    shape_before_cropping: tuple(...p.shape_before_cropping),
    bbox_used_for_cropping: p.bbox_used_for_cropping.map((r) => [...r]),
    shape_after_cropping_and_before_resampling: tuple(...p.shape_after_cropping_and_before_resampling),
  };
}

/** The dataset's image reader/writer, as v2 picks it from the model folder's dataset.json. */
export function modelReaderWriter(model: LoadedV2Model): ReaderWriterName {
  return readerWriterName(model.datasetJson, datasetJsonFile(model.dir));
}

/**
 * Writes one exported case: the segmentation with the dataset's reader/writer (v2's write_seg: in its file_ending,
 * with the raw image's geometry), and with probabilities <case>.npz + <case>.pkl.
 */
export async function writeExportedCaseV2(files: ReturnType<typeof v2PredictionFiles>, r: ExportedCaseV2, props: CasePropertiesV2, heads: number,
  readerWriter?: ReaderWriterName): Promise<void> {
  if (r.probabilities) {
    writeNpz(files.probabilities, { probabilities: { data: r.probabilities, shape: [heads, ...r.shape], dtype: 'float32' } });
    writePickle(files.properties, pythonProperties(props));
  }
  const geometry = geometryOfCaseProperties(props, files.segmentation);
  const seg = r.segmentation;
  await writeImageFile(files.segmentation, seg instanceof Uint8Array
    ? { data: seg, shape: [...r.shape], dtype: 'uint8', geometry }
    : { data: seg, shape: [...r.shape], dtype: 'uint16', geometry }, 'seg', readerWriter);
}

/** Predicts one raw case into `outputDir`. */
export async function predictRawCaseV2(model: LoadedV2Model, rawCase: RawCaseV2, outputDir: string, options: PredictFilesV2Options = {}): Promise<void> {
  const c = await preprocess(model, rawCase);
  const logits = await predictPreprocessedV2(model, c.input, c.shape, options);
  const heads = model.description.numClasses;
  const r = exportLogitsV2(logits, heads, c.shape, c.properties, exportModelV2(model), options.saveProbabilities === true);
  await writeExportedCaseV2(v2PredictionFiles(outputDir, rawCase.caseId, model.datasetJson.file_ending), r, c.properties, heads, modelReaderWriter(model));
}

/** predict_from_files: every case (skipping finished ones unless overwrite), plus v2's bookkeeping files. */
export async function predictFilesV2(model: LoadedV2Model, cases: readonly RawCaseV2[], outputDir: string, options: PredictFilesV2Options = {}): Promise<string[]> {
  fs.mkdirSync(outputDir, { recursive: true });
  writeJsonAtomic(v2PredictionArgsFile(outputDir), options.recordedArgs ?? {});
  writeJsonAtomic(datasetJsonFile(outputDir), model.datasetJson);
  writeJsonAtomic(modelPlansFile(outputDir), model.plans);
  const done: string[] = [];
  for (const rawCase of cases) {
    const files = v2PredictionFiles(outputDir, rawCase.caseId, model.datasetJson.file_ending);
    const finished = fs.existsSync(files.segmentation) && (options.saveProbabilities !== true || fs.existsSync(files.probabilities));
    if (options.overwrite === false && finished) continue;
    options.log?.(`Predicting ${rawCase.caseId}`);
    await predictRawCaseV2(model, rawCase, outputDir, options);
    done.push(rawCase.caseId);
  }
  return done;
}

/**
 * create_lists_from_splitted_dataset_folder: the cases of an input folder (<case>_XXXX<file_ending>), each with
 * one file per channel of the model (a colour picture holds several: its files are those present); a case
 * missing a channel is refused naming the file.
 */
export function rawCasesInFolder(inputDir: string, fileEnding: string, numChannels: number, readerWriter: ReaderWriterName = 'SimpleITKIO'): RawCaseV2[] {
  if (!fs.existsSync(inputDir)) throw new BadInputError(`${inputDir}: no such input folder`, inputDir);
  const pattern = /^(.*)_\d{4}$/;
  const ids = new Set<string>();
  for (const f of fs.readdirSync(inputDir)) {
    if (!f.endsWith(fileEnding)) continue;
    const m = pattern.exec(f.slice(0, -fileEnding.length));
    if (m) ids.add(m[1]!);
  }
  if (ids.size === 0) throw new BadInputError(`${inputDir}: no <case>_0000${fileEnding} files`, inputDir);
  return [...ids].sort().map((caseId) => {
    const images = caseImages(inputDir, caseId, fileEnding, numChannels, readerWriter);
    const missing = images.find((f) => !fs.existsSync(f));
    if (missing) throw new BadInputError(`${missing}: missing; the model takes ${numChannels} channel(s) per case (_0000 ... _${String(numChannels - 1).padStart(4, '0')})`, missing);
    return { caseId, images };
  });
}
