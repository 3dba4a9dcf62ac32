/**
 * NIfTI through our own exact reader/writer (../nifti.ts), whose geometry is SimpleITK's: it serves SimpleITKIO's
 * .nii.gz and the NIfTI endings v2 gives to NibabelIO and NibabelIOWithReorient (see docs/image-formats.md).
 */
import { readNifti, writeNifti } from '../nifti';
import type { ImageReaderWriter } from './reader-writer';

export const NIFTI_ENDINGS = ['.nii.gz', '.nii'] as const;

export const niftiIO: ImageReaderWriter = {
  name: 'NIfTI',
  read: (file) => readNifti(file),
  write: (file, volume) => writeNifti(file, volume),
};
