/**
 * The segmentation's last steps in nnUNetTrainer's transforms: ConvertSegmentationToRegionsTransform (regions:
 * one 0/1 channel per region, 1 where the label is one of the region's) and DownsampleSegForDSTransform (each
 * deep-supervision scale by nearest-exact to round(shape·scale); scale 1 keeps the input).
 */
import { roundHalfEven } from '../../../common/numeric';
import type { Channels } from '../../augmentation/spatial';
import { resizeNearestExact } from './resize';

export function convertToRegions(seg: Channels, regions: readonly (readonly number[])[]): Channels {
  const n = seg.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(regions.length * n);
  regions.forEach((labels, r) => {
    const set = new Set(labels);
    for (let i = 0; i < n; i++) if (set.has(seg.data[i]!)) out[r * n + i] = 1;
  });
  return { data: out, channels: regions.length, shape: [...seg.shape] };
}

export function downsampleSegForDS(seg: Channels, scale: readonly number[]): Channels {
  if (scale.every((s) => s === 1)) return seg;
  const outShape = seg.shape.map((n, d) => roundHalfEven(n * scale[d]!));
  const nIn = seg.shape.reduce((a, b) => a * b, 1);
  const nOut = outShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(seg.channels * nOut);
  for (let c = 0; c < seg.channels; c++) out.set(resizeNearestExact(seg.data.subarray(c * nIn, (c + 1) * nIn), seg.shape, outShape), c * nOut);
  return { data: out, channels: seg.channels, shape: outShape };
}
