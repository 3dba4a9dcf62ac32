/**
 * nnunetv2's load_pretrained_weights (nnunetv2/run/load_pretrained_weights.py): a checkpoint's 'network_weights'
 * replace the fresh network's parameters, all but the segmentation heads (keys with '.seg_layers.'), and every
 * such parameter must be in the file with the same shape. nnUNetv2_train applies it only to a fold that starts
 * at epoch 0 (not with --c).
 */
import { BadInputError } from '../../common/errors';
import { readTorchCheckpoint, type TensorData } from '../../io/torch-checkpoint';
import type { V2NetworkDescription } from '../../network/v2/describe';
import { torchShapeOfV2, v2StateDictFromWeights, weightsFromV2StateDict } from '../../network/v2/torch-weights';

const SKIPPED = '.seg_layers.';

/** The weights after loading FILE over `current`; returns them with how many parameters came from the file. */
export function applyPretrainedWeightsV2(d: V2NetworkDescription, current: readonly Float32Array[], file: string): { weights: Float32Array[]; loaded: number } {
  const sd = new Map<string, TensorData>([...readTorchCheckpoint(file).stateDict].map(([k, t]) => [k.replace(/^(module\.|_orig_mod\.)+/, ''), t]));
  const wanted = d.params.filter((p) => !p.name.includes(SKIPPED));
  for (const p of wanted) {
    const t = sd.get(p.name);
    const shape = torchShapeOfV2(p);
    if (!t) throw new BadInputError(`${file}: Key ${p.name} is missing in the pretrained model weights. The pretrained weights do not seem to be compatible with your network.`, file);
    if (t.shape.join(',') !== shape.join(',')) {
      throw new BadInputError(`${file}: The shape of the parameters of key ${p.name} is not the same: pretrained (${t.shape.join(', ')}), network (${shape.join(', ')}). The pretrained model does not seem to be compatible with your network.`, file);
    }
  }
  // the heads keep the fresh init: take them from `current` (in torch layout) beside the file's other parameters
  const fresh = v2StateDictFromWeights(d, current);
  const merged = new Map(d.params.map((p) => [p.name, p.name.includes(SKIPPED) ? fresh.get(p.name)! : sd.get(p.name)!]));
  const weights = weightsFromV2StateDict(d, merged, file);
  return { weights, loaded: wanted.length };
}
