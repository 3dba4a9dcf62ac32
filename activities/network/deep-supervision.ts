/**
 * Deep supervision as nnUNetTrainerV2 sets it up: one output per decoder level,
 * the target of level i is the segmentation resized by 1/cumprod(pool kernels)[i-1] with nearest neighbour,
 * and level i's loss weighs 2^-i, the lowest-resolution level 0, normalised to sum 1.
 * See docs/network.md, 'Loss and optimiser'.
 */
import { roundHalfEven } from '../common/numeric';

/** Scale of each output relative to the patch: [1,...] then 1/cumprod(pool kernels), without the last. */
export function deepSupervisionScales(poolKernels: readonly (readonly number[])[]): number[][] {
  const dims = poolKernels[0]?.length ?? 0;
  const scales: number[][] = [new Array<number>(dims).fill(1)];
  const cum = new Array<number>(dims).fill(1);
  for (const k of poolKernels.slice(0, -1)) {
    k.forEach((v, i) => (cum[i]! *= v));
    scales.push(cum.map((c) => 1 / c));
  }
  return scales;
}

/** Loss weights of the outputs (highest resolution first): 2^-i, last set to 0, normalised. */
export function deepSupervisionWeights(numOutputs: number): number[] {
  const raw = Array.from({ length: numOutputs }, (_, i) => (i > 0 && i === numOutputs - 1 ? 0 : 1 / 2 ** i));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
}

type LabelArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Float32Array;

/** Source index per output index for scipy's order-0 zoom in grid mode (what skimage's resize calls). */
function nearestIndexMap(inSize: number, outSize: number): Int32Array {
  const zoom = inSize / outSize;
  const map = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const cc = (o + 0.5) * zoom - 0.5;
    map[o] = Math.min(inSize - 1, Math.max(0, Math.floor(cc + 0.5))); // edge mode clamps
  }
  return map;
}

/**
 * Resizes a batch of label maps [batch, ...spatial] (one channel) by `scale` per spatial axis to
 * round(shape * scale), nearest neighbour: nnU-Net's downsample_seg_for_ds_transform2 with order 0.
 */
export function downsampleSegmentation<T extends LabelArray>(seg: T, shape: readonly number[], scale: readonly number[]): { data: T; shape: number[] } {
  const spatial = shape.slice(1);
  if (spatial.length !== scale.length) throw new Error(`downsampleSegmentation: ${spatial.length}D seg, ${scale.length}D scale`);
  if (scale.every((s) => s === 1)) return { data: seg, shape: [...shape] };
  const outSpatial = spatial.map((n, i) => roundHalfEven(n * scale[i]!));
  const maps = spatial.map((n, i) => nearestIndexMap(n, outSpatial[i]!));
  const [b] = shape as [number];
  // Pad to 3D with a leading unit axis so one loop serves 2D and 3D.
  const [inZ, inY, inX] = spatial.length === 3 ? spatial : [1, ...spatial];
  const [outZ, outY, outX] = outSpatial.length === 3 ? outSpatial : [1, ...outSpatial];
  const [mz, my, mx] = maps.length === 3 ? maps : [Int32Array.of(0), ...maps];
  const out = new (seg.constructor as new (n: number) => T)(b * outZ! * outY! * outX!);
  let o = 0;
  for (let n = 0; n < b; n++) {
    const base = n * inZ! * inY! * inX!;
    for (let z = 0; z < outZ!; z++) {
      const zOff = base + mz![z]! * inY! * inX!;
      for (let y = 0; y < outY!; y++) {
        const yOff = zOff + my![y]! * inX!;
        for (let x = 0; x < outX!; x++) out[o++] = seg[yOff + mx![x]!]!;
      }
    }
  }
  return { data: out, shape: [b, ...outSpatial] };
}

/** The targets of every deep-supervision level for one batch, highest resolution first. */
export function deepSupervisionTargets<T extends LabelArray>(seg: T, shape: readonly number[], poolKernels: readonly (readonly number[])[]): { data: T; shape: number[] }[] {
  return deepSupervisionScales(poolKernels).map((s) => downsampleSegmentation(seg, shape, s));
}
