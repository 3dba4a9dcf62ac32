/**
 * Label maps for evaluation and postprocessing, read and written through the data layer's image reader/writer
 * registry (NIfTI by our own reader; v2's other formats by their file ending, see docs/image-formats.md).
 * A label map is one 3D volume (a 4D file with a single channel is accepted) in array order [z, y, x].
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { readImageFile, writeImageFile, type ReaderWriterName } from '../io/image-formats/registry';
import type { LabelArray, Volume } from '../io/volume';

export interface LabelVolume extends Volume {
  shape: [number, number, number];
}

/** Reads a label map (any registered format, `readerWriter` or its ending's class); bad files raise BadInputError naming the file. */
export async function readLabelVolume(file: string, readerWriter?: ReaderWriterName): Promise<LabelVolume> {
  const v = await readImageFile(file, 'seg', readerWriter);
  if (v.shape.length === 4 && v.shape[0] !== 1) {
    throw new BadInputError(`${file}: a label map must be one 3D volume, this file has ${v.shape[0]} channels`, file);
  }
  const s = v.shape.slice(-3);
  const shape: [number, number, number] = [s.length === 3 ? s[0] : 1, s.length >= 2 ? s[s.length - 2] : 1, s[s.length - 1]];
  return { data: v.data, dtype: v.dtype, geometry: v.geometry, shape };
}

/** Voxel volume in mm³ (product of the spacing), as nnU-Net's load_remove_save computes it. */
export function voxelVolume(v: Pick<Volume, 'geometry'>): number {
  return v.geometry.spacing[0] * v.geometry.spacing[1] * v.geometry.spacing[2];
}

/** Writes `labels` with the geometry and data type of `like` (nnU-Net's copy_geometry), atomically. */
export async function writeLabelVolumeLike(like: LabelVolume, labels: LabelArray, file: string, readerWriter?: ReaderWriterName): Promise<void> {
  if (labels.length !== like.data.length || labels.constructor !== like.data.constructor) {
    throw new Error('writeLabelVolumeLike: labels must have the source volume\'s voxel count and element type');
  }
  await writeImageFile(file, { data: labels, dtype: like.dtype, shape: like.shape, geometry: like.geometry } as Volume, 'seg', readerWriter);
}

/** Label map files of a folder (.nii.gz or .nii), sorted, skipping hidden and temporary files. */
export function listLabelFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new BadInputError(`${dir}: not a folder`, dir);
  return fs.readdirSync(dir)
    .filter((f) => !f.startsWith('.') && (f.endsWith('.nii.gz') || f.endsWith('.nii')))
    .sort();
}
