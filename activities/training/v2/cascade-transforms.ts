/**
 * nnunetv2's cascade augmentation (get_training_transforms with is_cascaded), after the seg's −1 → 0:
 * MoveSegAsOneHotToDataTransform(1, foreground labels) (pipeline.ts's moveSegAsOneHotToData: v1 and v2 agree),
 * then on the appended one-hot channels, as batchgeneratorsv2 implements them:
 * - RandomTransform(ApplyRandomBinaryOperatorTransform(strel_size (1, 8), p_per_label 0.5), p 0.4): the channels
 *   shuffled, each kept with p 0.5, each drawing one of dilation / erosion / closing / opening and a ball radius
 *   U(1, 8). v2 dilates by an FFT convolution with zero padding, which equals scipy's binary_dilation with the
 *   ball (border 0); its erosion is NOT dilation(NOT x), so outside the patch counts as foreground (no erosion
 *   from the patch border). Voxels a channel gains are cleared in the other channels.
 * - RandomTransform(RemoveRandomConnectedComponentFromOneHotEncodingTransform(fill_with_other_class_p 0,
 *   dont_do_if_covers_more_than_x_percent 0.15, p_per_label 0.5), p 0.2): the channels shuffled, each kept with
 *   p 0.5; per kept non-empty channel one of its 26-connected components smaller than 15 % of the patch (in
 *   skimage's raster numbering) is chosen uniformly and cleared.
 * Random draws come from the pipeline's Rng in v2's order (torch and numpy global state in v2).
 */
import { product } from '../../common/numeric';
import { labelComponents, type Shape3 } from '../../volume/connected-components';
import { ballRows, binaryDilation, BINARY_OPERATORS, type BinaryOperator } from '../augmentation/morphology';
import type { Rng } from '../augmentation/random';
import type { Channels } from '../augmentation/spatial';
import type { CascadeAugmentationV2 } from '../patch-size';

/** nnunetv2 2.8.1's nnUNetTrainer.get_training_transforms, is_cascaded. */
export const CASCADE_AUGMENTATION_V2: CascadeAugmentationV2 = {
  binaryOperator: { pPerSample: 0.4, strelSize: [1, 8], pPerLabel: 0.5 },
  removeComponent: { pPerSample: 0.2, maxFraction: 0.15, pPerLabel: 0.5, fillWithOtherClassP: 0 },
};

/** One channel's binary operation, as ApplyRandomBinaryOperatorTransform.get_parameters draws it. */
export interface BinaryOperationV2 { channel: number; operator: BinaryOperator; strelSize: number }

function shape3(image: Channels): Shape3 {
  if (image.shape.length !== 3) throw new RangeError(`cascade augmentation: 3D samples only (got shape [${image.shape.join(', ')}]); the v2 cascade is 3d_cascade_fullres`);
  return image.shape as unknown as Shape3;
}

/** Shuffled channels, each kept with pPerLabel (v2: np.random.shuffle, then torch.rand(n) < p). */
function drawChannels(channels: readonly number[], pPerLabel: number, rng: Rng): number[] {
  const order = [...channels];
  rng.shuffle(order);
  const keep = order.map(() => rng.random() < pPerLabel);
  return order.filter((_, i) => keep[i]);
}

export function drawBinaryOperationsV2(channels: readonly number[], p: CascadeAugmentationV2['binaryOperator'], rng: Rng): BinaryOperationV2[] {
  const applied = drawChannels(channels, p.pPerLabel, rng);
  const operators = applied.map(() => BINARY_OPERATORS[rng.randint(0, BINARY_OPERATORS.length)]!);
  const sizes = applied.map(() => rng.uniform(p.strelSize[0], p.strelSize[1]));
  return applied.map((channel, i) => ({ channel, operator: operators[i]!, strelSize: sizes[i]! }));
}

const not = (m: Uint8Array): Uint8Array => m.map((v) => 1 - v);

