/**
 * nnU-Net v1's DataLoader3D / DataLoader2D: batches of patches from preprocessed cases, cases
 * drawn uniformly with replacement, the last third of each batch forced to contain foreground through the
 * stored class locations, patches taken from the area enlarged by `need_to_pad` and padded (image 0, seg -1).
 * Deterministic for a seed; the generator state goes into checkpoints (`getState` / `state` option).
 * See docs/augmentation.md, 'Patch sampling'.
 */
import { product } from '../common/numeric';
import type { MT19937State } from '../common/mt19937';
import { Rng } from './augmentation/random';
import { CaseStore, isAnnotatedKey, readSlab, type CaseInfo } from './dataloader-cases';
import { OVERSAMPLE_FOREGROUND_PERCENT, firstForcedForegroundIndex } from './patch-size';

export interface Batch {
  /** [B, C, ...patch] float32 image channels. */
  data: Float32Array;
  dataShape: number[];
  /** [B, S, ...patch] float32 labels (-1 outside the case / nonzero mask); S = 2 for the cascade, whose second
   * channel is the previous stage's segmentation (padded with DataLoaderOptions.previousStagePad). */
  seg: Float32Array;
  segShape: number[];
  keys: string[];
}

export interface DataLoaderOptions {
  /** Stage folder with <case>.npy / <case>.json. */
  dir: string;
  caseIds: readonly string[];
  /** Size of the sampled patch: the enlarged P' for training, P for validation. */
  patchSize: readonly number[];
  /** Network patch P; need_to_pad = patchSize - finalPatchSize. */
  finalPatchSize: readonly number[];
  batchSize: number;
  oversampleForegroundPercent?: number;
  /** Fresh generator from a seed, or a saved state (resume). */
  seed?: number;
  state?: MT19937State;
  /** Case headers/class locations kept in memory. */
  cacheSize?: number;
  /** Cascade (3d_cascade_fullres): folder of <case>_segFromPrevStage.npy, loaded as a second seg channel. */
  previousStageDir?: string;
  /** Label the previous stage's seg is padded with: 0 (v1's DataLoader, the default) or −1 (v2's nnUNetDataLoader). */
  previousStagePad?: 0 | -1;
  /**
   * 2D forced-foreground samples: 'slice' (v1's DataLoader2D: a slice holding the class uniformly, then one of its
   * voxels there) or 'voxel' (v2's nnUNetDataLoader, whose 2D patch is a 3D one of depth 1: one of the class's
   * voxels uniformly, and its slice). Default 'slice'.
   */
  foregroundSampling2D?: 'slice' | 'voxel';
}

/** Lower/upper bounds of the random lower corner per axis (nnU-Net's lb/ub, need_to_pad rule). */
export function cropBounds(shape: readonly number[], patch: readonly number[], finalPatch: readonly number[]): { lb: number[]; ub: number[] } {
  const lb: number[] = [];
  const ub: number[] = [];
  shape.forEach((s, d) => {
    let need = patch[d]! - finalPatch[d]!;
    if (need + s < patch[d]!) need = patch[d]! - s;
    lb.push(Math.floor(-need / 2));
    ub.push(s + Math.floor(need / 2) + (need % 2) - patch[d]!);
  });
  return { lb, ub };
}

/**
 * Copies the box [lower, lower + size) of a 3D channel-first source into `out` (same channel count), with
 * `pad` where the box leaves the source. Channels [c0, c1) of the source go to out's channels [0, c1 - c0).
 */
export function cropWithPadding(
  src: Float32Array, srcShape: readonly [number, number, number], c0: number, c1: number,
  lower: readonly [number, number, number], size: readonly [number, number, number],
  out: Float32Array, outOffset: number, pad: number,
): void {
  const [Z, Y, X] = srcShape;
  const [pz, py, px] = size;
  const x0 = Math.max(0, lower[2]), x1 = Math.min(X, lower[2] + px);
  for (let c = c0; c < c1; c++) {
    const srcC = c * Z * Y * X;
    const outC = outOffset + (c - c0) * pz * py * px;
    for (let z = 0; z < pz; z++) {
      const sz = lower[0] + z;
      for (let y = 0; y < py; y++) {
        const sy = lower[1] + y;
        const row = outC + (z * py + y) * px;
        if (sz < 0 || sz >= Z || sy < 0 || sy >= Y || x1 <= x0) {
          out.fill(pad, row, row + px);
          continue;
        }
        const srcRow = srcC + (sz * Y + sy) * X;
        const before = x0 - lower[2];
        if (before > 0) out.fill(pad, row, row + before);
        out.set(src.subarray(srcRow + x0, srcRow + x1), row + before);
        const after = before + (x1 - x0);
        if (after < px) out.fill(pad, row + after, row + px);
      }
    }
  }
}

