/**
 * verify_dataset_integrity (nnU-Net v1 preprocessing/sanity_checks.py, plus v2's stricter checks): reads every
 * file of a task and collects ALL problems, each naming its case and file. Nothing is written.
 *
 * Errors: dataset.json missing/invalid, imagesTr/labelsTr missing, no training cases, numTraining disagreeing,
 * duplicate case ids, declared labels not 0..K-1, missing/unreadable/truncated files, 4D or multi-channel files,
 * NaN/Inf voxels, image/label shape or spacing mismatch (origin/direction too with strictGeometry), label values
 * not declared or not integers, unexpected files in imagesTr/labelsTr/imagesTs (including extra channels), test
 * cases whose channels disagree in shape or geometry.
 * Warnings (as nnU-Net: "does not cause an error"): origin/direction mismatch, mixed orientations in imagesTr.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import type { VerifyOutput } from '../contract';
import { axisCodes, geometryDifferences, NUMPY_ISCLOSE, type GeometryTolerance } from './geometry';
import { labelsByValue, labelValues, listFiles, readDataset, type CaseFiles, type DatasetDescription } from './dataset';
import { niftiReadCost } from './nifti';
import { readImageFile, type ImageRole, type ReaderWriterName } from './image-formats/registry';
import { NIFTI_ENDINGS } from './image-formats/nifti-io';
import { endingOf } from './image-formats/reader-writer';
import { spacingSidecar } from './image-formats/tiff3d-io';
import { channelCount, channelsOf, holdsSeveralChannels } from './image-formats/channels';
import { dataLimits } from './data-limits';
import { NON_FINITE_FIX } from './finite';
import { distinctValues, valueRange, type Volume } from './volume';
import { specialLabelSpec } from './label-manager';

export interface Problem {
  severity: 'error' | 'warning';
  check: string;
  case?: string;
  /** Path relative to the task folder. */
  file?: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  taskDir: string;
  problems: Problem[];
  summary?: VerifyOutput;
}

export interface VerifyOptions {
  tolerance?: GeometryTolerance;
  /** Treat origin/direction mismatches as errors (nnU-Net only warns). */
  strictGeometry?: boolean;
}

export function formatProblem(p: Problem): string {
  const where = [p.case ? `case ${p.case}` : '', p.file ?? ''].filter(Boolean).join(', ');
  return `${p.severity === 'warning' ? 'warning: ' : ''}${where ? `${where}: ` : ''}${p.message}`;
}

class Collector {
  readonly problems: Problem[] = [];
  constructor(readonly dir: string) {}
  rel(file: string): string {
    return path.relative(this.dir, file) || file;
  }
  error(check: string, message: string, where: { case?: string; file?: string } = {}): void {
    this.problems.push({ severity: 'error', check, case: where.case, file: where.file && this.rel(where.file), message });
  }
  warn(check: string, message: string, where: { case?: string; file?: string } = {}): void {
    this.problems.push({ severity: 'warning', check, case: where.case, file: where.file && this.rel(where.file), message });
  }
}

/** How a case's files are read: the dataset's reader/writer class (v2), NIfTI otherwise. */
interface ReadAs { role: ImageRole; readerWriter?: ReaderWriterName }

/**
 * The memory a read takes at its peak: NIfTI's from its header; other formats are read whole by ITK, so their
 * voxels (at most a few times the compressed file for the tiny 2D pictures they mostly are) bound it roughly.
 */
async function readCost(file: string): Promise<number> {
  return endingOf(file, NIFTI_ENDINGS) ? niftiReadCost(file) : 4 * fs.statSync(file).size;
}

/** Reads a file for checking; a problem (missing, unreadable, truncated) is recorded and undefined returned. */
async function load(file: string, caseId: string, out: Collector, as: ReadAs = { role: 'image' }): Promise<Volume | undefined> {
  if (!fs.existsSync(file)) {
    out.error('missing-file', 'file is missing', { case: caseId, file });
    return undefined;
  }
  let cost = 0;
  try {
    cost = await readCost(file);
    await readBudget.acquire(cost);
    return await readImageFile(file, as.role, as.readerWriter);
  } catch (err) {
    const msg = (err as Error).message.replace(`${file}: `, '');
    out.error('unreadable-file', msg, { case: caseId, file });
    return undefined;
  } finally {
    readBudget.release(cost);
  }
}

/**
 * Cases are checked a few at once, but the images being read together never need more memory than one image
 * may (data.maxImageMemoryGb): large images are read one at a time, small ones side by side.
 */
class MemoryBudget {
  private used = 0;
  private waiting: Array<() => void> = [];
  async acquire(bytes: number): Promise<void> {
    while (this.used > 0 && this.used + bytes > dataLimits().maxImageBytes) await new Promise<void>((r) => this.waiting.push(r));
    this.used += bytes;
  }
  release(bytes: number): void {
    this.used -= bytes;
    for (const wake of this.waiting.splice(0)) wake();
  }
}

