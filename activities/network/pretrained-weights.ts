/**
 * nnUNet_train -pretrained_weights: nnU-Net v1's load_pretrained_weights for a torch .model of nnU-Net or one of
 * our checkpoints. Its rules (docs/training.md, "Pretrained weights"):
 *   - a "module." prefix (DataParallel) is stripped from every key;
 *   - every conv_blocks parameter of the network must be in the file with the same shape, else the file is refused;
 *   - then every parameter present with the same shape is copied, the rest keeps its fresh init (so the
 *     segmentation heads transfer only when the number of classes matches).
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { readTorchCheckpoint } from '../io/torch-checkpoint';
import type { ParamSpec, UNetArchitecture } from './architecture';
import { loadCheckpointWeights } from './checkpoint-file';
import { checkpointKindOf, torchShapeOf, transposeArray, torchToOursPerm } from './torch-weights';

/** One stored tensor: its shape in the file's layout and how to get it in ours. */
interface StoredTensor {
  shape: readonly number[];
  toOurs: (spec: ParamSpec) => Float32Array;
}

export interface PretrainedResult {
  weights: Float32Array[];
  /** The parameters taken from the file (architecture order). */
  loaded: string[];
}

const stripModule = (key: string): string => (key.startsWith('module.') ? key.slice(7) : key);

function storedTensors(file: string): { tensors: Map<string, StoredTensor>; expectedShape: (spec: ParamSpec) => readonly number[] } {
  const kind = checkpointKindOf(file);
  if (kind === 'torch') {
    const tensors = new Map<string, StoredTensor>();
    for (const [key, t] of readTorchCheckpoint(file).stateDict) {
      tensors.set(stripModule(key), { shape: t.shape, toOurs: (spec) => transposeArray(t.data, t.shape, torchToOursPerm(spec)) });
    }
    return { tensors, expectedShape: torchShapeOf };
  }
  if (kind === 'nnunet-ts') {
    const { weights, names, shapes } = loadCheckpointWeights(file);
    const tensors = new Map<string, StoredTensor>(names.map((n, i) => [stripModule(n), { shape: shapes[i]!, toOurs: () => weights[i]! }]));
    return { tensors, expectedShape: (spec) => spec.shape };
  }
  throw new BadInputError(`${file}: not a checkpoint (neither an nnU-Net .model saved by torch nor an nnunet-ts checkpoint); pass a model_final_checkpoint.model or model_best.model`, file);
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((n, i) => n === b[i]);

/**
 * The network's weights with the file's copied in where nnU-Net's load_pretrained_weights copies them; `current` is
 * the freshly initialised network (architecture order). Refuses a file whose conv_blocks do not all match.
 */
export function applyPretrainedWeights(arch: UNetArchitecture, current: readonly Float32Array[], file: string): PretrainedResult {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: no such pretrained weights file; pass the path of a trained fold's .model file`, file);
  const { tensors, expectedShape } = storedTensors(file);
  const matches = (spec: ParamSpec): boolean => {
    const t = tensors.get(spec.name);
    return t !== undefined && sameShape(t.shape, expectedShape(spec));
  };
  const mismatched = arch.params.filter((p) => p.name.includes('conv_blocks') && !matches(p)).map((p) => p.name);
  if (mismatched.length) {
    const which = `${mismatched.slice(0, 3).join(', ')}${mismatched.length > 3 ? ` and ${mismatched.length - 3} more` : ''}`;
    throw new BadInputError(`${file}: Pretrained weights are not compatible with the current network architecture (${which} missing or of another shape); `
      + 'pretrain with the same plans (patch size, pooling, modalities) or train without -pretrained_weights', file);
  }
  const loaded: string[] = [];
  const weights = arch.params.map((spec, i) => {
    if (!matches(spec)) return current[i]!;
    loaded.push(spec.name);
    return tensors.get(spec.name)!.toOurs(spec);
  });
  return { weights, loaded };
}
