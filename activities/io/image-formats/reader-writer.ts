/**
 * What every image reader/writer does, whatever the format: one file to a Volume in nnU-Net's array order
 * ((z, y, x), or (c, z, y, x) when the file holds several channels) with its geometry in ITK order, and back.
 * The role matters where nnU-Net v2's classes treat images and segmentations differently (Tiff3DIO's sidecar name,
 * a label being one channel).
 */
import type { Volume } from '../volume';

export type ImageRole = 'image' | 'seg';

/** nnU-Net v2's reader/writer classes (nnunetv2/imageio), in its registry's order. */
export const READER_WRITER_NAMES = ['NaturalImage2DIO', 'SimpleITKIO', 'Tiff3DIO', 'NibabelIO', 'NibabelIOWithReorient'] as const;
export type ReaderWriterName = (typeof READER_WRITER_NAMES)[number];

export interface ImageReaderWriter {
  /** The nnU-Net v2 class whose semantics this follows. */
  readonly name: ReaderWriterName | 'NIfTI';
  read(file: string, role: ImageRole): Promise<Volume>;
  write(file: string, volume: Volume, role: ImageRole): Promise<void>;
}

/** The file's ending among `endings` (longest first, so ".nii.gz" wins over ".gz"), case-insensitive. */
export function endingOf(file: string, endings: readonly string[]): string | undefined {
  const lower = file.toLowerCase();
  return [...endings].sort((a, b) => b.length - a.length).find((e) => lower.endsWith(e));
}