const readBudget = new MemoryBudget();

function checkScalar3d(v: Volume, file: string, caseId: string, out: Collector, isLabel = false): boolean {
  if (v.shape.length === 4) {
    const fix = isLabel
      ? 'a label must be one 3D map of integer values (0 background, 1..K the classes): merge per-class volumes into one map (value k where volume k is set)'
      : 'nnU-Net needs one 3D file per channel (_0000, _0001, ...); `nnunet convert-msd` splits Decathlon tasks this way';
    out.error('4d-file', `is 4D (${v.shape[0]} volumes): ${fix}`, { case: caseId, file });
    return false;
  }
  return true;
}

function checkFinite(v: Volume, file: string, caseId: string, out: Collector): void {
  const r = valueRange(v.data);
  if (r.nan > 0 || r.inf > 0) {
    out.error('non-finite', `contains ${r.nan} NaN and ${r.inf} Inf voxels; ${NON_FINITE_FIX}`, { case: caseId, file });
  }
}

function compareGeometry(ref: Volume, refFile: string, v: Volume, file: string, caseId: string, out: Collector, opts: VerifyOptions): void {
  const a = ref.shape.join('x');
  const b = v.shape.join('x');
  if (a !== b) {
    out.error('shape-mismatch', `shape ${b} (z,y,x) differs from ${path.basename(refFile)}'s ${a}`, { case: caseId, file });
    return;
  }
  for (const what of geometryDifferences(ref.geometry, v.geometry, opts.tolerance ?? NUMPY_ISCLOSE)) {
    const msg = `${what} (${v.geometry[what].map((x) => +x.toFixed(6)).join(', ')}) differs from ${path.basename(refFile)}'s (${ref.geometry[what].map((x) => +x.toFixed(6)).join(', ')})`;
    if (what === 'spacing' || opts.strictGeometry) out.error('geometry-mismatch', msg, { case: caseId, file });
    else out.warn('geometry-mismatch', `${msg}; nnU-Net proceeds, but check that image and label line up`, { case: caseId, file });
  }
}

function checkLabelValues(v: Volume, file: string, caseId: string, allowed: Set<number>, out: Collector): void {
  const values = distinctValues(v.data, 4096);
  if (!values) {
    out.error('label-values', 'has more than 4096 distinct values: this is not a segmentation (is it an image in labelsTr?)', { case: caseId, file });
    return;
  }
  const nonInteger = values.filter((x) => !Number.isInteger(x));
  if (nonInteger.length > 0) {
    out.error('label-values', `has non-integer values (${nonInteger.slice(0, 5).join(', ')}${nonInteger.length > 5 ? ', ...' : ''}); labels must be integers`, { case: caseId, file });
    return;
  }
  const unexpected = values.filter((x) => !allowed.has(x));
  if (unexpected.length > 0) {
    out.error('label-values', `has label values ${unexpected.join(', ')} that dataset.json does not declare (declared: ${[...allowed].sort((a, b) => a - b).join(', ')})`, { case: caseId, file });
  }
}

function checkDeclaredLabels(d: DatasetDescription, out: Collector): Set<number> {
  const values = labelValues(d);
  const regionValues = d.labels.flatMap((l) => (Array.isArray(l.value) ? l.value : []));
  const all = new Set([...values, ...regionValues]);
  // As v2: the labels inside regions count (all_labels), and the ignore label follows them.
  const sorted = [...all].sort((a, b) => a - b);
  if (values[0] !== 0) out.error('declared-labels', `dataset.json labels must include 0 (background); got ${values.join(', ') || 'none'}`, { file: d.jsonFile });
  const gaps = sorted.some((v, i) => v !== i);
  if (values[0] === 0 && gaps) out.error('declared-labels', `dataset.json label values must be consecutive 0..K-1; got ${sorted.join(', ')}`, { file: d.jsonFile });
  if (d.format === 'v2') checkLabelManager(d, out);
  if (values.length < 2 && regionValues.length === 0) out.error('declared-labels', 'dataset.json declares no foreground label', { file: d.jsonFile });
  const ignore = d.labels.find((l) => l.name === 'ignore');
  if (ignore && typeof ignore.value === 'number' && ignore.value !== Math.max(...values)) {
    out.error('declared-labels', `the "ignore" label must have the highest value (${Math.max(...values)}), has ${ignore.value}`, { file: d.jsonFile });
  }
  return all;
}

