/**
 * nnU-Net dataset folders: v1 Task folders (MSD-style dataset.json with `modality`, value→name `labels` and
 * `training`/`test` lists) and v2 Dataset folders (`channel_names`, name→value `labels`, `file_ending`, cases found
 * in imagesTr). Both become one DatasetDescription with absolute file paths per case and channel.
 * Every path taken from dataset.json must stay inside the task folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { BadInputError } from '../common/errors';
import type { TaskPaths } from '../contract';
import { readBytesSync } from './read-bytes';
import { configurationFolders, croppedTasksFolder, rawTaskFolder, rawTasksFolder, taskPathsFor } from './layout';
import { ALLOW_EXTERNAL_SYMLINKS_SETTING, dataLimits } from './data-limits';
import { readerWriterName, type ReaderWriterName } from './image-formats/registry';

export type DatasetFormat = 'v1' | 'v2';

export interface LabelDef {
  name: string;
  /** One integer, or for a v2 region the list of integers it unites. */
  value: number | number[];
}

export interface CaseFiles {
  id: string;
  /** One file per channel, in channel order (absolute paths). */
  images: string[];
  /** The segmentation (training cases only). */
  label?: string;
}

export interface DatasetDescription {
  format: DatasetFormat;
  dir: string;
  jsonFile: string;
  name: string;
  /** Channel names in channel order ("CT", "MRI", "noNorm", ...). */
  modalities: string[];
  labels: LabelDef[];
  fileEnding: string;
  /** v2: the image reader/writer class (file_ending, overwrite_image_reader_writer); v1: undefined (NIfTI). */
  readerWriter?: ReaderWriterName;
  /** numTraining as declared (v1 and v2). */
  numTraining?: number;
  training: CaseFiles[];
  test: CaseFiles[];
  regionsClassOrder?: number[];
  /** The parsed dataset.json, for fields nobody typed. */
  json: Record<string, unknown>;
}

const channelKey = z.string().regex(/^\d+$/, 'channel keys must be "0", "1", ...');
const channelMap = z.record(channelKey, z.string().min(1));
const optionalText = z.string().optional();

const V1Schema = z.looseObject({
  name: optionalText,
  description: optionalText,
  tensorImageSize: optionalText,
  modality: channelMap,
  labels: z.record(z.string().regex(/^\d+$/, 'v1 label keys are integer values ("0", "1", ...)'), z.string()),
  numTraining: z.number().int().nonnegative().optional(),
  numTest: z.number().int().nonnegative().optional(),
  training: z.array(z.object({ image: z.string().min(1), label: z.string().min(1) })),
  test: z.array(z.union([z.string().min(1), z.object({ image: z.string().min(1) })])).optional(),
});

const V2Schema = z.looseObject({
  name: optionalText,
  channel_names: channelMap.optional(),
  modality: channelMap.optional(),
  labels: z.record(z.string(), z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()).min(1)])),
  numTraining: z.number().int().nonnegative(),
  file_ending: z.string().regex(/^\./, 'file_ending starts with a dot, e.g. ".nii.gz"'),
  regions_class_order: z.array(z.number().int()).optional(),
  dataset: z.record(z.string(), z.object({ images: z.array(z.string().min(1)).min(1), label: z.string().min(1) })).optional(),
}).refine((j) => j.channel_names !== undefined || j.modality !== undefined, { message: 'channel_names (or modality) is required' });

/** Resolves a dataset.json path inside the task folder; anything that escapes it is refused. */
export function resolveInside(taskDir: string, rel: string, jsonFile: string): string {
  const bad = () => new BadInputError(`${jsonFile}: path '${rel}' points outside the task folder ${taskDir}; dataset.json may only name files inside it (e.g. ./imagesTr/case.nii.gz)`, jsonFile);
  if (path.isAbsolute(rel) || /^[a-zA-Z]:[\\/]/.test(rel)) throw bad();
  const abs = path.resolve(taskDir, rel);
  const fromRoot = path.relative(taskDir, abs);
  if (fromRoot === '' || fromRoot.startsWith('..') || path.isAbsolute(fromRoot)) throw bad();
  return abs;
}

function channelNames(map: Record<string, string>, jsonFile: string): string[] {
  const keys = Object.keys(map).map(Number).sort((a, b) => a - b);
  keys.forEach((k, i) => {
    if (k !== i) throw new BadInputError(`${jsonFile}: channel keys must be 0..${keys.length - 1} without gaps, got ${keys.join(', ')}`, jsonFile);
  });
  return keys.map((k) => map[String(k)]);
}

