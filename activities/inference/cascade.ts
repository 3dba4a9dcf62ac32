/**
 * The cascade's extra input: the 3d_lowres segmentation of the same case, brought onto the
 * preprocessed fullres grid and one-hot encoded for labels 1..K-1, appended to the image channels.
 * v1 resizes the uncropped lowres map straight to the cropped grid (misaligned when cropping removed voxels);
 * like v2 we crop it with the case's crop box first, which is also how the training-time input was aligned.
 * See docs/inference.md, 'How a case is predicted'.
 */
import { BadInputError } from '../common/errors';
import { readNifti } from '../io/nifti';
import { cropInto, type BBox3 } from '../volume/crop';
import { resizeSegmentation, type Shape3 } from '../volume/resample';
import { transposeChannels, transposedShape } from '../preprocessing/transpose';

/** (K-1) one-hot channels (labels 1..K-1) of a label map, float32, channel-first. */
export function oneHotForeground(seg: ArrayLike<number>, numClasses: number): Float32Array {
  const n = seg.length;
  const out = new Float32Array((numClasses - 1) * n);
  for (let i = 0; i < n; i++) {
    const l = seg[i];
    if (l >= 1 && l < numClasses) out[(l - 1) * n + i] = 1;
  }
  return out;
}

/** Crops, transposes and resizes (per label, order 1) a label map in the raw image's grid onto the preprocessed grid. */
export function lowresToPreprocessedGrid(
  seg: ArrayLike<number>, originalShape: Shape3, bbox: number[][], transposeForward: readonly number[], targetShape: Shape3,
): Float32Array {
  const box = bbox.map((r) => [r[0], r[1]] as const) as unknown as BBox3;
  const cropShape: Shape3 = [box[0][1] - box[0][0], box[1][1] - box[1][0], box[2][1] - box[2][0]];
  const cropped = new Float32Array(cropShape[0] * cropShape[1] * cropShape[2]);
  cropInto(seg, originalShape, box, cropped);
  const t = transposeChannels(cropped, cropShape, transposeForward);
  return resizeSegmentation(t, transposedShape(cropShape, transposeForward), targetShape, 1);
}

/** Reads the lowres prediction NIfTI and returns its one-hot channels on the preprocessed grid. */
export async function cascadeChannels(
  lowresFile: string, originalShape: Shape3, bbox: number[][], transposeForward: readonly number[], targetShape: Shape3, numClasses: number,
): Promise<Float32Array> {
  const v = await readNifti(lowresFile);
  if (v.shape.length !== 3 || v.shape.some((d, i) => d !== originalShape[i])) {
    throw new BadInputError(`${lowresFile}: the 3d_lowres prediction has shape ${v.shape.join('x')}, the case ${originalShape.join('x')}; predict 3d_lowres on the same images`, lowresFile);
  }
  return oneHotForeground(lowresToPreprocessedGrid(v.data, originalShape, bbox, transposeForward, targetShape), numClasses);
}
