/**
 * nnU-Net v2's NaturalImage2DIO: a 2D picture (.png, .bmp, .tif) becomes one slice with array-order spacing
 * (999, 1, 1); a grayscale picture is one channel, RGB(A) three (four), shape (c, 1, y, x). The picture's own
 * resolution tags are ignored, as v2 ignores them. A segmentation is written as an 8-bit grayscale picture.
 * As v2's registry, which tries this class first for .tif and moves on when it cannot read the file, a 3D tiff
 * is handed to Tiff3DIO.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import { geometryFromArraySpacing, type Geometry } from '../geometry';
import type { Volume, VoxelArray } from '../volume';
import { readItkImage, writeItkImage } from './itk-wasm';
import { itkImageOf, itkVoxels } from './itk-volume';
import { endingOf, type ImageReaderWriter, type ImageRole } from './reader-writer';
import { readTiff3d, TIFF_ENDINGS, writeTiff3d } from './tiff3d-io';

/** Not .jpg: lossy compression would corrupt segmentations, which is why v2 leaves it out. */
export const NATURAL_IMAGE_ENDINGS = ['.png', '.bmp', '.tif'] as const;

export function naturalImageGeometry(): Geometry {
  return geometryFromArraySpacing([999, 1, 1]);
}

const isTiff = (file: string) => endingOf(file, TIFF_ENDINGS) !== undefined;

export async function readNaturalImage(file: string, role: ImageRole): Promise<Volume> {
  const image = await readItkImage(file);
  const { dimension, components } = image.imageType;
  if (dimension === 3 && components === 1 && isTiff(file)) return readTiff3d(file, role);
  if (dimension !== 2) throw new BadInputError(`${file}: NaturalImage2DIO reads 2D pictures only, this one is ${dimension}D`, file);
  if (components === 2 || components > 4) {
    throw new BadInputError(`${file}: has ${components} components per pixel; NaturalImage2DIO reads grayscale, RGB or RGBA pictures`, file);
  }
  const v = itkVoxels(image, file);
  const data = role === 'seg' || isIndexedBmp(file) ? oneLabelChannel(v.data, components, file) : v.data;
  const channels = data.length / (v.spatial[0] * v.spatial[1]);
  const shape = channels === 1 ? [1, ...v.spatial] : [channels, 1, ...v.spatial];
  return { data, dtype: v.dtype, shape, geometry: naturalImageGeometry() };
}

/** BMP's bits per pixel (header offset 28): 8 or fewer is a palette picture, grayscale as skimage reads it. */
function isIndexedBmp(file: string): boolean {
  if (endingOf(file, ['.bmp']) === undefined) return false;
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(30);
    return fs.readSync(fd, head, 0, 30, 0) === 30 && head.readUInt16LE(28) <= 8;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A label picture is one channel. ITK reads an 8-bit palette picture (as BMP writers store grayscale) as RGB with
 * equal channels: that is one channel too; colours that differ are refused.
 */
function oneLabelChannel(data: VoxelArray, components: number, file: string): VoxelArray {
  if (components === 1) return data;
  const n = data.length / components;
  for (let i = 0; i < n; i++) {
    if (data[n + i] !== data[i] || data[2 * n + i] !== data[i]) {
      throw new BadInputError(`${file}: a segmentation (or an 8-bit palette BMP) must be a grayscale picture (one value per pixel), this one has colours; save it as 8-bit grayscale`, file);
    }
  }
  return data.subarray(0, n);
}

/** A segmentation as 8-bit grayscale (v2 casts to uint8); an image keeps its type and channels. */
export async function writeNaturalImage(file: string, volume: Volume, role: ImageRole): Promise<void> {
  const spatial = volume.shape.length === 4 ? volume.shape.slice(1) : volume.shape;
  if (spatial[0] !== 1 && isTiff(file) && volume.shape.length === 3) return writeTiff3d(file, volume, role);
  if (spatial[0] !== 1) throw new BadInputError(`${file}: NaturalImage2DIO writes one 2D slice, got shape ${volume.shape.join('x')}`, file);
  const components = volume.shape.length === 4 ? volume.shape[0] : 1;
  if (role === 'seg' && components !== 1) throw new BadInputError(`${file}: a segmentation is one channel, got ${components}`, file);
  const out = role === 'seg' && volume.dtype !== 'uint8' ? { ...volume, data: Uint8Array.from(volume.data as ArrayLike<number>), dtype: 'uint8' as const } : volume;
  await writeItkImage(file, itkImageOf(out, { dimension: 2, components, geometry: naturalImageGeometry() }));
}

export const naturalImage2dIO: ImageReaderWriter = {
  name: 'NaturalImage2DIO',
  read: readNaturalImage,
  write: writeNaturalImage,
};