/** Strips the file ending (".nii.gz") from a file name. */
function stem(file: string, ending: string): string {
  return file.endsWith(ending) ? file.slice(0, -ending.length) : file;
}

export function channelFileName(id: string, channel: number, ending: string): string {
  return `${id}_${String(channel).padStart(4, '0')}${ending}`;
}

function formatZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
}

/** dataset.json of the largest datasets is a few megabytes; anything far beyond is not one. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

function parseJson(jsonFile: string): Record<string, unknown> {
  const text = readBytesSync(jsonFile, { what: 'dataset.json', hint: 'every task folder needs one', maxBytes: MAX_JSON_BYTES }).toString('utf8');
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new BadInputError(`${jsonFile}: not valid JSON: ${jsonErrorWhere(text, (err as Error).message)}; fix it there (a JSON validator or \`python -m json.tool\` shows the spot)`, jsonFile);
  }
}

/** JSON.parse's message with the character position turned into line and column (1-based), as editors count. */
export function jsonErrorWhere(text: string, message: string): string {
  const m = /\s*(?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  const pos = m ? Number(m[1]) : message.startsWith('Unexpected end of JSON input') ? text.length : undefined;
  if (pos === undefined) return message;
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - (before.lastIndexOf('\n') + 1) + 1;
  return `${m ? message.slice(0, m.index) + message.slice(m.index + m[0].length) : message} at line ${line}, column ${column}`;
}

/** v2 when it says so (channel_names/file_ending) or lives in a DatasetXXX folder; v1 otherwise. */
export function detectFormat(json: Record<string, unknown>, dir: string): DatasetFormat {
  if ('channel_names' in json || 'file_ending' in json) return 'v2';
  if ('modality' in json && 'training' in json) return 'v1';
  return path.basename(dir).startsWith('Dataset') ? 'v2' : 'v1';
}

export function readDataset(taskDir: string): DatasetDescription {
  const dir = path.resolve(taskDir);
  const jsonFile = path.join(dir, 'dataset.json');
  const json = parseJson(jsonFile);
  const d = detectFormat(json, dir) === 'v1' ? readV1(dir, jsonFile, json) : readV2(dir, jsonFile, json);
  if (!dataLimits().allowExternalSymlinks) refuseExternalLinks(d);
  return d;
}

function realpathOrUndefined(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined; // missing: reported by whoever reads it
  }
}

/**
 * A task's files must resolve inside the task folder (links within it are fine): a link elsewhere may be a device,
 * another user's data or a mistake, so it is followed only when the user allows it.
 */
function refuseExternalLinks(d: DatasetDescription): void {
  const root = realpathOrUndefined(d.dir) ?? d.dir;
  const files = [...d.training, ...d.test].flatMap((c) => (c.label ? [...c.images, c.label] : c.images));
  const outside = files.flatMap((f) => {
    const real = realpathOrUndefined(f);
    const rel = real === undefined ? '' : path.relative(root, real);
    return rel.startsWith('..') || path.isAbsolute(rel) ? [`${f} -> ${real}`] : [];
  });
  if (outside.length === 0) return;
  const shown = outside.slice(0, 3).join(', ') + (outside.length > 3 ? `, and ${outside.length - 3} more` : '');
  throw new BadInputError(
    `${outside[0].split(' -> ')[0]}: ${outside.length} file${outside.length === 1 ? ' is a symbolic link' : 's are symbolic links'} leading outside the task folder ${d.dir} (${shown}); ` +
      `move the data into the task folder, or allow such links with ${ALLOW_EXTERNAL_SYMLINKS_SETTING} or the --allow-external-symlinks option`,
    outside[0].split(' -> ')[0]);
}

