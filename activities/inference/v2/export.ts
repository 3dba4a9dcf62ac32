/**
 * nnU-Net v2's export_prediction_from_logits (convert_predicted_logits_to_segmentation_with_correct_shape): the
 * logits of a preprocessed case back onto its raw image. The logits are resampled with the configuration's
 * resampling_fn_probabilities (+ kwargs) to the cropped shape (float16 as nnUNetPredictor hands them over, so the
 * float64 result is rounded to float16: numpy's resample keeps the input dtype); then softmax (or sigmoid for regions),
 * argmax (or regions_class_order, a region wins where its probability > 0.5, later regions overwrite earlier ones),
 * the crop reverted (background outside the box; probabilities: background 1 there for label models), the
 * transpose reverted. Without probabilities, v2 takes the argmax of the logits themselves (same labels).
 */
import { BadInputError } from '../../common/errors';
import type { Shape3 } from '../../volume/crop';
import type { CasePropertiesV2 } from '../../preprocessing/v2/run-case';
import { RESAMPLE_TO_SHAPE, separateAxisV2, type ResamplingKwargsV2 } from '../../preprocessing/v2/resampling';
import { resampleChannel } from '../../volume/resample';
import type { Order } from '../../volume/spline';
import { transposeChannels } from '../../preprocessing/transpose';
import { doubleToHalf } from './half';

/** What the export reads from the model: configuration (resolved), plans' transpose, dataset.json's labels. */
export interface ExportModelV2 {
  configuration: Record<string, unknown>;
  transposeForward: readonly number[];
  /** regions_class_order for a region model (sigmoid outputs), else undefined (softmax). */
  regionsClassOrder?: readonly number[];
  source: string;
}

export interface ExportedCaseV2 {
  /** Label map in the raw image's array order (z, y, x). */
  segmentation: Uint8Array | Uint16Array;
  shape: Shape3;
  /** Probabilities (classes or regions × raw shape), only when asked for. */
  probabilities?: Float32Array;
}

const inverse = (perm: readonly number[]): number[] => perm.map((_, i) => perm.indexOf(i));
const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const asShape3 = (s: readonly number[]): Shape3 => [s[0]!, s[1]!, s[2]!];

function probabilityResampling(model: ExportModelV2): ResamplingKwargsV2 {
  const fn = model.configuration.resampling_fn_probabilities;
  if (fn !== RESAMPLE_TO_SHAPE) {
    throw new BadInputError(`${model.source}: resampling_fn_probabilities ${String(fn)} is not supported (only ${RESAMPLE_TO_SHAPE})`, model.source);
  }
  const kw = model.configuration.resampling_fn_probabilities_kwargs as ResamplingKwargsV2 | undefined;
  if (!kw) throw new BadInputError(`${model.source}: the configuration has no resampling_fn_probabilities_kwargs`, model.source);
  return kw;
}

const asOrder = (n: number, source: string): Order => {
  if (![0, 1, 2, 3, 4, 5].includes(n)) throw new BadInputError(`${source}: resampling_fn_probabilities_kwargs order ${n} is not a spline order (0..5)`, source);
  return n as Order;
};

/**
 * The logits resampled to shape_after_cropping_and_before_resampling (resample_data_or_seg_to_shape), each value
 * rounded once from float64 to float16 as numpy's astype of the float16 input's dtype.
 */
export function resampleLogitsBack(logits: Float32Array, heads: number, shape: Shape3, props: CasePropertiesV2, model: ExportModelV2): Float32Array {
  const spacingT = model.transposeForward.map((a) => props.spacing[a]!);
  const cfgSpacing = model.configuration.spacing as number[];
  const current = cfgSpacing.length === 3 ? cfgSpacing : [spacingT[0]!, ...cfgSpacing];
  return resampleLogitsToShape(logits, heads, shape, asShape3(props.shape_after_cropping_and_before_resampling), current, spacingT, model);
}

/** resampling_fn_probabilities (+ kwargs) of the logits from `shape` to `target`, rounded to float16 as above. */
export function resampleLogitsToShape(logits: Float32Array, heads: number, shape: Shape3, target: Shape3,
  currentSpacing: readonly number[], targetSpacing: readonly number[], model: ExportModelV2): Float32Array {
  if (shape.every((s, i) => s === target[i])) return logits;
  const kw = probabilityResampling(model);
  const opts = { isSeg: kw.is_seg, axis: separateAxisV2(kw.force_separate_z, currentSpacing, targetSpacing), order: asOrder(kw.order, model.source), orderZ: asOrder(kw.order_z, model.source) };
  const n = product(shape);
  const m = product(target);
  const out = new Float32Array(heads * m);
  for (let c = 0; c < heads; c++) {
    const r = resampleChannel(logits.subarray(c * n, (c + 1) * n), [shape[0], shape[1], shape[2]], [target[0], target[1], target[2]], opts);
    for (let i = 0; i < m; i++) out[c * m + i] = doubleToHalf(r[i]!);
  }
  return out;
}