/** Tiff3DIO's spacing files (<case>.json beside the tiffs) belong to their case. */
function spacingSidecars(cases: CaseFiles[], d: DatasetDescription, holdsImages: boolean): Set<string> {
  if (d.readerWriter !== 'Tiff3DIO' && d.readerWriter !== 'NaturalImage2DIO') return new Set();
  const files = cases.flatMap((c) => (holdsImages ? c.images.slice(0, 1) : c.label ? [c.label] : []));
  return new Set(files.map((f) => spacingSidecar(f, holdsImages ? 'image' : 'seg')));
}

/** Regions need regions_class_order with one entry each; the ignore label is one integer (io/label-manager.ts). */
function checkLabelManager(d: DatasetDescription, out: Collector): void {
  try {
    specialLabelSpec(Object.fromEntries(d.labels.map((l) => [l.name, l.value])), d.regionsClassOrder, d.jsonFile);
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    out.error('declared-labels', err.message.replace(`${d.jsonFile}: `, ''), { file: d.jsonFile });
  }
}

/** Files in a folder that belong to no listed case, with a hint when they look like an extra channel. */
function checkUnexpectedFiles(folder: string, expected: Set<string>, cases: CaseFiles[], d: DatasetDescription, out: Collector, holdsImages: boolean): void {
  const ids = new Set(cases.map((c) => c.id));
  const sidecars = spacingSidecars(cases, d, holdsImages);
  for (const f of listFiles(folder)) {
    const abs = path.join(folder, f);
    if (expected.has(abs) || sidecars.has(abs)) continue;
    const m = /^(.+)_(\d{4})/.exec(f.slice(0, f.length - d.fileEnding.length));
    if (holdsImages && f.endsWith(d.fileEnding) && m && ids.has(m[1])) {
      out.error('wrong-channel-count', `channel ${m[2]} exists but dataset.json declares ${d.modalities.length} modalit${d.modalities.length === 1 ? 'y' : 'ies'} (${d.modalities.join(', ')})`, { case: m[1], file: abs });
    } else {
      out.error('unexpected-file', `belongs to no case listed in dataset.json: remove it or list it`, { file: abs });
    }
  }
}

/**
 * The channels a case's files hold: a colour picture (NaturalImage2DIO) holds several, checked as one 3D volume
 * (its first channel) and counted against dataset.json's channels; every other file is one channel.
 */
class ChannelCount {
  private count = 0;
  private several = false;
  constructor(private readonly c: CaseFiles, private readonly out: Collector, private readonly readerWriter?: ReaderWriterName) {}
  add(file: string, v: Volume | undefined): Volume | undefined {
    if (!v || v.shape.length !== 4 || !holdsSeveralChannels(file, this.readerWriter)) {
      this.count += 1;
      return v;
    }
    this.several = true;
    this.count += channelCount(v);
    return channelsOf(v)[0];
  }
  check(modalities: string[]): void {
    if (!this.several || this.count === modalities.length) return;
    this.out.error('wrong-channel-count', `its pictures hold ${this.count} channels but dataset.json declares ${modalities.length} (${modalities.join(', ')})`, { case: this.c.id, file: this.c.images[0] });
  }
}

async function checkTrainingCase(c: CaseFiles, allowed: Set<number>, out: Collector, opts: VerifyOptions, axcodes: Map<string, string[]>, modalities: string[], readerWriter?: ReaderWriterName): Promise<void> {
  const label = c.label ? await load(c.label, c.id, out, { role: 'seg', readerWriter }) : undefined;
  if (label && checkScalar3d(label, c.label!, c.id, out, true)) {
    checkFinite(label, c.label!, c.id, out);
    checkLabelValues(label, c.label!, c.id, allowed, out);
  }
  const channels = new ChannelCount(c, out, readerWriter);
  for (const file of c.images) {
    const img = channels.add(file, await load(file, c.id, out, { role: 'image', readerWriter }));
    if (!img || !checkScalar3d(img, file, c.id, out)) continue;
    checkFinite(img, file, c.id, out);
    if (label && label.shape.length === 3) compareGeometry(label, c.label!, img, file, c.id, out, opts);
    const codes = axisCodes(img.geometry);
    axcodes.set(codes, [...(axcodes.get(codes) ?? []), out.rel(file)]);
  }
  channels.check(modalities);
}

async function checkTestCase(c: CaseFiles, out: Collector, opts: VerifyOptions, modalities: string[], readerWriter?: ReaderWriterName): Promise<void> {
  let first: Volume | undefined;
  const channels = new ChannelCount(c, out, readerWriter);
  for (const file of c.images) {
    const img = channels.add(file, await load(file, c.id, out, { role: 'image', readerWriter }));
    if (!img || !checkScalar3d(img, file, c.id, out)) continue;
    checkFinite(img, file, c.id, out);
    if (first) compareGeometry(first, c.images[0], img, file, c.id, out, opts);
    else first = img;
  }
  channels.check(modalities);
}

