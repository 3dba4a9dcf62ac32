/**
 * Spatial transposition of a channel-stacked volume (C, z, y, x) with nnU-Net's `transpose_forward`
 * (`data.transpose((0, *[i + 1 for i in transpose_forward]))`): output axis k is input axis perm[k].
 */
import type { Shape3 } from '../volume/crop';

export function transposedShape(shape: Shape3, perm: readonly number[]): Shape3 {
  return [shape[perm[0]], shape[perm[1]], shape[perm[2]]];
}

export function isIdentity(perm: readonly number[]): boolean {
  return perm.every((p, i) => p === i);
}

/** Transposes every channel of `data` ((C, ...shape), C-order). Returns `data` itself for the identity. */
export function transposeChannels(data: Float32Array, shape: Shape3, perm: readonly number[]): Float32Array {
  if (isIdentity(perm)) return data;
  if ([...perm].sort().join() !== '0,1,2') throw new RangeError(`transpose_forward must be a permutation of 0,1,2: ${perm.join(',')}`);
  const n = shape[0] * shape[1] * shape[2];
  const channels = data.length / n;
  const inStrides = [shape[1] * shape[2], shape[2], 1];
  const [o0, o1, o2] = transposedShape(shape, perm);
  const [s0, s1, s2] = [inStrides[perm[0]], inStrides[perm[1]], inStrides[perm[2]]];
  const out = new Float32Array(data.length);
  for (let c = 0; c < channels; c++) {
    const base = c * n;
    let o = base;
    for (let a = 0; a < o0; a++) {
      for (let b = 0; b < o1; b++) {
        let i = base + a * s0 + b * s1;
        for (let k = 0; k < o2; k++, i += s2) out[o++] = data[i];
      }
    }
  }
  return out;
}