/** LabelManager.apply_inference_nonlin: softmax over the classes, or a sigmoid per region (float32). */
export function inferenceNonlin(logits: Float32Array, heads: number, regions: boolean): Float32Array {
  const n = logits.length / heads;
  const out = new Float32Array(logits.length);
  for (let i = 0; i < n; i++) {
    if (regions) {
      for (let c = 0; c < heads; c++) out[c * n + i] = 1 / (1 + Math.exp(-logits[c * n + i]!));
      continue;
    }
    let max = -Infinity;
    for (let c = 0; c < heads; c++) max = Math.max(max, logits[c * n + i]!);
    let sum = 0;
    for (let c = 0; c < heads; c++) sum += Math.exp(logits[c * n + i]! - max);
    for (let c = 0; c < heads; c++) out[c * n + i] = Math.exp(logits[c * n + i]! - max) / sum;
  }
  return out;
}

/** argmax over the classes (the first maximum, as numpy), or regions_class_order on region probabilities. */
export function segmentationOf(values: Float32Array, heads: number, regionsClassOrder?: readonly number[]): Uint16Array {
  const n = values.length / heads;
  const seg = new Uint16Array(n);
  if (regionsClassOrder) {
    regionsClassOrder.forEach((label, c) => {
      for (let i = 0; i < n; i++) if (values[c * n + i]! > 0.5) seg[i] = label;
    });
    return seg;
  }
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < heads; c++) if (values[c * n + i]! > values[best * n + i]!) best = c;
    seg[i] = best;
  }
  return seg;
}

/** insert_crop_into_image for (C, ...) arrays: `cropped` into a (C, ...full) array filled per channel. */
function uncrop(cropped: ArrayLike<number>, channels: number, full: Shape3, bbox: readonly number[][], fill: (c: number) => number, out: Float32Array | Uint16Array): void {
  const cs = bbox.map(([a, b]) => b! - a!);
  const n = product(full);
  const m = product(cs);
  for (let c = 0; c < channels; c++) {
    out.fill(fill(c), c * n, (c + 1) * n);
    for (let z = 0; z < cs[0]!; z++) {
      for (let y = 0; y < cs[1]!; y++) {
        const src = c * m + (z * cs[1]! + y) * cs[2]!;
        const dst = c * n + ((z + bbox[0]![0]!) * full[1] + y + bbox[1]![0]!) * full[2] + bbox[2]![0]!;
        for (let x = 0; x < cs[2]!; x++) out[dst + x] = cropped[src + x]!;
      }
    }
  }
}

function checkShapes(props: CasePropertiesV2, source: string): void {
  const full = props.shape_before_cropping;
  const box = props.bbox_used_for_cropping;
  const cropped = props.shape_after_cropping_and_before_resampling;
  const ok = full.length === 3 && box.length === 3 && box.every(([a, b], i) => a! >= 0 && b! <= full[i]! && b! - a! === cropped[i]);
  if (!ok) throw new BadInputError(`${source}: case properties do not fit (shape ${full.join('x')}, box ${JSON.stringify(box)}, cropped ${cropped.join('x')})`, source);
}

/** export_prediction_from_logits without the file writing: logits (heads × preprocessed shape) → raw-grid results. */
export function exportLogitsV2(logits: Float32Array, heads: number, shape: Shape3, props: CasePropertiesV2, model: ExportModelV2, withProbabilities: boolean): ExportedCaseV2 {
  checkShapes(props, model.source);
  const regions = model.regionsClassOrder !== undefined;
  const resampled = resampleLogitsBack(logits, heads, shape, props, model);
  const probabilities = withProbabilities || regions ? inferenceNonlin(resampled, heads, regions) : undefined;
  const cropSeg = segmentationOf(probabilities ?? resampled, heads, model.regionsClassOrder);
  const full = asShape3(props.shape_before_cropping);
  const backward = inverse(model.transposeForward);
  const segFull = new Uint16Array(product(full));
  uncrop(cropSeg, 1, full, props.bbox_used_for_cropping, () => 0, segFull);
  const segRaw = transposeChannels(Float32Array.from(segFull), full, backward);
  const rawShape = asShape3(backward.map((a) => full[a]!));
  // SimpleITKIO.write_seg: uint8 when every label is below 255
  const segmentation = segRaw.every((v) => v < 255) ? Uint8Array.from(segRaw) : Uint16Array.from(segRaw);
  if (!withProbabilities || !probabilities) return { segmentation, shape: rawShape };
  const probFull = new Float32Array(heads * product(full));
  uncrop(probabilities, heads, full, props.bbox_used_for_cropping, (c) => (!regions && c === 0 ? 1 : 0), probFull);
  return { segmentation, shape: rawShape, probabilities: transposeChannels(probFull, full, backward) };
}