/** batchgeneratorsv2's binary_{dilation,erosion,closing,opening}_torch with skimage's ball(radius). */
export function binaryOperatorV2(op: BinaryOperator, mask: Uint8Array, shape: Shape3, radius: number): Uint8Array {
  const rows = ballRows(radius);
  const dilate = (m: Uint8Array) => binaryDilation(m, shape, rows);
  const erode = (m: Uint8Array) => not(dilate(not(m)));
  switch (op) {
    case 'dilation': return dilate(mask);
    case 'erosion': return erode(mask);
    case 'closing': return erode(dilate(mask));
    case 'opening': return dilate(erode(mask));
  }
}

/** ApplyRandomBinaryOperatorTransform._apply_to_image: `channels` are all one-hot channels, in place. */
export function applyBinaryOperationsV2(image: Channels, channels: readonly number[], operations: readonly BinaryOperationV2[]): void {
  const shape = shape3(image);
  const n = product(shape);
  for (const { channel, operator, strelSize } of operations) {
    const view = image.data.subarray(channel * n, (channel + 1) * n);
    const before = Uint8Array.from(view, (v) => (v !== 0 ? 1 : 0));
    const after = binaryOperatorV2(operator, before, shape, strelSize);
    for (let i = 0; i < n; i++) {
      if (after[i]! > before[i]!) for (const other of channels) if (other !== channel) image.data[other * n + i] = 0;
      view[i] = after[i]!;
    }
  }
}

/**
 * RemoveRandomConnectedComponentFromOneHotEncodingTransform._apply_to_image on one channel, in place: `choose(k)`
 * picks one of the k eligible components (np.random.choice), `fillWith()` an other channel to receive it or
 * undefined. Returns the cleared component's size (0: nothing cleared).
 */
export function removeRandomComponentV2(image: Channels, channel: number, maxFraction: number, choose: (k: number) => number, fillWith: () => number | undefined): number {
  const shape = shape3(image);
  const n = product(shape);
  const view = image.data.subarray(channel * n, (channel + 1) * n);
  const mask = Uint8Array.from(view, (v) => (v !== 0 ? 1 : 0));
  if (!mask.includes(1)) return 0;
  const { labels, sizes } = labelComponents(mask, shape, Uint8Array.of(0, 1), 26);
  const eligible = sizes.flatMap((s, id) => (id > 0 && s < n * maxFraction ? [id] : []));
  if (eligible.length === 0) return 0;
  const id = eligible[choose(eligible.length)]!;
  const other = fillWith();
  for (let i = 0; i < n; i++) {
    if (labels[i] !== id) continue;
    view[i] = 0;
    if (other !== undefined) image.data[other * n + i] = 1;
  }
  return sizes[id]!;
}

function removeRandomComponentsV2(image: Channels, channels: readonly number[], p: CascadeAugmentationV2['removeComponent'], rng: Rng): void {
  for (const c of drawChannels(channels, p.pPerLabel, rng)) {
    const others = channels.filter((o) => o !== c);
    removeRandomComponentV2(image, c, p.maxFraction, (k) => rng.randint(0, k),
      () => (rng.random() < p.fillWithOtherClassP && others.length > 0 ? others[rng.randint(0, others.length)] : undefined));
  }
}

/** The two random transforms on the last `numOneHot` channels of a sample (after MoveSegAsOneHotToData), in place. */
export function cascadeAugmentationV2(image: Channels, numOneHot: number, p: CascadeAugmentationV2, rng: Rng): void {
  const channels = Array.from({ length: numOneHot }, (_, k) => image.channels - numOneHot + k);
  if (rng.random() < p.binaryOperator.pPerSample) applyBinaryOperationsV2(image, channels, drawBinaryOperationsV2(channels, p.binaryOperator, rng));
  if (rng.random() < p.removeComponent.pPerSample) removeRandomComponentsV2(image, channels, p.removeComponent, rng);
}
