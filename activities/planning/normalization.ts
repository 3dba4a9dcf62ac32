/** Normalization scheme and non-zero-mask decisions per channel (docs/planning.md, 'Normalization and masks'). */
import { median } from '../common/numeric';
import { modalityNames, type DatasetProperties } from './fingerprint';
import type { NormalizationScheme } from './plans';

export function normalizationSchemes(props: DatasetProperties): Record<string, NormalizationScheme> {
  const out: Record<string, NormalizationScheme> = {};
  modalityNames(props).forEach((name, i) => {
    out[String(i)] = name === 'CT' || name === 'ct' ? 'CT' : name === 'noNorm' ? 'noNorm' : 'nonCT';
  });
  return out;
}

/**
 * Normalize inside the non-zero mask only when cropping removed a lot (median size reduction < 3/4, e.g. skull-
 * stripped brains). Any name containing "CT" never uses the mask (nnU-Net's substring test, kept as is).
 */
export function useMaskForNorm(props: DatasetProperties): Record<string, boolean> {
  const reductions = Object.values(props.size_reductions);
  const cropsALot = reductions.length > 0 && median(reductions) < 3 / 4;
  const out: Record<string, boolean> = {};
  modalityNames(props).forEach((name, i) => {
    out[String(i)] = name.includes('CT') ? false : cropsALot;
  });
  return out;
}
