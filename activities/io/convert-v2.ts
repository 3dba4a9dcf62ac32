/**
 * nnU-Net v2's dataset conversions into nnUNet_raw/DatasetXXX_NAME:
 * - nnUNetv2_convert_old_nnUNet_dataset: a v1 Task folder (imagesTr, labelsTr, optional imagesTs/labelsTs/imagesVal/
 *   labelsVal) is copied, and its dataset.json rewritten in v2's schema: `modality` becomes `channel_names`, `labels`
 *   turns from value→name into name→int, `file_ending` is ".nii.gz", and the v1-only keys (`training`, `test`,
 *   `tensorImageSize`, `numTest`) go. `numTraining` and the descriptive keys stay.
 * - nnUNetv2_convert_MSD_dataset: a Decathlon folder is split into channels as v1's converter does (convert-msd.ts),
 *   then given v2's dataset.json the way v2's MSD converter writes it (it keeps `tensorImageSize` and `numTest`).
 * Key order follows v2's edits of the dict (JSON keeps insertion order), so the files equal v2's byte for byte.
 * The dataset is built under a temporary sibling and renamed into place; an existing one is refused, as in v2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { tempSibling, writeFileAtomic } from '../common/atomic';
import { convertMsd, parseMsdName } from './convert-msd';
import { datasetJsonFile } from './layout';

/** The sub-folders v2's converter copies when present (imagesTr and labelsTr must be). */
const DATASET_SUBFOLDERS = ['imagesTr', 'labelsTr', 'imagesTs', 'labelsTs', 'imagesVal', 'labelsVal'];

export const V2_DATASET_NAME = /^Dataset\d{3}_[^/\\]+$/;

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BadInputError(`${file}: cannot read dataset.json (${(err as Error).message})`, file);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadInputError(`${file}: dataset.json must hold a JSON object`, file);
  return parsed as Json;
}

/** v1's `labels` {"0": "background", "1": "x"} as v2's {"background": 0, "x": 1}. */
function labelsByName(file: string, labels: unknown): Record<string, number> {
  if (typeof labels !== 'object' || labels === null) throw new BadInputError(`${file}: "labels" must map label values to names (v1 schema)`, file);
  const out: Record<string, number> = {};
  for (const [value, name] of Object.entries(labels)) {
    if (!/^\d+$/.test(value)) throw new BadInputError(`${file}: label value "${value}" is not an integer; this is not a v1 dataset.json (is it v2 already?)`, file);
    out[String(name)] = Number(value);
  }
  return out;
}

function requireKeys(file: string, json: Json, keys: string[]): void {
  const missing = keys.filter((k) => !(k in json));
  if (missing.length > 0) throw new BadInputError(`${file}: not a v1 dataset.json: ${missing.join(', ')} missing`, file);
}

/** nnUNetv2_convert_old_nnUNet_dataset's rewrite of a v1 dataset.json. */
export function datasetJsonFromV1(json: Json, file = 'dataset.json'): Json {
  requireKeys(file, json, ['modality', 'labels', 'training', 'test', 'tensorImageSize', 'numTest']);
  const out: Json = { ...json };
  for (const k of ['tensorImageSize', 'numTest', 'training', 'test']) delete out[k];
  out.channel_names = json.modality;
  delete out.modality;
  out.labels = labelsByName(file, json.labels);
  out.file_ending = '.nii.gz';
  return out;
}

/**
 * The converted folder's dataset.json: a v1 one rewritten (datasetJsonFromV1); one that is already v2's
 * (channel_names and file_ending, as `nnunet demo-dataset --mha | --2d-png` writes into a Task folder) kept as it
 * is, so that its images keep their format. nnunetv2's converter only knows the v1 form.
 */
export function v2DatasetJsonOf(json: Json, file = 'dataset.json'): Json {
  const isV2 = json.modality === undefined && json.channel_names !== undefined && typeof json.file_ending === 'string';
  return isV2 ? json : datasetJsonFromV1(json, file);
}

/** nnUNetv2_convert_MSD_dataset's rewrite of an MSD dataset.json (file_ending before channel_names, as v2 does). */
export function datasetJsonFromMsd(json: Json, file = 'dataset.json'): Json {
  requireKeys(file, json, ['modality', 'labels', 'training', 'test']);
  const out: Json = { ...json };
  out.labels = labelsByName(file, json.labels);
  out.file_ending = '.nii.gz';
  out.channel_names = json.modality;
  for (const k of ['modality', 'training', 'test']) delete out[k];
  return out;
}

