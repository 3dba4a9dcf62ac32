/**
 * SimulateLowResolutionTransform: per channel with p `pPerChannel`, zoom z ~ U(range),
 * downsample to round(shape·z) with nearest neighbour and back with cubic splines (skimage resize, edge mode,
 * no anti-aliasing, clipped), `ignoreAxes` kept at full size (axis 0 for dummy-2D data).
 * See docs/augmentation.md, 'Pipeline'.
 */
import { roundHalfEven } from '../../common/numeric';
import { resizeData } from '../../volume/resample';
import type { Range } from '../patch-size';
import type { Rng } from './random';
import type { Channels } from './spatial';

export function simulateLowResolution(x: Channels, zoomRange: Range, pPerChannel: number, ignoreAxes: readonly number[], rng: Rng): void {
  const n = x.data.length / x.channels;
  for (let c = 0; c < x.channels; c++) {
    if (!rng.chance(pPerChannel)) continue;
    const zoom = rng.uniform(zoomRange[0], zoomRange[1]);
    const target = x.shape.map((s, a) => (ignoreAxes.includes(a) ? s : roundHalfEven(s * zoom)));
    const v = x.data.subarray(c * n, (c + 1) * n);
    const down = resizeData(v, x.shape, target, 0);
    v.set(resizeData(down, target, x.shape, 3));
  }
}
