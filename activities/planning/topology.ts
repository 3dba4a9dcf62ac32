/**
 * Network topology from spacing and patch size: nnU-Net v1's get_pool_and_conv_props (common_utils.py, the first
 * variant, not _v2). Pools an axis while its spacing is within 2x of the finest one and its feature map stays at
 * least 2·minEdge; conv kernels are 3 on axes whose spacings are within 2x of each other, 1 elsewhere.
 */

export interface Topology {
  numPoolPerAxis: number[];
  /** One kernel per pooling step (length = max(numPoolPerAxis)). */
  poolKernels: number[][];
  /** One kernel per resolution stage (length = poolKernels.length + 1, the last is the bottleneck). */
  convKernels: number[][];
  /** The input patch padded up to a multiple of mustBeDivisibleBy. */
  patchSize: number[];
  mustBeDivisibleBy: number[];
}

/** nnU-Net's pad_shape: the next multiple of d at or above each s. */
export function padShape(shape: readonly number[], divisor: readonly number[]): number[] {
  return shape.map((s, i) => {
    const d = divisor[i]!;
    const r = s % d;
    return r === 0 ? s : s + d - r;
  });
}

/** Axes whose spacing is within a factor 2 of axis a's (both ways); the largest such set wins, first found on ties. */
function convPartners(spacing: readonly number[]): Set<number> {
  let best: number[] = [];
  for (let a = 0; a < spacing.length; a++) {
    const mine = spacing[a]!;
    const partners = spacing.map((_, i) => i).filter((i) => spacing[i]! / mine < 2 && mine / spacing[i]! < 2);
    if (partners.length > best.length) best = partners;
  }
  return new Set(best);
}

export function getPoolAndConvProps(spacing: readonly number[], patchSize: readonly number[], minEdge = 4, maxPool = 999): Topology {
  const dim = spacing.length;
  const currentSpacing = [...spacing];
  const currentSize = [...patchSize];
  const numPoolPerAxis = new Array<number>(dim).fill(0);
  const poolKernels: number[][] = [];
  const convKernels: number[][] = [];
  for (;;) {
    const minSpacing = Math.min(...currentSpacing);
    const partners = convPartners(currentSpacing);
    const convKernel = currentSpacing.map((_, i) => (partners.has(i) ? 3 : 1));
    const poolable = currentSpacing.map((_, i) => i).filter((i) =>
      currentSpacing[i]! / minSpacing < 2 && currentSize[i]! >= 2 * minEdge && numPoolPerAxis[i]! < maxPool);
    if (poolable.length === 0) break;
    const poolKernel = new Array<number>(dim).fill(1);
    for (const a of poolable) {
      poolKernel[a] = 2;
      numPoolPerAxis[a]! += 1;
      currentSpacing[a]! *= 2;
      currentSize[a] = Math.ceil(currentSize[a]! / 2);
    }
    poolKernels.push(poolKernel);
    convKernels.push(convKernel);
  }
  const mustBeDivisibleBy = numPoolPerAxis.map((n) => 2 ** n);
  convKernels.push(new Array<number>(dim).fill(3));
  return { numPoolPerAxis, poolKernels, convKernels, patchSize: padShape(patchSize, mustBeDivisibleBy), mustBeDivisibleBy };
}
