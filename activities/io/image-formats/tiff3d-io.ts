/**
 * nnU-Net v2's Tiff3DIO: a 3D tiff (pages are z) whose spacing lives in a sidecar JSON, {"spacing": [z, y, x]} in
 * array order, because tiff has no standard place for it. An image's sidecar drops the channel suffix
 * (case_0000.tif → case.json), a segmentation's only the ending (case.tif → case.json). No sidecar: spacing
 * (1, 1, 1), as v2 assumes. Origin and direction are not stored (zero, identity).
 */
import * as fs from 'node:fs';
import { writeJsonAtomic } from '../../common/atomic';
import { BadInputError } from '../../common/errors';
import { geometryFromArraySpacing, arraySpacing, type Vec3 } from '../geometry';
import { readBytesSync } from '../read-bytes';
import type { Volume } from '../volume';
import { readItkImage, writeItkImage } from './itk-wasm';
import { itkImageOf, itkVoxels } from './itk-volume';
import { endingOf, type ImageReaderWriter, type ImageRole } from './reader-writer';

export const TIFF_ENDINGS = ['.tif', '.tiff'] as const;

/** Where Tiff3DIO looks for the spacing of `file`. */
export function spacingSidecar(file: string, role: ImageRole): string {
  const ending = endingOf(file, TIFF_ENDINGS) ?? '';
  const stem = file.slice(0, file.length - ending.length);
  return `${role === 'image' ? stem.replace(/_\d{4}$/, '') : stem}.json`;
}

function readSpacing(sidecar: string): Vec3 {
  if (!fs.existsSync(sidecar)) return [1, 1, 1];
  let spacing: unknown;
  try {
    spacing = (JSON.parse(readBytesSync(sidecar, { what: 'tiff spacing file' }).toString('utf8')) as { spacing?: unknown }).spacing;
  } catch (err) {
    throw new BadInputError(`${sidecar}: not valid JSON (${(err as Error).message}); it must read {"spacing": [z, y, x]}`, sidecar);
  }
  if (!Array.isArray(spacing) || spacing.length !== 3 || !spacing.every((s) => typeof s === 'number' && s > 0)) {
    throw new BadInputError(`${sidecar}: "spacing" must be three positive numbers [z, y, x], got ${JSON.stringify(spacing)}`, sidecar);
  }
  return spacing as Vec3;
}

export async function readTiff3d(file: string, role: ImageRole): Promise<Volume> {
  const image = await readItkImage(file);
  if (image.imageType.dimension !== 3 || image.imageType.components !== 1) {
    throw new BadInputError(`${file}: Tiff3DIO reads 3D single-channel tiffs only (this is ${image.imageType.dimension}D with ${image.imageType.components} components); 2D tiffs are NaturalImage2DIO's: set "overwrite_image_reader_writer": "NaturalImage2DIO" in dataset.json`, file);
  }
  const { data, dtype, spatial } = itkVoxels(image, file);
  return { data, dtype, shape: spatial, geometry: geometryFromArraySpacing(readSpacing(spacingSidecar(file, role))) };
}

/** The tiff and its spacing sidecar (as v2's write_seg). */
export async function writeTiff3d(file: string, volume: Volume, role: ImageRole): Promise<void> {
  if (volume.shape.length !== 3) throw new BadInputError(`${file}: Tiff3DIO writes one 3D map, got shape ${volume.shape.join('x')}`, file);
  await writeItkImage(file, itkImageOf(volume, { dimension: 3, components: 1, geometry: geometryFromArraySpacing([1, 1, 1]) }));
  writeJsonAtomic(spacingSidecar(file, role), { spacing: arraySpacing(volume.geometry) });
}

export const tiff3dIO: ImageReaderWriter = {
  name: 'Tiff3DIO',
  read: readTiff3d,
  write: writeTiff3d,
};
