/**
 * nnU-Net v1's Generic_UNet state_dict ↔ our U-Net's weights. The names are the same (architecture.ts uses
 * Generic_UNet's keys); the layouts differ:
 *
 *   conv and seg_outputs weights   torch [out, in, ...kernel]   ours [...kernel, in, out]
 *   tu (ConvTranspose) weights      torch [in, out, ...kernel]   ours [in, ...kernel, out]
 *   biases, instnorm weight/bias    [channels] both
 *
 * Every name and shape is checked against the architecture; a mismatch is refused naming the parameter.
 * Which file kind a checkpoint is (ours or torch.save) is decided by its first bytes, not its name.
 * See docs/interop.md, "nnU-Net v1 models".
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { readTorchCheckpoint, type TensorData } from '../io/torch-checkpoint';
import type { ParamSpec, UNetArchitecture } from './architecture';
import { CHECKPOINT_MAGIC, CorruptCheckpointError, loadCheckpointWeights } from './checkpoint-file';

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** out[i] = in[perm applied]: a C-order transpose where axis k of the result is axis perm[k] of the input. */
export function transposeArray(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) { inStrides[k] = s; s *= shape[k]!; }
  const strideOfOut = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      index[k]!++;
      src += strideOfOut[k]!;
      if (index[k]! < outShape[k]!) break;
      src -= strideOfOut[k]! * outShape[k]!;
      index[k] = 0;
    }
  }
  return out;
}

/** The permutation taking a torch tensor of this parameter to our layout (identity for vectors). */
export function torchToOursPerm(spec: ParamSpec): number[] {
  const rank = spec.shape.length;
  if (rank === 1) return [0];
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  // tu.N.weight: torch [in, out, ...k] -> ours [in, ...k, out]; every other weight: torch [out, in, ...k] -> ours [...k, in, out]
  return spec.name.startsWith('tu.') ? [0, ...spatial, 1] : [...spatial, 1, 0];
}

const inversePerm = (perm: readonly number[]): number[] => perm.reduce<number[]>((inv, p, k) => { inv[p] = k; return inv; }, []);

/** The torch shape of one of our parameters. */
export function torchShapeOf(spec: ParamSpec): number[] {
  const inv = inversePerm(torchToOursPerm(spec));
  return inv.map((k) => spec.shape[k]!);
}

/** A torch state_dict → our weights in architecture order; every parameter must be there with its shape. */
export function weightsFromStateDict(arch: UNetArchitecture, stateDict: ReadonlyMap<string, TensorData>, file: string): Float32Array[] {
  // nnU-Net strips "module." (DataParallel) the same way when it loads a checkpoint.
  const byName = new Map([...stateDict].map(([k, v]) => [k.startsWith('module.') && !arch.params.some((p) => p.name === k) ? k.slice(7) : k, v]));
  const missing = arch.params.filter((p) => !byName.has(p.name)).map((p) => p.name);
  if (missing.length) {
    throw new BadInputError(`${file}: the state_dict lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}; the checkpoint was trained with other plans or another network`, file);
  }
  const known = new Set(arch.params.map((p) => p.name));
  const extra = [...byName.keys()].filter((k) => !known.has(k));
  if (extra.length) {
    throw new BadInputError(`${file}: the state_dict has parameters Generic_UNet of these plans does not (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''}); the checkpoint belongs to another network`, file);
  }
  return arch.params.map((spec) => {
    const t = byName.get(spec.name)!;
    const want = torchShapeOf(spec);
    if (t.shape.length !== want.length || t.shape.some((n, i) => n !== want[i])) {
      throw new BadInputError(`${file}: parameter ${spec.name} has shape (${t.shape.join(', ')}), these plans' network needs (${want.join(', ')}); the checkpoint was trained with other plans`, file);
    }
    return transposeArray(t.data, t.shape, torchToOursPerm(spec));
  });
}

/** Our weights (architecture order) → a torch state_dict with Generic_UNet's names and layouts. */
export function stateDictFromWeights(arch: UNetArchitecture, weights: readonly Float32Array[]): Map<string, TensorData> {
  if (weights.length !== arch.params.length) throw new Error(`state_dict: ${weights.length} arrays for ${arch.params.length} parameters`);
  const out = new Map<string, TensorData>();
  arch.params.forEach((spec, i) => {
    const w = weights[i]!;
    if (w.length !== prod(spec.shape)) throw new Error(`state_dict: ${spec.name} has ${w.length} values, shape (${spec.shape.join(', ')}) needs ${prod(spec.shape)}`);
    const perm = inversePerm(torchToOursPerm(spec));
    out.set(spec.name, { dtype: 'float32', shape: torchShapeOf(spec), data: transposeArray(w, spec.shape, perm) });
  });
  return out;
}

export type CheckpointKind = 'nnunet-ts' | 'torch';

/** Ours ("NNUTSCK1"), torch.save (a zip, or the legacy pickle stream) or neither (undefined), by content. */
export function checkpointKindOf(file: string): CheckpointKind | undefined {
  const head = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try { n = fs.readSync(fd, head, 0, 8, 0); } finally { fs.closeSync(fd); }
  if (n === 8 && head.toString('latin1') === CHECKPOINT_MAGIC) return 'nnunet-ts';
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'torch';
  if (n >= 3 && head[0] === 0x80 && head[2] === 0x8a) return 'torch';
  return undefined;
}

/** Network weights for this architecture (architecture order) from either checkpoint kind. */
export function loadWeightsFor(arch: UNetArchitecture, file: string): Float32Array[] {
  const kind = checkpointKindOf(file);
  if (kind === 'torch') return weightsFromStateDict(arch, readTorchCheckpoint(file).stateDict, file);
  if (kind === undefined) throw new CorruptCheckpointError(file, 'neither an nnunet-ts checkpoint nor a torch.save file such as nnU-Net v1 writes');
  const { weights, names } = loadCheckpointWeights(file);
  const byName = new Map(names.map((n, i) => [n, weights[i]!]));
  const missing = arch.params.filter((p) => !byName.has(p.name)).map((p) => p.name);
  if (missing.length) {
    throw new BadInputError(`${file}: no weights for ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}; the checkpoint was trained with other plans`, file);
  }
  return arch.params.map((p) => byName.get(p.name)!);
}
