/**
 * nnU-Net v2's resample_data_or_seg_to_shape (default_resampling.py) with the plans' kwargs (is_seg, order, order_z,
 * force_separate_z): the separate-z decision (determine_do_sep_z_and_axis: forced, else the current spacing's
 * anisotropy > 3, else the target's; only a single low-resolution axis counts), then the same kernels as v1
 * (activities/volume/resample.ts). Nothing happens when the shape does not change.
 */
import { BadInputError } from '../../common/errors';
import { resampleChannel, separateZAxis } from '../../volume/resample';
import type { Shape3 } from '../../volume/crop';
import type { Order } from '../../volume/spline';

export interface ResamplingKwargsV2 { is_seg: boolean; order: number; order_z: number; force_separate_z: boolean | null }

export const RESAMPLE_TO_SHAPE = 'resample_data_or_seg_to_shape';

function lowresAxis(spacing: readonly number[]): number | undefined {
  const max = Math.max(...spacing);
  const axes = spacing.flatMap((s, i) => (max / s === 1 ? [i] : []));
  return axes.length === 1 ? axes[0] : undefined;
}

/** determine_do_sep_z_and_axis: the axis resampled separately, or undefined. */
export function separateAxisV2(force: boolean | null, current: readonly number[], target: readonly number[]): number | undefined {
  if (force === true) return lowresAxis(current);
  if (force === false) return undefined;
  return separateZAxis(current, target);
}

function asOrder(n: number, source: string): Order {
  if (![0, 1, 2, 3, 4, 5].includes(n)) throw new BadInputError(`${source}: resampling order ${n} is not a spline order (0..5)`, source);
  return n as Order;
}

/** Resamples every channel of `data` ((C, ...shape)) to `newShape`; returns `data` itself when the shape is kept. */
export function resampleToShapeV2(data: Float32Array, numChannels: number, shape: Shape3, newShape: Shape3,
  current: readonly number[], target: readonly number[], kw: ResamplingKwargsV2, source: string): Float32Array {
  if (shape.every((s, i) => s === newShape[i])) return data;
  const axis = separateAxisV2(kw.force_separate_z, current, target);
  const n = shape[0] * shape[1] * shape[2];
  const m = newShape[0] * newShape[1] * newShape[2];
  const out = new Float32Array(numChannels * m);
  for (let c = 0; c < numChannels; c++) {
    const r = resampleChannel(data.subarray(c * n, (c + 1) * n), [shape[0], shape[1], shape[2]], [newShape[0], newShape[1], newShape[2]],
      { isSeg: kw.is_seg, axis, order: asOrder(kw.order, source), orderZ: asOrder(kw.order_z, source) });
    out.set(r, c * m);
  }
  return out;
}
