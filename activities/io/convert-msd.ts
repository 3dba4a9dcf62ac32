/**
 * nnUNet_convert_decathlon_task (nnU-Net v1 experiment_planning/utils.py:split_4d): a Medical Segmentation
 * Decathlon folder TaskYY_NAME becomes nnU-Net's TaskXXX_NAME. 4D images are split into one 3D file per channel
 * (_0000, _0001, ...; geometry = the 4D file's spatial geometry), 3D images are copied byte for byte as _0000,
 * labelsTr and dataset.json are copied as they are. The output folder is built under a temporary name and renamed
 * into place. An existing task folder is refused unless `overwrite`, and then only the converted files replace
 * theirs: nothing we did not write is deleted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { tempSibling } from '../common/atomic';
import { readBytesSync } from './read-bytes';
import { channelFileName, listFiles } from './dataset';
import { readNifti, writeNifti } from './nifti';
import { channel, numChannels } from './volume';
import { rawTasksFolder } from './layout';

export interface ConvertMsdResult {
  taskName: string;
  outDir: string;
  /** Image files read (imagesTr + imagesTs). */
  numImages: number;
  /** Of those, 4D files split into channels. */
  numSplit: number;
  numLabels: number;
}

/** Parses an MSD folder name: Task04_Hippocampus -> { id: 4, name: 'Hippocampus' }. */
export function parseMsdName(folder: string): { id: number; name: string } {
  const base = path.basename(path.resolve(folder));
  const m = /^Task(\d{2})_(.+)$/.exec(base);
  if (!m) throw new BadInputError(`${folder}: an MSD task folder is named TaskYY_NAME with a 2-digit id (e.g. Task04_Hippocampus), got '${base}'`, folder);
  return { id: Number(m[1]), name: m[2] };
}

const NII = '.nii.gz';

/**
 * A new file's mode: what the umask allows (as every output), and to group and others no more than the source
 * allows them: medical images are personal data, a private source stays private. The owner may always write it.
 */
function restrictLike(source: string, target: string): void {
  const allowed = fs.statSync(source).mode | 0o600;
  fs.chmodSync(target, fs.statSync(target).mode & allowed & 0o777);
}

/** Copies a regular file's bytes (a link to a device or FIFO is refused by the reader). */
function copyFile(from: string, to: string): void {
  fs.writeFileSync(to, readBytesSync(from));
  restrictLike(from, to);
}

async function splitImage(file: string, outDir: string): Promise<boolean> {
  const base = path.basename(file).slice(0, -NII.length);
  const vol = await readNifti(file);
  if (numChannels(vol) === 1 && vol.shape.length === 3) {
    copyFile(file, path.join(outDir, channelFileName(base, 0, NII)));
    return false;
  }
  for (let c = 0; c < numChannels(vol); c++) {
    const ch = channel(vol, c);
    const target = path.join(outDir, channelFileName(base, c, NII));
    await writeNifti(target, { data: ch.data, shape: ch.shape, dtype: ch.dtype, geometry: vol.geometry });
    restrictLike(file, target);
  }
  return true;
}

export interface ConvertMsdOptions {
  /** Write over an existing task folder: the converted files replace theirs, every other file there is kept. */
  overwrite?: boolean;
}

/** Builds the task under a temporary sibling, then renames it into place (or moves its files over an existing one). */
async function buildTask(outDir: string, overwrite: boolean, build: (tmp: string) => Promise<void>): Promise<void> {
  if (fs.existsSync(outDir) && !overwrite) {
    throw new BadInputError(`${outDir}: the task folder already exists; nothing was changed. Pass --overwrite to write the converted files over it ` +
      '(files the conversion does not write are kept), or choose another task id with -t', outDir);
  }
  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  const tmp = tempSibling(outDir);
  fs.mkdirSync(tmp);
  try {
    await build(tmp);
    if (fs.existsSync(outDir)) moveFilesInto(tmp, outDir);
    else fs.renameSync(tmp, outDir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Moves every file of `from` to the same place under `to`, replacing only those files. */
function moveFilesInto(from: string, to: string): void {
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) {
      fs.mkdirSync(dst, { recursive: true });
      moveFilesInto(src, dst);
    } else {
      fs.renameSync(src, dst);
    }
  }
}

export async function convertMsd(inputDir: string, rawDataBase: string, taskId?: number, options: ConvertMsdOptions = {}): Promise<ConvertMsdResult> {
  const input = path.resolve(inputDir);
  for (const required of ['imagesTr', 'labelsTr', 'dataset.json']) {
    if (!fs.existsSync(path.join(input, required))) {
      throw new BadInputError(`${input}: not an MSD task folder: ${required} is missing (expected dataset.json, imagesTr/, labelsTr/)`, input);
    }
  }
  const { id, name } = parseMsdName(input);
  const outId = taskId ?? id;
  if (!Number.isInteger(outId) || outId < 1 || outId > 999) throw new BadInputError(`task id ${outId}: must be 1..999`);
  const taskName = `Task${String(outId).padStart(3, '0')}_${name}`;
  const outDir = path.join(rawTasksFolder(path.resolve(rawDataBase)), taskName);
  let numImages = 0;
  let numSplit = 0;
  let numLabels = 0;
  await buildTask(outDir, options.overwrite ?? false, async (tmp) => {
    for (const sub of ['imagesTr', 'imagesTs']) {
      fs.mkdirSync(path.join(tmp, sub));
      // Hidden files (macOS "._case.nii.gz" in the MSD tarballs) are not images.
      for (const f of listFiles(path.join(input, sub)).filter((x) => x.endsWith(NII))) {
        if (await splitImage(path.join(input, sub, f), path.join(tmp, sub))) numSplit++;
        numImages++;
      }
    }
    fs.mkdirSync(path.join(tmp, 'labelsTr'));
    for (const f of listFiles(path.join(input, 'labelsTr')).filter((x) => x.endsWith(NII))) {
      copyFile(path.join(input, 'labelsTr', f), path.join(tmp, 'labelsTr', f));
      numLabels++;
    }
    copyFile(path.join(input, 'dataset.json'), path.join(tmp, 'dataset.json'));
  });
  return { taskName, outDir, numImages, numSplit, numLabels };
}
