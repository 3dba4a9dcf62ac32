/**
 * nnU-Net v2's SimpleITKIO for ITK's formats (.nrrd, .mha, .mhd, .gipl) through itk-wasm: the geometry is what
 * SimpleITK reports. A 2D file becomes one slice whose array-order spacing is (999 * the largest spacing, y, x),
 * as SimpleITKIO gives nnU-Net; writing such a slice gives a 2D file again. A 4D file holds channels (its fourth
 * axis), as SimpleITKIO reads several modalities from one file.
 */
import { BadInputError } from '../../common/errors';
import type { Geometry } from '../geometry';
import type { Volume } from '../volume';
import { readItkImage, writeItkImage, type ItkImage } from './itk-wasm';
import { direction3, itkImageOf, itkVoxels, vec3 } from './itk-volume';
import type { ImageReaderWriter } from './reader-writer';

export const SIMPLEITK_ENDINGS = ['.nrrd', '.mha', '.mhd', '.gipl'] as const;

/** SimpleITKIO's factor for the spacing of the missing axis of a 2D image. */
const TWO_D_SPACING_FACTOR = 999;

function geometryOfItk(image: ItkImage): Geometry {
  const d = image.imageType.dimension;
  if (d === 2) {
    const through = TWO_D_SPACING_FACTOR * Math.max(...image.spacing.map(Math.abs));
    return { spacing: [image.spacing[0], image.spacing[1], through], origin: vec3(image.origin, 0), direction: direction3(image.direction, 2) };
  }
  return { spacing: vec3(image.spacing, 1), origin: vec3(image.origin, 0), direction: direction3(image.direction, d) };
}

export async function readSimpleItk(file: string): Promise<Volume> {
  const image = await readItkImage(file);
  const d = image.imageType.dimension;
  if (image.imageType.components !== 1) {
    throw new BadInputError(`${file}: has ${image.imageType.components} components per pixel (${image.imageType.pixelType}); nnU-Net's SimpleITKIO reads scalar images only: store each channel as its own file (_0000, _0001, ...)`, file);
  }
  if (d < 2 || d > 4) throw new BadInputError(`${file}: is ${d}D; SimpleITKIO reads 2D, 3D and 4D (channels) images`, file);
  const { data, dtype, spatial } = itkVoxels(image, file);
  const shape = d === 2 ? [1, ...spatial] : spatial;
  return { data, dtype, shape, geometry: geometryOfItk(image) };
}

/** A slice whose through-plane spacing is SimpleITKIO's 2D marker came from a 2D file. */
export function isTwoDSlice(volume: Pick<Volume, 'shape' | 'geometry'>): boolean {
  const [sx, sy, sz] = volume.geometry.spacing;
  return volume.shape.length === 3 && volume.shape[0] === 1 && sz === TWO_D_SPACING_FACTOR * Math.max(Math.abs(sx), Math.abs(sy));
}

export async function writeSimpleItk(file: string, volume: Volume): Promise<void> {
  if (volume.shape.length !== 3) throw new BadInputError(`${file}: SimpleITKIO writes one 3D (or 2D) map, got shape ${volume.shape.join('x')}`, file);
  await writeItkImage(file, itkImageOf(volume, { dimension: isTwoDSlice(volume) ? 2 : 3, components: 1, geometry: volume.geometry }));
}

export const simpleItkIO: ImageReaderWriter = {
  name: 'SimpleITKIO',
  read: (file) => readSimpleItk(file),
  write: (file, volume) => writeSimpleItk(file, volume),
};
