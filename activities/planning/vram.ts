/**
 * nnU-Net v1's memory proxy (Generic_UNet.compute_approx_vram_consumption): the number of feature-map voxels a
 * U-Net with this patch and topology holds, summed over stages. Planners compare it with a reference value that
 * stands for the GPU memory budget.
 */

export interface VramModel {
  patchSize: readonly number[];
  poolKernels: readonly (readonly number[])[];
  baseFeatures: number;
  maxFeatures: number;
  numModalities: number;
  numClasses: number;
  convPerStage?: number;
  deepSupervision?: boolean;
}

export function approxVramConsumption(m: VramModel): number {
  const c = m.convPerStage ?? 2;
  const size = m.patchSize.map((s) => Math.trunc(s));
  const voxels = () => size.reduce((p, s) => p * s, 1);
  let total = (2 * c + 1) * voxels() * m.baseFeatures + m.numModalities * voxels() + m.numClasses * voxels();
  let features = m.baseFeatures;
  const npool = m.poolKernels.length;
  for (let p = 0; p < npool; p++) {
    for (let a = 0; a < size.length; a++) size[a] = Math.floor(size[a]! / m.poolKernels[p]![a]!);
    features = Math.min(features * 2, m.maxFeatures);
    const blocks = p < npool - 1 ? 2 * c + 1 : c;
    total += blocks * voxels() * features;
    if (m.deepSupervision && p < npool - 2) total += voxels() * m.numClasses;
  }
  return total;
}
