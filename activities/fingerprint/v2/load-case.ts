/**
 * One training or test case as nnU-Net v2's SimpleITKIO reads it: every channel and the segmentation as float32 in
 * array axis order (z, y, x), the spacing in that order. All channels and the label must share one grid.
 */
import { BadInputError } from '../../common/errors';
import { readNiftiSync, type NiftiVolume } from '../../io/nifti';
import { assertFinite } from '../../io/finite';
import { arraySpacing } from '../../io/geometry';
import type { Shape3 } from '../../volume/crop';

export interface LoadedCaseV2 {
  /** One float32 array per channel, C order. */
  channels: Float32Array[];
  /** The segmentation as float32 (v2 reads it with the image reader), or null for a test case. */
  seg: Float32Array | null;
  shape: Shape3;
  /** Array axis order (z, y, x), as v2's properties['spacing']. */
  spacing: number[];
  /** SimpleITK's view of the first channel (x, y, z order), v2's properties['sitk_stuff']. */
  sitk: { spacing: number[]; origin: number[]; direction: number[] };
}

function shape3(v: NiftiVolume, file: string): Shape3 {
  if (v.shape.length !== 3) {
    throw new BadInputError(`${file}: expected a 3D volume, got shape ${v.shape.join('x')}; split 4D images into one file per channel (_0000, _0001, ...)`, file);
  }
  return [v.shape[0], v.shape[1], v.shape[2]];
}

const asFloat32 = (v: NiftiVolume): Float32Array => (v.data instanceof Float32Array ? v.data : Float32Array.from(v.data));

export function loadCaseV2(imageFiles: readonly string[], segFile: string | null): LoadedCaseV2 {
  if (imageFiles.length === 0) throw new BadInputError('a case needs at least one image file (_0000)');
  const volumes = imageFiles.map((f) => readNiftiSync(f));
  volumes.forEach((v, i) => assertFinite(v, imageFiles[i]!));
  const shape = shape3(volumes[0]!, imageFiles[0]!);
  const sameGrid = (v: NiftiVolume, file: string) => {
    const s = shape3(v, file);
    if (s.some((d, a) => d !== shape[a])) {
      throw new BadInputError(`${file}: shape ${s.join('x')} differs from ${imageFiles[0]} (${shape.join('x')}); all channels and the label of a case must share one grid`, file);
    }
  };
  volumes.forEach((v, i) => sameGrid(v, imageFiles[i]!));
  let seg: Float32Array | null = null;
  if (segFile) {
    const s = readNiftiSync(segFile);
    assertFinite(s, segFile);
    sameGrid(s, segFile);
    seg = asFloat32(s);
  }
  const g = volumes[0]!.geometry;
  return {
    channels: volumes.map(asFloat32), seg, shape, spacing: arraySpacing(g),
    sitk: { spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction] },
  };
}
