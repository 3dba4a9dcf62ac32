/**
 * What a dataset's labels mean for training and inference, as nnU-Net v2's LabelManager: plain integer labels
 * (softmax, one head per label, argmax) or regions (a v2 dataset.json label whose value is a list of integers;
 * sigmoid, one head per foreground region, painted into a label map in `regions_class_order`), and an optional
 * label named `ignore` whose voxels count nowhere (loss, evaluation). Lives in io so every later stage
 * (evaluation, planning, training, inference) reads labels the same way.
 */
import { BadInputError } from '../common/errors';

/** A v2 dataset.json `labels` map: name → integer label or list of labels (a region). */
export type LabelsJson = Record<string, number | readonly number[]>;

/** The label facts a plans file carries so that training and inference need no dataset.json. */
export interface LabelSpec {
  labels: LabelsJson;
  regions_class_order?: readonly number[];
}

const IGNORE = 'ignore';

const asList = (v: number | readonly number[]): number[] => (typeof v === 'number' ? [v] : [...v]);

const isBackground = (v: number | readonly number[]): boolean => asList(v).every((x) => x === 0);

export class LabelManager {
  /** Every integer label value, background included, ignore excluded (sorted). */
  readonly allLabels: number[];
  readonly ignoreLabel: number | undefined;
  /** Foreground regions in dataset.json order (only when hasRegions). */
  readonly foregroundRegions: number[][];
  readonly regionsClassOrder: number[];
  readonly hasRegions: boolean;

  constructor(readonly spec: LabelSpec, readonly source = 'dataset.json') {
    const { labels } = spec;
    if (labels.background !== 0) throw this.error('labels must declare "background": 0');
    this.hasRegions = Object.values(labels).some((v) => typeof v !== 'number' && v.length > 1);
    const plain = Object.entries(labels).filter(([k]) => k !== IGNORE).flatMap(([, v]) => asList(v));
    this.allLabels = [...new Set(plain)].sort((a, b) => a - b);
    this.ignoreLabel = this.readIgnoreLabel(labels);
    this.foregroundRegions = this.hasRegions
      ? Object.entries(labels).filter(([k, v]) => k !== IGNORE && !isBackground(v)).map(([, v]) => asList(v))
      : [];
    this.regionsClassOrder = this.readRegionsClassOrder();
  }

  private error(what: string): BadInputError {
    return new BadInputError(`${this.source}: ${what}`, this.source);
  }

  private readIgnoreLabel(labels: LabelsJson): number | undefined {
    const v = labels[IGNORE];
    if (v === undefined) return undefined;
    const value = typeof v === 'number' ? v : v.length === 1 ? v[0]! : undefined;
    if (value === undefined) throw this.error('the "ignore" label must be one integer, not a region');
    if (this.allLabels.some((l) => l >= value)) {
      throw this.error(`the "ignore" label (${value}) must be the highest integer label; give it a value above ${Math.max(...this.allLabels)}`);
    }
    return value;
  }

  private readRegionsClassOrder(): number[] {
    const order = this.spec.regions_class_order;
    if (!this.hasRegions) return [];
    if (!order) throw this.error('labels define regions (list values) but regions_class_order is missing; add one label per region, e.g. "regions_class_order": [1, 2]');
    if (order.length !== this.foregroundRegions.length) {
      throw this.error(`regions_class_order has ${order.length} entries but labels define ${this.foregroundRegions.length} foreground regions`);
    }
    return [...order];
  }

  get hasIgnoreLabel(): boolean {
    return this.ignoreLabel !== undefined;
  }

  /** Foreground integer labels (background and ignore excluded). */
  get foregroundLabels(): number[] {
    return this.allLabels.filter((l) => l !== 0);
  }

  /** Network output channels: one per foreground region (sigmoid), else one per label with background (softmax). */
  get numSegmentationHeads(): number {
    return this.hasRegions ? this.foregroundRegions.length : this.allLabels.length;
  }

  /** What evaluation scores: the foreground regions, or the foreground labels. */
  get labelsOrRegions(): Array<number | number[]> {
    return this.hasRegions ? this.foregroundRegions : this.foregroundLabels;
  }

  /** Sigmoid (regions) or softmax over the channel axis, in place, of channel-first logits (C × n voxels). */
  applyInferenceNonlin(logits: Float32Array, channels: number): Float32Array {
    const n = logits.length / channels;
    if (this.hasRegions) {
      for (let i = 0; i < logits.length; i++) logits[i] = 1 / (1 + Math.exp(-logits[i]!));
      return logits;
    }
    for (let v = 0; v < n; v++) {
      let max = -Infinity;
      for (let c = 0; c < channels; c++) max = Math.max(max, logits[c * n + v]!);
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += (logits[c * n + v] = Math.exp(logits[c * n + v]! - max));
      for (let c = 0; c < channels; c++) logits[c * n + v]! /= sum;
    }
    return logits;
  }

  /**
   * Channel-first probabilities to a label map: regions paint regions_class_order[i] wherever region i's
   * probability exceeds 0.5 (later regions over earlier ones), labels take the argmax (first maximum wins).
   */
  convertProbabilitiesToSegmentation(probabilities: Float32Array, channels: number): Uint8Array {
    if (channels !== this.numSegmentationHeads) {
      throw new Error(`${this.source}: ${channels} probability channels, the labels define ${this.numSegmentationHeads} segmentation heads`);
    }
    const n = probabilities.length / channels;
    const seg = new Uint8Array(n);
    if (this.hasRegions) {
      this.regionsClassOrder.forEach((label, c) => {
        for (let v = 0; v < n; v++) if (probabilities[c * n + v]! > 0.5) seg[v] = label;
      });
      return seg;
    }
    for (let v = 0; v < n; v++) {
      let best = 0;
      for (let c = 1; c < channels; c++) if (probabilities[c * n + v]! > probabilities[best * n + v]!) best = c;
      seg[v] = this.allLabels[best]!;
    }
    return seg;
  }

  /** Logits straight to a label map (a copy; the logits are left as they are). */
  convertLogitsToSegmentation(logits: Float32Array, channels: number): Uint8Array {
    return this.convertProbabilitiesToSegmentation(this.applyInferenceNonlin(Float32Array.from(logits), channels), channels);
  }

  /**
   * Per region, a lookup table label value → 1 when the value lies in the region (region targets: v2's
   * ConvertSegmentationToRegionsTransform, np.isin(seg, region)). Index = label value.
   */
  regionMembership(): Uint8Array[] {
    const size = Math.max(...this.allLabels, this.ignoreLabel ?? 0) + 1;
    return this.foregroundRegions.map((region) => {
      const table = new Uint8Array(size);
      for (const l of region) table[l] = 1;
      return table;
    });
  }
}

/** The label spec of a v2 dataset that needs one (regions or an ignore label); undefined for plain labels. */
export function specialLabelSpec(labels: LabelsJson, regionsClassOrder: readonly number[] | undefined, source: string): LabelSpec | undefined {
  const spec: LabelSpec = { labels, ...(regionsClassOrder ? { regions_class_order: regionsClassOrder } : {}) };
  const m = new LabelManager(spec, source);
  return m.hasRegions || m.hasIgnoreLabel ? spec : undefined;
}