interface Choice { info: CaseInfo; forceFg: boolean }

export class PatchDataLoader {
  readonly batchSize: number;
  readonly patchSize: number[];
  readonly finalPatchSize: number[];
  readonly numChannels: number;
  /** 1, or 2 with the previous stage's segmentation (cascade). */
  readonly segChannels: number;
  private readonly rng: Rng;
  private readonly store: CaseStore;
  private readonly firstForced: number;
  private readonly caseIds: string[];
  private readonly foregroundSampling2D: 'slice' | 'voxel';
  private readonly previousStagePad: number;

  constructor(opts: DataLoaderOptions) {
    if (opts.caseIds.length === 0) throw new RangeError('PatchDataLoader: no cases');
    if (opts.patchSize.length !== opts.finalPatchSize.length || ![2, 3].includes(opts.patchSize.length)) {
      throw new RangeError(`PatchDataLoader: patch [${opts.patchSize.join(', ')}] / final [${opts.finalPatchSize.join(', ')}] must both be 2D or 3D`);
    }
    this.batchSize = opts.batchSize;
    this.patchSize = [...opts.patchSize];
    this.finalPatchSize = [...opts.finalPatchSize];
    this.caseIds = [...opts.caseIds];
    this.foregroundSampling2D = opts.foregroundSampling2D ?? 'slice';
    this.previousStagePad = opts.previousStagePad ?? 0;
    this.rng = opts.state ? Rng.fromState(opts.state) : Rng.seeded(opts.seed ?? 12345);
    this.store = new CaseStore(opts.dir, opts.cacheSize ?? 32, opts.previousStageDir);
    this.segChannels = opts.previousStageDir ? 2 : 1;
    this.firstForced = firstForcedForegroundIndex(opts.batchSize, opts.oversampleForegroundPercent ?? OVERSAMPLE_FOREGROUND_PERCENT);
    this.numChannels = this.store.info(this.caseIds[0]!).shape[0] - 1;
  }

  get is2D(): boolean {
    return this.patchSize.length === 2;
  }

  getState(): MT19937State {
    return this.rng.getState();
  }

  /** One batch: data [B, C, ...P'], seg [B, S, ...P']. */
  next(): Batch {
    const B = this.batchSize;
    const C = this.numChannels;
    const S = this.segChannels;
    const vox = product(this.patchSize);
    const data = new Float32Array(B * C * vox);
    const seg = new Float32Array(B * S * vox);
    const choices: Choice[] = [];
    for (let j = 0; j < B; j++) {
      const info = this.store.info(this.caseIds[this.rng.randint(0, this.caseIds.length)]!);
      choices.push({ info, forceFg: j >= this.firstForced });
    }
    choices.forEach(({ info, forceFg }, j) => {
      if (info.shape[0] - 1 !== C) throw new RangeError(`${info.npyFile}: ${info.shape[0] - 1} channels, other cases have ${C}`);
      if (this.is2D) this.sample2D(info, forceFg, data, j * C * vox, seg, j * S * vox);
      else this.sample3D(info, forceFg, data, j * C * vox, seg, j * S * vox);
    });
    return { data, dataShape: [B, C, ...this.patchSize], seg, segShape: [B, S, ...this.patchSize], keys: choices.map((c) => c.info.id) };
  }

  /**
   * The voxels a patch is centred on, or undefined for a random patch. Forced: a foreground label or region with
   * stored voxels, chosen uniformly (np.random.choice over the non-empty ones; v2 drops its annotated-voxels key when
   * anything else is left). Not forced: random, except that v2 with an ignore label centres on an annotated voxel.
   */
  private patchCentres(info: CaseInfo, forceFg: boolean): Int32Array | undefined {
    const entries = [...info.classLocations.entries()];
    if (!forceFg) return entries.find(([key, v]) => isAnnotatedKey(key) && v.length > 0)?.[1];
    let classes = entries.filter(([key, v]) => key !== '0' && v.length > 0);
    if (classes.length > 1) classes = classes.filter(([key]) => !isAnnotatedKey(key));
    if (classes.length === 0) return undefined;
    return classes[this.rng.randint(0, classes.length)]![1];
  }