/** Python's json.dump(indent=4) of plain JSON: equal to JSON.stringify's, except non-ASCII is escaped. */
export function pythonJsonText(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function refuseExisting(target: string): void {
  if (fs.existsSync(target)) {
    throw new BadInputError(`${target}: the target dataset already exists; nothing was changed. Delete it first or choose another name/id`, target);
  }
}

/** Builds a dataset folder under a temporary sibling, then renames it into place. */
function buildDataset(target: string, build: (tmp: string) => Promise<void> | void): Promise<void> {
  refuseExisting(target);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  return (async () => {
    try {
      await build(tmp);
      refuseExisting(target);
      fs.renameSync(tmp, target);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  })();
}

export interface ConvertV2Result { datasetName: string; outDir: string }

/** nnUNetv2_convert_old_nnUNet_dataset INPUT_FOLDER DatasetXXX_NAME, into `rawRoot` (nnUNet_raw). */
export async function convertOldTaskToV2(sourceFolder: string, datasetName: string, rawRoot: string): Promise<ConvertV2Result> {
  if (!V2_DATASET_NAME.test(datasetName)) {
    throw new BadInputError(`${datasetName}: the new dataset name must follow DatasetXXX_NAME (three digits), e.g. Dataset004_Hippocampus (a name, not a path)`);
  }
  const source = path.resolve(sourceFolder);
  for (const required of ['imagesTr', 'labelsTr', 'dataset.json']) {
    if (!fs.existsSync(path.join(source, required))) {
      throw new BadInputError(`${source}: not an nnU-Net v1 task folder: ${required} is missing (give the PATH of the old TaskXXX_NAME folder)`, source);
    }
  }
  const json = v2DatasetJsonOf(readJson(datasetJsonFile(source)), datasetJsonFile(source));
  const outDir = path.join(path.resolve(rawRoot), datasetName);
  await buildDataset(outDir, (tmp) => {
    fs.mkdirSync(tmp);
    for (const sub of DATASET_SUBFOLDERS) {
      if (fs.existsSync(path.join(source, sub))) fs.cpSync(path.join(source, sub), path.join(tmp, sub), { recursive: true });
    }
    writeFileAtomic(datasetJsonFile(tmp), pythonJsonText(json));
  });
  return { datasetName, outDir };
}

/**
 * nnUNetv2_convert_MSD_dataset -i TaskYY_NAME [-overwrite_id N]: DatasetXXX_NAME in `rawRoot`. `idTaken` says which
 * folders already use the target id (v2 refuses an id found in nnUNet_raw, nnUNet_preprocessed or nnUNet_results).
 */
export async function convertMsdToV2(input: string, rawRoot: string, overwriteId: number | undefined, idTaken: (id: number) => string[]): Promise<ConvertV2Result> {
  const { id, name } = parseMsdName(input);
  const targetId = overwriteId ?? id;
  if (!Number.isInteger(targetId) || targetId < 1 || targetId > 999) throw new BadInputError(`dataset id ${targetId}: must be 1..999`);
  const taken = idTaken(targetId);
  if (taken.length > 0) {
    throw new BadInputError(`Target dataset id ${targetId} is already taken (${taken.join(', ')}); choose another with -overwrite_id`);
  }
  if (!fs.existsSync(path.join(path.resolve(input), 'imagesTs'))) {
    throw new BadInputError(`${path.resolve(input)}: imagesTs subfolder missing in the MSD folder (nnU-Net v2 requires it)`, input);
  }
  const datasetName = `Dataset${String(targetId).padStart(3, '0')}_${name}`;
  const outDir = path.join(path.resolve(rawRoot), datasetName);
  await buildDataset(outDir, async (tmp) => {
    // v1's converter writes <tmp>/nnUNet_raw_data/TaskXXX_NAME with the channels split; its files become ours.
    const v1 = await convertMsd(input, tmp, targetId);
    const msdJson = path.join(path.resolve(input), 'dataset.json');
    writeFileAtomic(datasetJsonFile(v1.outDir), pythonJsonText(datasetJsonFromMsd(readJson(msdJson), msdJson)));
    const staged = `${tmp}.dataset`;
    fs.renameSync(v1.outDir, staged);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.renameSync(staged, tmp);
  });
  return { datasetName, outDir };
}