function readV1(dir: string, jsonFile: string, json: Record<string, unknown>): DatasetDescription {
  const parsed = V1Schema.safeParse(json);
  if (!parsed.success) throw new BadInputError(`${jsonFile}: not a valid nnU-Net v1 dataset.json: ${formatZodError(parsed.error)}`, jsonFile);
  const j = parsed.data;
  const ending = '.nii.gz';
  const modalities = channelNames(j.modality, jsonFile);
  const labels = Object.entries(j.labels).map(([v, name]) => ({ name, value: Number(v) })).sort((a, b) => a.value - b.value);
  // As nnU-Net v1 (create_lists_from_splitted_dataset): the case id is the image's file name without .nii.gz;
  // its channels are imagesTr/<id>_XXXX.nii.gz, its label labelsTr/<label file name>.
  const training = j.training.map(({ image, label }) => {
    resolveInside(dir, image, jsonFile);
    resolveInside(dir, label, jsonFile);
    const id = stem(path.basename(image), ending);
    return {
      id,
      images: modalities.map((_, c) => path.join(dir, 'imagesTr', channelFileName(id, c, ending))),
      label: path.join(dir, 'labelsTr', path.basename(label)),
    };
  });
  const test = (j.test ?? []).map((entry) => {
    const image = typeof entry === 'string' ? entry : entry.image;
    resolveInside(dir, image, jsonFile);
    const id = stem(path.basename(image), ending);
    return { id, images: modalities.map((_, c) => path.join(dir, 'imagesTs', channelFileName(id, c, ending))) };
  });
  return {
    format: 'v1', dir, jsonFile, name: j.name ?? path.basename(dir), modalities, labels, fileEnding: ending,
    numTraining: j.numTraining, training, test, json,
  };
}

/** v2 cases: from the optional `dataset` map, else every <id>_XXXX<ending> file in imagesTr. */
function readV2(dir: string, jsonFile: string, json: Record<string, unknown>): DatasetDescription {
  const parsed = V2Schema.safeParse(json);
  if (!parsed.success) throw new BadInputError(`${jsonFile}: not a valid nnU-Net v2 dataset.json: ${formatZodError(parsed.error)}`, jsonFile);
  const j = parsed.data;
  const ending = j.file_ending;
  const readerWriter = readerWriterName({ file_ending: ending, overwrite_image_reader_writer: stringOrUndefined(j.overwrite_image_reader_writer) }, jsonFile);
  const modalities = channelNames((j.channel_names ?? j.modality)!, jsonFile);
  const labels = Object.entries(j.labels).map(([name, value]) => ({ name, value }))
    .sort((a, b) => Math.min(...[a.value].flat()) - Math.min(...[b.value].flat()));
  let training: CaseFiles[];
  if (j.dataset) {
    training = Object.entries(j.dataset).map(([id, entry]) => ({
      id,
      images: entry.images.map((f) => resolveInside(dir, f, jsonFile)),
      label: resolveInside(dir, entry.label, jsonFile),
    }));
  } else {
    training = casesInFolder(path.join(dir, 'imagesTr'), ending).map((id) => ({
      id,
      images: caseImages(path.join(dir, 'imagesTr'), id, ending, modalities.length, readerWriter),
      label: path.join(dir, 'labelsTr', id + ending),
    }));
  }
  const test = casesInFolder(path.join(dir, 'imagesTs'), ending).map((id) => ({
    id, images: caseImages(path.join(dir, 'imagesTs'), id, ending, modalities.length, readerWriter),
  }));
  return {
    format: 'v2', dir, jsonFile, name: j.name ?? path.basename(dir), modalities, labels, fileEnding: ending, readerWriter,
    numTraining: j.numTraining, training, test, regionsClassOrder: j.regions_class_order, json,
  };
}

/**
 * A case's image files: one per channel, except that a NaturalImage2DIO picture may hold several (RGB): its case's
 * files are those present, as v2 finds them, and the channels they hold are counted when they are read.
 */