/** Cases checked at once: gunzip runs on libuv's thread pool, so a few cases overlap their reads. */
const CASE_CONCURRENCY = 4;

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Stable report order whatever order the cases finished in: dataset-level first, then by case and file. */
function byPlace(a: Problem, b: Problem): number {
  const key = (p: Problem) => `${p.case === undefined ? 0 : 1}\u0000${p.case ?? ''}\u0000${p.file ?? ''}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

function isEmptyFolder(dir: string): boolean {
  return fs.existsSync(dir) && fs.readdirSync(dir).filter((f) => !f.startsWith('.')).length === 0;
}

export async function verifyDatasetFolder(taskDir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const dir = path.resolve(taskDir);
  const out = new Collector(dir);
  const done = (summary?: VerifyOutput): VerifyReport => ({ ok: !out.problems.some((p) => p.severity === 'error'), taskDir: dir, problems: out.problems, summary });
  let d: DatasetDescription;
  try {
    d = readDataset(dir);
  } catch (err) {
    out.error('dataset-json', (err as Error).message.replace(`${path.join(dir, 'dataset.json')}: `, ''), { file: path.join(dir, 'dataset.json') });
    return done();
  }
  for (const sub of ['imagesTr', 'labelsTr']) {
    if (!fs.existsSync(path.join(dir, sub))) out.error('missing-folder', `${sub}/ is missing`, { file: path.join(dir, sub) });
  }
  if (d.training.length === 0) out.error('no-training-cases', d.format === 'v1' ? 'dataset.json lists no training cases' : `imagesTr/ holds no <case>_0000${d.fileEnding} files`, { file: d.jsonFile });
  if (d.numTraining !== undefined && d.numTraining !== d.training.length) {
    out.error('num-training', `numTraining is ${d.numTraining} but ${d.training.length} training cases were found`, { file: d.jsonFile });
  }
  const seen = new Set<string>();
  for (const c of d.training) {
    if (seen.has(c.id)) out.error('duplicate-case', 'listed more than once in dataset.json', { case: c.id, file: d.jsonFile });
    seen.add(c.id);
  }
  const allowed = checkDeclaredLabels(d, out);
  const axcodes = new Map<string, string[]>();
  if (d.training.length > 0 && isEmptyFolder(path.join(dir, 'imagesTr'))) {
    // One line instead of one "file is missing" per image: the whole folder is what is wrong.
    out.error('empty-folder', `imagesTr/ is empty but dataset.json lists ${d.training.length} training cases; put the images there (<case>_0000.nii.gz per modality)`, { file: path.join(dir, 'imagesTr') });
  } else {
    await forEachLimit(d.training, CASE_CONCURRENCY, (c) => checkTrainingCase(c, allowed, out, opts, axcodes, d.modalities, d.readerWriter));
  }
  checkUnexpectedFiles(path.join(dir, 'imagesTr'), new Set(d.training.flatMap((c) => c.images)), d.training, d, out, true);
  checkUnexpectedFiles(path.join(dir, 'labelsTr'), new Set(d.training.flatMap((c) => (c.label ? [c.label] : []))), d.training, d, out, false);
  await forEachLimit(d.test, CASE_CONCURRENCY, (c) => checkTestCase(c, out, opts, d.modalities, d.readerWriter));
  if (d.test.length > 0 || d.format === 'v2') {
    checkUnexpectedFiles(path.join(dir, 'imagesTs'), new Set(d.test.flatMap((c) => c.images)), d.test, d, out, true);
  }
  if (axcodes.size > 1) {
    const kinds = [...axcodes].map(([codes, files]) => `${codes} (${files.length} files, e.g. ${files[0]})`).join(', ');
    out.warn('orientation', `images in imagesTr have different orientations: ${kinds}; nnU-Net proceeds but mixed orientations can hurt training`);
  }
  out.problems.sort(byPlace);
  return done({ numTrainingCases: d.training.length, numTestCases: d.test.length, modalities: d.modalities, labels: labelsByValue(d) });
}

/** The verify step: all problems in one BadInputError, or the dataset's summary. */
export async function verifyOrThrow(taskDir: string, opts: VerifyOptions = {}): Promise<VerifyOutput> {
  const report = await verifyDatasetFolder(taskDir, opts);
  if (!report.ok || !report.summary) {
    const errors = report.problems.filter((p) => p.severity === 'error');
    throw new BadInputError(
      `dataset ${report.taskDir} failed verification with ${errors.length} problem${errors.length === 1 ? '' : 's'}:\n` +
        errors.map((p) => `  - ${formatProblem(p)}`).join('\n'),
      path.join(report.taskDir, 'dataset.json'));
  }
  return report.summary;
}

