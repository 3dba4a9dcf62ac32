/**
 * A v2 network's torch state_dict (checkpoint 'network_weights') ↔ our weights. dynamic_network_architectures
 * registers some modules twice, so its state_dict names one tensor under several keys: every conv block as
 * `.conv`/`.norm` and as `.all_modules.0`/`.all_modules.1`, and the whole encoder again under `decoder.encoder.`.
 * Only the canonical keys (describe.ts) are read; the aliases are dropped. Layouts:
 *
 *   conv and seg_layers weights   torch [out, in, ...kernel]   ours [...kernel, in, out]
 *   transpconvs weights            torch [in, out, ...kernel]   ours [in, ...kernel, out]
 *   biases, norm weight/bias       [channels] both
 */
import { BadInputError } from '../../common/errors';
import type { TensorData } from '../../io/torch-checkpoint';
import { transposeArray } from '../torch-weights';
import type { V2NetworkDescription, V2ParamSpec } from './describe';

/** The permutation taking a torch tensor of this parameter to our layout. */
function torchToOurs(p: V2ParamSpec): number[] {
  const spatial = Array.from({ length: p.shape.length - 2 }, (_, i) => i + 2);
  if (p.layout === 'vector') return [0];
  return p.layout === 'transposed' ? [0, ...spatial, 1] : [...spatial, 1, 0];
}

const inverse = (perm: readonly number[]): number[] => perm.reduce<number[]>((inv, p, k) => { inv[p] = k; return inv; }, []);

export function torchShapeOfV2(p: V2ParamSpec): number[] {
  return inverse(torchToOurs(p)).map((k) => p.shape[k]!);
}

/** The key without DataParallel's `module.` and torch.compile's `_orig_mod.`; undefined for an alias. */
function canonicalKey(key: string): string | undefined {
  const k = key.replace(/^(module\.|_orig_mod\.)+/, '');
  if (k.startsWith('decoder.encoder.') || k.includes('.all_modules.')) return undefined;
  return k;
}

const listed = (names: readonly string[]): string => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;

/** A v2 state_dict → our weights in description order; every parameter must be there with its shape. */
export function weightsFromV2StateDict(d: V2NetworkDescription, stateDict: ReadonlyMap<string, TensorData>, file: string): Float32Array[] {
  const byName = new Map<string, TensorData>();
  for (const [key, t] of stateDict) {
    const k = canonicalKey(key);
    if (k !== undefined) byName.set(k, t);
  }
  const cls = d.spec.networkClass;
  const missing = d.params.filter((p) => !byName.has(p.name)).map((p) => p.name);
  if (missing.length) throw new BadInputError(`${file}: the network_weights lack ${listed(missing)}; the checkpoint is not a ${cls} of these plans`, file);
  const known = new Set(d.params.map((p) => p.name));
  const extra = [...byName.keys()].filter((k) => !known.has(k));
  if (extra.length) throw new BadInputError(`${file}: the network_weights have parameters the ${cls} of these plans does not (${listed(extra)}); the checkpoint belongs to another network`, file);
  return d.params.map((p) => {
    const t = byName.get(p.name)!;
    const want = torchShapeOfV2(p);
    if (t.shape.length !== want.length || t.shape.some((n, i) => n !== want[i])) {
      throw new BadInputError(`${file}: parameter ${p.name} has shape (${t.shape.join(', ')}), the ${cls} of these plans needs (${want.join(', ')}); the checkpoint was trained with other plans`, file);
    }
    return transposeArray(t.data, t.shape, torchToOurs(p));
  });
}

/** Our weights → a state_dict with the canonical v2 names and torch layouts (no aliases). */
export function v2StateDictFromWeights(d: V2NetworkDescription, weights: readonly Float32Array[]): Map<string, TensorData> {
  if (weights.length !== d.params.length) throw new Error(`state_dict: ${weights.length} arrays for ${d.params.length} parameters`);
  const out = new Map<string, TensorData>();
  d.params.forEach((p, i) => out.set(p.name, { dtype: 'float32', shape: torchShapeOfV2(p), data: transposeArray(weights[i]!, p.shape, inverse(torchToOurs(p))) }));
  return out;
}