export function caseImages(folder: string, id: string, ending: string, numChannels: number, readerWriter: ReaderWriterName): string[] {
  const expected = Array.from({ length: numChannels }, (_, c) => path.join(folder, channelFileName(id, c, ending)));
  if (readerWriter !== 'NaturalImage2DIO') return expected;
  const isChannelFile = (f: string) => f.endsWith(ending) && f.startsWith(`${id}_`) && /^\d{4}$/.test(stem(f, ending).slice(id.length + 1));
  const present = listFiles(folder).filter(isChannelFile);
  return present.length > 0 && present.length < numChannels ? present.map((f) => path.join(folder, f)) : expected;
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Distinct case ids of the <id>_XXXX<ending> files in a folder (sorted); [] when the folder is absent. */
export function casesInFolder(folder: string, ending: string): string[] {
  const ids = new Set<string>();
  for (const f of listFiles(folder)) {
    const m = /^(.+)_\d{4}$/.exec(stem(f, ending));
    if (f.endsWith(ending) && m) ids.add(m[1]);
  }
  return [...ids].sort();
}

/** Plain file names in a folder, hidden and temporary files left out; [] when the folder is absent. */
export function listFiles(folder: string): string[] {
  try {
    return fs.readdirSync(folder, { withFileTypes: true })
      // Links too: a linked image is an image (where it may lead is checked when the dataset is read).
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Integer label values (v1: the keys; v2: the plain integer labels, regions left out). */
export function labelValues(d: DatasetDescription): number[] {
  return d.labels.flatMap((l) => (typeof l.value === 'number' ? [l.value] : [])).sort((a, b) => a - b);
}

/** value → name, as VerifyOutput and nnU-Net v1's dataset.json carry labels. */
export function labelsByValue(d: DatasetDescription): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of d.labels) out[Array.isArray(l.value) ? `(${l.value.join(', ')})` : String(l.value)] = l.name;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Task resolution

export interface DataRoots {
  /** nnUNet_raw_data_base: v1 tasks in <base>/nnUNet_raw_data, cropped data in <base>/nnUNet_cropped_data. */
  rawDataBase: string;
  /** nnUNet_preprocessed */
  preprocessed: string;
  /** RESULTS_FOLDER (models in <results>/nnUNet/<configuration>/<task>). */
  results: string;
  /** nnU-Net v2's nnUNet_raw (DatasetXXX folders); defaults to rawDataBase. */
  raw?: string;
}

const RESULT_CONFIGS = ['2d', '3d_lowres', '3d_fullres', '3d_cascade_fullres'];

function subdirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

const rawDirFor = rawTaskFolder;

export function taskPaths(rawDir: string, roots: DataRoots): TaskPaths {
  return taskPathsFor(rawDir, roots);
}

/**
 * A task given by id (`4`, `004`), by folder name (`Task004_Hippocampus`, `Dataset004_X`) or by path to its raw
 * folder. An id is looked up as nnU-Net v1 does (task_name_id_conversion.py): every folder starting with
 * Task%03d_ (or Dataset%03d_) in the raw, cropped, preprocessed and results folders; exactly one distinct name, or
 * exactly one of the `prefer` kind among them.
 */
export function resolveTask(spec: string, roots: DataRoots, prefer?: 'Task' | 'Dataset'): TaskPaths {
  const s = spec.trim();
  if (s.includes('/') || s.includes(path.sep) || s === '.' || s === '..') {
    // A path naming no folder is a wrong argument; a folder without dataset.json is a bad task folder, as it is
    // when named by id: whoever reads dataset.json reports it.
    const dir = path.resolve(s);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new BadInputError(`${dir}: no such folder; -t takes a task id, a TaskXXX_NAME folder name or the path of a task folder`, dir);
    }
    return taskPaths(dir, roots);
  }
  if (/^(Task|Dataset)\d{3}_.+$/.test(s)) return taskPaths(rawDirFor(s, roots), roots);
  if (!/^\d{1,3}$/.test(s)) throw new BadInputError(`-t ${spec}: expected a task id (4, 004), a folder name (Task004_Hippocampus) or a path`);
  const id = s.padStart(3, '0');
  const places = [
    rawTasksFolder(roots.rawDataBase),
    croppedTasksFolder(roots.rawDataBase),
    roots.raw ?? roots.rawDataBase,
    roots.preprocessed,
    ...configurationFolders(roots.results, RESULT_CONFIGS),
  ];
  const names = new Set<string>();
  for (const place of places) {
    for (const d of subdirs(place)) if (d.startsWith(`Task${id}_`) || d.startsWith(`Dataset${id}_`)) names.add(d);
  }
  if (names.size === 0) {
    throw new BadInputError(`task ${spec}: no Task${id}_* or Dataset${id}_* folder under ${places.slice(0, 4).join(', ')} or the results folder; ` +
      'set nnUNet_raw_data_base to the folder holding nnUNet_raw_data (v1 Task folders) or nnUNet_raw to the folder holding ' +
      'DatasetXXX_Name folders (v2), or convert an MSD task with `nnunet convert-msd`');
  }
  // A v1 Task and the v2 Dataset converted from it share the id: the caller's method picks its own kind.
  const preferred = [...names].filter((n) => prefer !== undefined && n.startsWith(prefer));
  if (names.size > 1 && preferred.length === 1) return taskPaths(rawDirFor(preferred[0]!, roots), roots);
  if (names.size > 1) throw new BadInputError(`task ${spec} is ambiguous: ${[...names].sort().join(', ')}; pass the full folder name`);
  return taskPaths(rawDirFor([...names][0], roots), roots);
}
