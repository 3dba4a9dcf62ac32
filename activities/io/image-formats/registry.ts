/**
 * The image reader/writer registry, chosen as nnU-Net v2 chooses (nnunetv2/imageio/reader_writer_registry.py):
 * dataset.json's `overwrite_image_reader_writer` when it names a known class, else the first class in v2's
 * registry order that supports `file_ending`. NIfTI is always read and written by our exact reader
 * (SimpleITK's geometry), whichever class names it; the other formats load itk-wasm on first use.
 * See docs/image-formats.md.
 */
import { BadInputError } from '../../common/errors';
import type { Volume } from '../volume';
import { NATURAL_IMAGE_ENDINGS, naturalImage2dIO } from './natural-image-io';
import { NIFTI_ENDINGS, niftiIO } from './nifti-io';
import { endingOf, READER_WRITER_NAMES, type ImageReaderWriter, type ImageRole, type ReaderWriterName } from './reader-writer';
import { SIMPLEITK_ENDINGS, simpleItkIO } from './simpleitk-io';
import { TIFF_ENDINGS, tiff3dIO } from './tiff3d-io';

export { type ImageReaderWriter, type ImageRole, type ReaderWriterName } from './reader-writer';

/** v2's classes in registry order with the endings each supports here (.mhd beyond v2: ITK reads it as .mha). */
const CLASSES: ReadonlyArray<{ name: ReaderWriterName; endings: readonly string[]; io: ImageReaderWriter }> = [
  { name: 'NaturalImage2DIO', endings: NATURAL_IMAGE_ENDINGS, io: naturalImage2dIO },
  { name: 'SimpleITKIO', endings: ['.nii.gz', ...SIMPLEITK_ENDINGS], io: simpleItkIO },
  { name: 'Tiff3DIO', endings: TIFF_ENDINGS, io: tiff3dIO },
  { name: 'NibabelIO', endings: NIFTI_ENDINGS, io: niftiIO },
  { name: 'NibabelIOWithReorient', endings: NIFTI_ENDINGS, io: niftiIO },
];

/** Every file ending some reader/writer supports. */
export const IMAGE_ENDINGS: readonly string[] = [...new Set(CLASSES.flatMap((c) => c.endings))];

/** The image ending of a file name (".nii.gz", ".png", ...), or undefined. */
export function imageEndingOf(file: string): string | undefined {
  return endingOf(file, IMAGE_ENDINGS);
}

export function isReaderWriterName(name: unknown): name is ReaderWriterName {
  return (READER_WRITER_NAMES as readonly unknown[]).includes(name);
}

/** What dataset.json says about its images. */
export interface ImageFormatSpec {
  file_ending: string;
  overwrite_image_reader_writer?: string;
}

/** The v2 class for a dataset (determine_reader_writer_from_dataset_json); an unknown ending is a BadInputError. */
export function readerWriterName(spec: ImageFormatSpec, where = 'dataset.json'): ReaderWriterName {
  const named = spec.overwrite_image_reader_writer;
  if (isReaderWriterName(named)) return named;
  const ending = spec.file_ending.toLowerCase();
  const found = CLASSES.find((c) => c.endings.includes(ending));
  if (!found) {
    throw new BadInputError(`${where}: file_ending "${spec.file_ending}" has no image reader/writer; use one of ${IMAGE_ENDINGS.join(', ')} (convert the images, e.g. with SimpleITK, otherwise)`, where);
  }
  return found.name;
}

/** The reader/writer that serves a file: NIfTI files always get ours; others the named class or their ending's. */
export function readerWriterFor(file: string, name?: ReaderWriterName): ImageReaderWriter {
  if (endingOf(file, NIFTI_ENDINGS)) return niftiIO;
  if (name) return CLASSES.find((c) => c.name === name)!.io;
  return CLASSES.find((c) => c.endings.includes(imageEndingOf(file) ?? ''))?.io ?? unsupported(file);
}

function unsupported(file: string): never {
  throw new BadInputError(`${file}: no image reader/writer for this file ending; supported: ${IMAGE_ENDINGS.join(', ')}`, file);
}

/** Reads an image (role 'image') or a segmentation ('seg') with the reader/writer of `name` or of its ending. */
export function readImageFile(file: string, role: ImageRole = 'image', name?: ReaderWriterName): Promise<Volume> {
  return readerWriterFor(file, name).read(file, role);
}

export function writeImageFile(file: string, volume: Volume, role: ImageRole = 'seg', name?: ReaderWriterName): Promise<void> {
  return readerWriterFor(file, name).write(file, volume, role);
}