  private sample3D(info: CaseInfo, forceFg: boolean, data: Float32Array, dOff: number, seg: Float32Array, sOff: number): void {
    const shape = info.shape.slice(1) as [number, number, number];
    const P = this.patchSize as [number, number, number];
    const { lb, ub } = cropBounds(shape, P, this.finalPatchSize);
    const voxels = this.patchCentres(info, forceFg);
    let lower: number[];
    if (voxels) {
      const v = this.rng.randint(0, voxels.length / 3);
      lower = [0, 1, 2].map((d) => Math.max(lb[d]!, voxels[3 * v + d]! - Math.floor(P[d]! / 2)));
    } else {
      lower = [0, 1, 2].map((d) => this.rng.randint(lb[d]!, ub[d]! + 1));
    }
    this.copyBox(info, shape, lower as [number, number, number], P, data, dOff, seg, sOff);
  }

  private sample2D(info: CaseInfo, forceFg: boolean, data: Float32Array, dOff: number, seg: Float32Array, sOff: number): void {
    const [, Z, Y, X] = info.shape;
    const P = this.patchSize as [number, number];
    let voxels = this.patchCentres(info, forceFg);
    let slice: number;
    let centre: number[] | undefined; // 'voxel' sampling: the chosen voxel's in-plane position
    if (voxels && this.foregroundSampling2D === 'voxel') {
      const v = this.rng.randint(0, voxels.length / 3);
      slice = voxels[3 * v]!;
      centre = [voxels[3 * v + 1]!, voxels[3 * v + 2]!];
    } else if (voxels) {
      const slices = [...new Set(Array.from({ length: voxels.length / 3 }, (_, i) => voxels![3 * i]!))].sort((a, b) => a - b);
      slice = slices[this.rng.randint(0, slices.length)]!;
      const inSlice: number[] = [];
      for (let i = 0; i < voxels.length; i += 3) if (voxels[i] === slice) inSlice.push(voxels[i + 1]!, voxels[i + 2]!);
      voxels = Int32Array.from(inSlice);
    } else {
      slice = this.rng.randint(0, Z);
    }
    const { lb, ub } = cropBounds([Y, X], P, this.finalPatchSize);
    let lower: number[];
    if (centre) {
      lower = [0, 1].map((d) => Math.max(lb[d]!, centre![d]! - Math.floor(P[d]! / 2)));
    } else if (voxels) {
      const v = this.rng.randint(0, voxels.length / 2);
      lower = [0, 1].map((d) => Math.max(lb[d]!, voxels![2 * v + d]! - Math.floor(P[d]! / 2)));
    } else {
      lower = [0, 1].map((d) => this.rng.randint(lb[d]!, ub[d]! + 1));
    }
    this.copyBox(info, [Z, Y, X], [slice, lower[0]!, lower[1]!], [1, P[0], P[1]], data, dOff, seg, sOff);
  }

  /** Reads only the slab the box overlaps, then crops image channels (pad 0), the seg (pad -1) and the
   * previous stage's seg (pad previousStagePad). */
  private copyBox(info: CaseInfo, shape: [number, number, number], lower: [number, number, number], size: readonly number[],
    data: Float32Array, dOff: number, seg: Float32Array, sOff: number): void {
    const C = this.numChannels;
    const box = size as [number, number, number];
    const z0 = Math.max(0, lower[0]);
    const z1 = Math.min(shape[0], lower[0] + box[0]);
    const n = product(box);
    if (z1 <= z0) {
      data.fill(0, dOff, dOff + C * n);
      seg.fill(-1, sOff, sOff + n);
      if (this.segChannels === 2) seg.fill(this.previousStagePad, sOff + n, sOff + 2 * n);
      return;
    }
    const slab = this.store.readSlab(info, z0, z1);
    const slabShape: [number, number, number] = [z1 - z0, shape[1], shape[2]];
    const slabLower: [number, number, number] = [lower[0] - z0, lower[1], lower[2]];
    cropWithPadding(slab, slabShape, 0, C, slabLower, box, data, dOff, 0);
    cropWithPadding(slab, slabShape, C, C + 1, slabLower, box, seg, sOff, -1);
    if (this.segChannels === 2) {
      const prev = readSlab(info.previousStage!, 1, z0, z1);
      cropWithPadding(prev, slabShape, 0, 1, slabLower, box, seg, sOff + n, this.previousStagePad);
    }
  }
}
