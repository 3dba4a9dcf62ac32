/**
 * Segmentation metrics as nnU-Net v1 computes them (`evaluation/metrics.py`, `evaluator.py`).
 *
 * One pass over the voxels builds the joint histogram of (reference label, predicted label); every class's
 * confusion counts follow from it, so the cost is linear in voxels whatever the number of classes.
 *
 * Empty / full rules (nnU-Net's nan_for_nonexisting = True), per class:
 * - Dice, Jaccard: NaN when reference AND prediction are both empty; reference empty but prediction not → 0.
 * - Precision (and FDR = 1 − Precision): NaN when the prediction is empty.
 * - Recall (and FNR = 1 − Recall): NaN when the reference is empty.
 * - True Negative Rate (and FPR = 1 − TNR): NaN when the reference fills the whole image.
 * - False Omission Rate (and NPV = 1 − FOR): NaN when the prediction fills the whole image.
 * See docs/evaluation.md, 'Metrics'.
 */
import { BadInputError } from '../common/errors';
import type { LabelArray } from '../io/volume';

/** Confusion counts of one class: voxels where (prediction == l) and (reference == l) agree or not. */
export interface ConfusionCounts { tp: number; fp: number; fn: number; tn: number }

/** The metric names nnU-Net v1 stores, in its (sorted) order. */
export const V1_METRIC_NAMES = [
  'Accuracy', 'Dice', 'False Discovery Rate', 'False Negative Rate', 'False Omission Rate', 'False Positive Rate',
  'Jaccard', 'Negative Predictive Value', 'Precision', 'Recall', 'Total Positives Reference', 'Total Positives Test',
  'True Negative Rate',
] as const;
export type V1MetricName = (typeof V1_METRIC_NAMES)[number];
/** Raw counts we add beside nnU-Net's metrics (v2's names); extra keys do not disturb v1 readers. */
export const COUNT_NAMES = ['TP', 'FP', 'FN', 'TN'] as const;
export type MetricName = V1MetricName | (typeof COUNT_NAMES)[number];
export type ClassMetrics = Record<MetricName, number>;

/**
 * Joint label histogram of one case over the label values that occur: counts[ri * size + pi] = voxels whose
 * reference is labels[ri] and whose prediction is labels[pi] (indices in order of first appearance).
 */
export interface JointHistogram { labels: number[]; size: number; counts: Float64Array; numVoxels: number }

/** Largest label value accepted (nnU-Net writes uint8; ITK label maps rarely exceed uint16). */
export const MAX_LABEL = 65535;

/** Builds the joint histogram in one pass. Throws BadInputError on shape mismatch or non-label values. */
export function jointHistogram(reference: LabelArray, prediction: LabelArray, what = 'case'): JointHistogram {
  if (reference.length !== prediction.length) {
    throw new BadInputError(`${what}: reference has ${reference.length} voxels but prediction has ${prediction.length}; `
      + 'both must have the same shape');
  }
  if (reference.length === 0) throw new BadInputError(`${what}: empty volume (0 voxels)`);
  // Label value -> compact index; non-integers, negatives and values above MAX_LABEL read as undefined.
  const index = new Int32Array(MAX_LABEL + 1).fill(-1);
  const labels: number[] = [];
  let size = 4;
  let counts: Float64Array = new Float64Array(size * size);
  const add = (v: number, which: string): number => {
    if (!(v >= 0 && v <= MAX_LABEL && v === Math.floor(v))) {
      throw new BadInputError(`${what}: ${which} holds the value ${v}; label maps must hold integers 0..${MAX_LABEL}`);
    }
    if (index[v] < 0) {
      index[v] = labels.length;
      labels.push(v);
      if (labels.length > size) ({ size, counts } = grow(counts, size, size * 2));
    }
    return index[v];
  };
  const n = reference.length;
  for (let i = 0; i < n; i++) {
    let ri = index[reference[i]];
    let pi = index[prediction[i]];
    if (!(ri >= 0 && pi >= 0)) {
      ri = add(reference[i], 'the reference');
      pi = add(prediction[i], 'the prediction');
    }
    counts[ri * size + pi]++;
  }
  return { labels, size, counts, numVoxels: n };
}

function grow(counts: Float64Array, size: number, next: number): { size: number; counts: Float64Array } {
  const out = new Float64Array(next * next);
  for (let r = 0; r < size; r++) out.set(counts.subarray(r * size, (r + 1) * size), r * next);
  return { size: next, counts: out };
}

/** Label values that occur in the reference or the prediction of this case, ascending. */
export function labelsPresent(h: JointHistogram): number[] {
  return [...h.labels].sort((a, b) => a - b);
}

/**
 * Confusion counts of a class: a label value or a list of label values treated as one region (as nnU-Net's
 * evaluator does for tuples).
 */
export function confusionFor(h: JointHistogram, cls: number | readonly number[]): ConfusionCounts {
  const members = new Set(typeof cls === 'number' ? [cls] : cls);
  const k = h.labels.length;
  let tp = 0;
  let refPos = 0;
  let predPos = 0;
  for (let r = 0; r < k; r++) {
    const rIn = members.has(h.labels[r]);
    for (let p = 0; p < k; p++) {
      const c = h.counts[r * h.size + p];
      if (c === 0) continue;
      const pIn = members.has(h.labels[p]);
      if (rIn) refPos += c;
      if (pIn) predPos += c;
      if (rIn && pIn) tp += c;
    }
  }
  const fp = predPos - tp;
  const fn = refPos - tp;
  return { tp, fp, fn, tn: h.numVoxels - tp - fp - fn };
}

/** nnU-Net v1's metrics (plus raw counts) from one class's confusion counts. */
export function metricsFromCounts({ tp, fp, fn, tn }: ConfusionCounts): ClassMetrics {
  const n = tp + fp + fn + tn;
  const testEmpty = tp + fp === 0;
  const testFull = tp + fp === n;
  const refEmpty = tp + fn === 0;
  const refFull = tp + fn === n;
  const bothEmpty = testEmpty && refEmpty;
  const precision = testEmpty ? NaN : tp / (tp + fp);
  const recall = refEmpty ? NaN : tp / (tp + fn);
  const tnr = refFull ? NaN : tn / (tn + fp);
  const fomr = testFull ? NaN : fn / (fn + tn);
  return {
    'Accuracy': (tp + tn) / n,
    'Dice': bothEmpty ? NaN : (2 * tp) / (2 * tp + fp + fn),
    'False Discovery Rate': 1 - precision,
    'False Negative Rate': 1 - recall,
    'False Omission Rate': fomr,
    'False Positive Rate': 1 - tnr,
    'Jaccard': bothEmpty ? NaN : tp / (tp + fp + fn),
    'Negative Predictive Value': 1 - fomr,
    'Precision': precision,
    'Recall': recall,
    'Total Positives Reference': tp + fn,
    'Total Positives Test': tp + fp,
    'True Negative Rate': tnr,
    TP: tp,
    FP: fp,
    FN: fn,
    TN: tn,
  };
}

/** Metrics of one case for the given classes (keys are the label values as strings, like nnU-Net's). */
export function evaluateCase(reference: LabelArray, prediction: LabelArray, classes: readonly number[], what = 'case'): Record<string, ClassMetrics> {
  const h = jointHistogram(reference, prediction, what);
  return metricsForClasses(h, classes);
}

export function metricsForClasses(h: JointHistogram, classes: readonly number[]): Record<string, ClassMetrics> {
  const out: Record<string, ClassMetrics> = {};
  for (const c of classes) out[String(c)] = metricsFromCounts(confusionFor(h, c));
  return out;
}
