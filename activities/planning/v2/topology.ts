/**
 * nnU-Net v2's network topology (network_topology.get_pool_and_conv_props, v1's "_v2" variant): pools the axes
 * that can still be halved (feature map at least 2·minEdge) and whose spacing is within 2x of the finest of those;
 * a lone poolable axis needs 3·minEdge. Conv kernels turn 3 once an axis comes within 2x of the finest spacing and
 * stay 3. The stride list starts with an all-ones stem stride.
 */
import { padShape } from '../topology';

export interface TopologyV2 {
  numPoolPerAxis: number[];
  /** One stride per stage, the first all ones (length = stages). */
  strides: number[][];
  /** One conv kernel per stage (length = stages, the last the bottleneck's 3s). */
  kernelSizes: number[][];
  /** The patch padded up to a multiple of mustBeDivisibleBy (integers). */
  patchSize: number[];
  mustBeDivisibleBy: number[];
}

function poolableAxes(spacing: readonly number[], size: readonly number[], numPool: readonly number[], minEdge: number, maxPool: number): number[] {
  const large = spacing.map((_, i) => i).filter((i) => size[i]! >= 2 * minEdge);
  if (large.length === 0) return [];
  const finest = Math.min(...large.map((i) => spacing[i]!));
  const valid = large.filter((i) => spacing[i]! / finest < 2 && numPool[i]! < maxPool);
  if (valid.length === 1 && !(size[valid[0]!]! >= 3 * minEdge)) return [];
  return valid;
}

export function getPoolAndConvPropsV2(spacing: readonly number[], patchSize: readonly number[], minEdge = 4, maxPool = 999999): TopologyV2 {
  const dim = spacing.length;
  const currentSpacing = [...spacing];
  const currentSize = [...patchSize];
  const numPoolPerAxis = new Array<number>(dim).fill(0);
  const kernel = new Array<number>(dim).fill(1);
  const strides: number[][] = [new Array<number>(dim).fill(1)];
  const kernelSizes: number[][] = [];
  for (;;) {
    const valid = poolableAxes(currentSpacing, currentSize, numPoolPerAxis, minEdge, maxPool);
    if (valid.length === 0) break;
    const finest = Math.min(...currentSpacing);
    for (let d = 0; d < dim; d++) if (kernel[d] !== 3 && currentSpacing[d]! / finest < 2) kernel[d] = 3;
    const stride = new Array<number>(dim).fill(1);
    for (const v of valid) {
      stride[v] = 2;
      numPoolPerAxis[v]! += 1;
      currentSpacing[v]! *= 2;
      currentSize[v] = Math.ceil(currentSize[v]! / 2);
    }
    strides.push(stride);
    kernelSizes.push([...kernel]);
  }
  const mustBeDivisibleBy = numPoolPerAxis.map((n) => 2 ** n);
  kernelSizes.push(new Array<number>(dim).fill(3));
  const padded = padShape(patchSize, mustBeDivisibleBy).map((s) => Math.trunc(s));
  return { numPoolPerAxis, strides, kernelSizes, patchSize: padded, mustBeDivisibleBy };
}
