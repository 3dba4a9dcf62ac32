/**
 * A case's channels from its files. nnU-Net v2 stacks what each file holds: an RGB picture read by
 * NaturalImage2DIO is three channels in one file. Other readers' files stay one channel each here (a 4D file is
 * refused where it is read, with the fix).
 */
import { channel, type Volume } from '../volume';
import { readerWriterFor, type ReaderWriterName } from './registry';

/** True when this file may hold several channels (a colour picture). */
export function holdsSeveralChannels(file: string, readerWriter?: ReaderWriterName): boolean {
  return readerWriterFor(file, readerWriter).name === 'NaturalImage2DIO';
}

/** The file's channels as 3D volumes sharing its buffer: (c, z, y, x) gives c of them, (z, y, x) one. */
export function channelsOf(volume: Volume): Volume[] {
  return volume.shape.length === 4 ? Array.from({ length: volume.shape[0] }, (_, c) => channel(volume, c)) : [volume];
}

/** How many channels a volume holds. */
export function channelCount(volume: Pick<Volume, 'shape'>): number {
  return volume.shape.length === 4 ? volume.shape[0] : 1;
}
