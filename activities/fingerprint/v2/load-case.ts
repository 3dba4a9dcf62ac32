/**
 * One training or test case as nnU-Net v2's reader/writers read it: every channel and the segmentation as float32
 * in array axis order (z, y, x), the spacing in that order. All channels and the label must share one grid.
 * Files are read through the image reader/writer registry (the dataset's class, io/image-formats): a colour
 * picture gives several channels, as v2 stacks what each file holds.
 */
import { BadInputError } from '../../common/errors';
import { assertFinite } from '../../io/finite';
import { arraySpacing, type Geometry } from '../../io/geometry';
import { channelsOf, holdsSeveralChannels } from '../../io/image-formats/channels';
import { readerWriterFor, readImageFile, type ReaderWriterName } from '../../io/image-formats/registry';
import type { Volume } from '../../io/volume';
import type { Shape3 } from '../../volume/crop';

export interface SitkStuffV2 { spacing: number[]; origin: number[]; direction: number[] }

export interface LoadedCaseV2 {
  /** One float32 array per channel, C order. */
  channels: Float32Array[];
  /** The segmentation as float32 (v2 reads it with the image reader), or null for a test case. */
  seg: Float32Array | null;
  shape: Shape3;
  /** Array axis order (z, y, x), as v2's properties['spacing']. */
  spacing: number[];
  /**
   * SimpleITK's view of the first channel (x, y, z order), v2's properties['sitk_stuff']; only for the readers
   * that record it (SimpleITKIO, and NIfTI, which nnunet-ts reads with SimpleITK's geometry). NaturalImage2DIO
   * and Tiff3DIO record the spacing alone.
   */
  sitk?: SitkStuffV2;
}

function shape3(v: Volume, file: string): Shape3 {
  if (v.shape.length !== 3) {
    throw new BadInputError(`${file}: expected a 3D volume, got shape ${v.shape.join('x')}; split 4D images into one file per channel (_0000, _0001, ...)`, file);
  }
  return [v.shape[0]!, v.shape[1]!, v.shape[2]!];
}

const asFloat32 = (v: Volume): Float32Array => (v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>));

/** Whether the class reading `file` records SimpleITK's geometry in the properties (v2's sitk_stuff). */
export function recordsSitkStuff(file: string, readerWriter?: ReaderWriterName): boolean {
  const name = readerWriterFor(file, readerWriter).name;
  return name === 'NIfTI' || name === 'SimpleITKIO';
}

const sitkStuff = (g: Geometry): SitkStuffV2 => ({ spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction] });

/** The case's channels in order, each with the file it came from. */
async function readChannels(imageFiles: readonly string[], readerWriter?: ReaderWriterName): Promise<Array<{ volume: Volume; file: string }>> {
  const perFile = await Promise.all(imageFiles.map(async (file) => {
    const v = await readImageFile(file, 'image', readerWriter);
    return (holdsSeveralChannels(file, readerWriter) ? channelsOf(v) : [v]).map((volume) => ({ volume, file }));
  }));
  return perFile.flat();
}

export async function loadCaseV2(imageFiles: readonly string[], segFile: string | null, readerWriter?: ReaderWriterName): Promise<LoadedCaseV2> {
  if (imageFiles.length === 0) throw new BadInputError('a case needs at least one image file (_0000)');
  const channels = await readChannels(imageFiles, readerWriter);
  channels.forEach((c) => assertFinite(c.volume, c.file));
  const shape = shape3(channels[0]!.volume, imageFiles[0]!);
  const sameGrid = (v: Volume, file: string) => {
    const s = shape3(v, file);
    if (s.some((d, a) => d !== shape[a])) {
      throw new BadInputError(`${file}: shape ${s.join('x')} differs from ${imageFiles[0]} (${shape.join('x')}); all channels and the label of a case must share one grid`, file);
    }
  };
  channels.forEach((c) => sameGrid(c.volume, c.file));
  let seg: Float32Array | null = null;
  if (segFile) {
    const s = await readImageFile(segFile, 'seg', readerWriter);
    assertFinite(s, segFile);
    sameGrid(s, segFile);
    seg = asFloat32(s);
  }
  const g = channels[0]!.volume.geometry;
  return {
    channels: channels.map((c) => asFloat32(c.volume)), seg, shape, spacing: arraySpacing(g),
    ...(recordsSitkStuff(imageFiles[0]!, readerWriter) ? { sitk: sitkStuff(g) } : {}),
  };
}
