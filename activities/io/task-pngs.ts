/**
 * nnUNet_plot_task_pngs (v1 `utilities/overlay_plots.py`): one PNG per training case, the axial slice (first array
 * axis) with the most foreground, the image scaled to 0-255 with each label's colour added at 0.6, then rescaled
 * to 0-255, as nnU-Net's generate_overlay does. From the preprocessed data (the last stage of the default data
 * identifier; the segmentation is the last channel) or, with useRaw, from imagesTr/labelsTr (NIfTI or another
 * format of the image registry, the labels' ending).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zlibSync } from 'fflate';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { imageEndingOf, readImageFile } from './image-formats/registry';
import { readNpy } from './npy';
import { channelFileName } from './dataset';

/** The labels' ending when labelsTr holds none yet (the error then names the folder). */
const NIFTI_ENDING = '.nii.gz';

const COLOR_CYCLE = ['000000', '4363d8', 'f58231', '3cb44b', 'e6194B', '911eb4', 'ffe119', 'bfef45', '42d4f4', 'f032e6', '000075', '9A6324', '808000', '800000', '469990'];
const OVERLAY_INTENSITY = 0.6;

interface Slice { image: Float64Array; seg: Float64Array; height: number; width: number }

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** An 8-bit RGB PNG. */
export function encodePngRgb(rgb: Uint8Array, width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const raw = new Uint8Array(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', zlibSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** nnU-Net's generate_overlay: labels coloured by their rank among the slice's unique values. */
export function overlayRgb(s: Slice): Uint8Array {
  const n = s.width * s.height;
  let min = Infinity;
  let max = -Infinity;
  for (const v of s.image) { if (v < min) min = v; if (v > max) max = v; }
  const rgb = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = max > min ? ((s.image[i] - min) / (max - min)) * 255 : 0;
    rgb.fill(v, i * 3, i * 3 + 3);
  }
  const uniques = [...new Set(s.seg)].sort((a, b) => a - b);
  const colourOf = new Map(uniques.map((l, idx) => [l, COLOR_CYCLE[idx % COLOR_CYCLE.length]]));
  for (let i = 0; i < n; i++) {
    const hex = colourOf.get(s.seg[i])!;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] += OVERLAY_INTENSITY * parseInt(hex.slice(c * 2, c * 2 + 2), 16);
  }
  let top = 0;
  for (const v of rgb) if (v > top) top = v;
  return Uint8Array.from(rgb, (v) => (top > 0 ? Math.trunc((v / top) * 255) : 0));
}

/** The slice (first axis) with the most foreground (first one on ties, as np.argmax). */
function mostForegroundSlice(image: ArrayLike<number>, seg: ArrayLike<number>, shape: readonly number[], imageOffset = 0, segOffset = 0): Slice {
  const [depth, height, width] = shape;
  const plane = height * width;
  let best = 0;
  let bestCount = -1;
  for (let z = 0; z < depth; z++) {
    let count = 0;
    for (let i = 0; i < plane; i++) if (seg[segOffset + z * plane + i] > 0) count++;
    if (count > bestCount) { best = z; bestCount = count; }
  }
  const slice: Slice = { image: new Float64Array(plane), seg: new Float64Array(plane), height, width };
  for (let i = 0; i < plane; i++) {
    slice.image[i] = image[imageOffset + best * plane + i];
    slice.seg[i] = Math.max(0, seg[segOffset + best * plane + i]);
  }
  return slice;
}

function writePng(file: string, slice: Slice): void {
  writeFileAtomic(file, encodePngRgb(overlayRgb(slice), slice.width, slice.height));
}

/** The preprocessed folder nnU-Net plots: the last `<data identifier>_stage<N>` (the full-resolution stage). */
export function preprocessedStageFolder(preprocessedDir: string, dataIdentifier: string): string {
  const stages = fs.existsSync(preprocessedDir) ? fs.readdirSync(preprocessedDir).filter((d) => d.startsWith(`${dataIdentifier}_stage`)).sort() : [];
  if (stages.length === 0) throw new BadInputError(`${preprocessedDir}: no ${dataIdentifier}_stage* folder; run nnUNet_plan_and_preprocess first, or pass --use_raw`, preprocessedDir);
  return path.join(preprocessedDir, stages[stages.length - 1]);
}

async function plotPreprocessed(stageDir: string, outDir: string, modality: number): Promise<string[]> {
  const cases = fs.readdirSync(stageDir).filter((f) => f.endsWith('.npy')).map((f) => f.slice(0, -4)).sort();
  for (const id of cases) {
    const file = path.join(stageDir, `${id}.npy`);
    const arr = await readNpy(file);
    const [channels, ...shape] = arr.shape;
    if (modality >= channels - 1) throw new BadInputError(`${file}: -modality_idx ${modality}, but this dataset has modality indices up to ${channels - 2}`, file);
    const plane = shape.reduce((a, b) => a * b, 1);
    writePng(path.join(outDir, `${id}.png`), mostForegroundSlice(arr.data, arr.data, shape, modality * plane, (channels - 1) * plane));
  }
  return cases;
}

async function plotRaw(rawDir: string, outDir: string, modality: number): Promise<string[]> {
  const labelsDir = path.join(rawDir, 'labelsTr');
  if (!fs.existsSync(labelsDir)) throw new BadInputError(`${labelsDir}: missing; is ${rawDir} an nnU-Net task folder?`, rawDir);
  const labels = fs.readdirSync(labelsDir).filter((f) => !f.startsWith('.') && imageEndingOf(f) !== undefined);
  const ending = imageEndingOf(labels[0] ?? '') ?? NIFTI_ENDING;
  const ids = labels.filter((f) => f.endsWith(ending)).map((f) => f.slice(0, -ending.length)).sort();
  for (const id of ids) {
    const imageFile = path.join(rawDir, 'imagesTr', channelFileName(id, modality, ending));
    if (!fs.existsSync(imageFile)) throw new BadInputError(`${imageFile}: missing (-modality_idx ${modality})`, imageFile);
    const [image, seg] = await Promise.all([readImageFile(imageFile, 'image'), readImageFile(path.join(labelsDir, `${id}${ending}`), 'seg')]);
    if (image.shape.join() !== seg.shape.join()) throw new BadInputError(`${imageFile}: image and segmentation shapes differ (${image.shape.join('x')} vs ${seg.shape.join('x')})`, imageFile);
    writePng(path.join(outDir, `${id}.png`), mostForegroundSlice(image.data, seg.data, image.shape));
  }
  return ids;
}

export interface TaskPngsOptions { rawDir: string; preprocessedDir: string; dataIdentifier: string; outDir: string; modality?: number; useRaw?: boolean }

/** Writes OUT/<case>.png for every training case; returns the case ids. */
export async function plotTaskPngs(opts: TaskPngsOptions): Promise<string[]> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const modality = opts.modality ?? 0;
  return opts.useRaw ? plotRaw(opts.rawDir, opts.outDir, modality) : plotPreprocessed(preprocessedStageFolder(opts.preprocessedDir, opts.dataIdentifier), opts.outDir, modality);
}
