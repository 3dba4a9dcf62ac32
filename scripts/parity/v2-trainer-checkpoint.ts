/**
 * Trains the tiny v2 fold of the trainer tests (2 epochs × 2 iterations), then has nnunetv2 load its
 * checkpoint_final.pth (v2_trainer_checkpoint.py: strict load_state_dict, the optimizer state, nnUNetPredictor's
 * model-folder loading) and compares the network's logits on one patch with ours.
 * Usage: node dist/scripts/parity/v2-trainer-checkpoint.js (needs /usr/bin/python3 with torch and nnunetv2).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readNpySync, writeNpy } from '../../activities/io/npy';
import { readNpz } from '../../activities/io/npz';
import { loadV2Model } from '../../activities/network/v2/model-folder';
import { trainFoldV2 } from '../../activities/training/v2/train-fold';
import { TINY_DATASET, tinyPreprocessedV2 } from '../../test/training/v2/fixture';

const PATCH = [8, 16, 16];

/** The first PATCH voxels of a case's channel 0, as (1, 1, z, y, x). */
function inputPatch(npz: string): Float32Array {
  const d = readNpz(npz).data!;
  const [, , Y, X] = d.shape as number[];
  const out = new Float32Array(PATCH[0]! * PATCH[1]! * PATCH[2]!);
  for (let z = 0; z < PATCH[0]!; z++) for (let y = 0; y < PATCH[1]!; y++) for (let x = 0; x < PATCH[2]!; x++) {
    out[(z * PATCH[1]! + y) * PATCH[2]! + x] = (d.data as Float32Array)[(z * Y! + y) * X! + x]!;
  }
  return out;
}

async function main(): Promise<void> {
  const d = tinyPreprocessedV2();
  try {
    const r = await trainFoldV2({ preprocessedDir: d.preprocessedDir, resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, configuration: '3d_fullres',
      fold: 0, trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: 2, iterationsPerEpoch: 2, valIterationsPerEpoch: 1, numWorkers: 1 });
    const modelDir = path.dirname(r.foldDir);
    const check = path.join(d.root, 'check');
    fs.mkdirSync(check);
    const x = inputPatch(path.join(d.preprocessedDir, 'nnUNetPlans_3d_fullres', 'case_0.npz'));
    writeNpy(path.join(check, 'input.npy'), { data: x, shape: [1, 1, ...PATCH], dtype: 'float32' });
    console.log(execFileSync('/usr/bin/python3', [path.join(__dirname, '..', '..', '..', 'scripts', 'parity', 'v2_trainer_checkpoint.py'), modelDir, check], { encoding: 'utf8' }).trim());
    const model = loadV2Model(modelDir, { folds: [0] });
    const ours = tf.tidy(() => tf.transpose(model.networks[0]!.predict(tf.tensor(x, [1, ...PATCH, 1])), [0, 4, 1, 2, 3]).dataSync() as Float32Array);
    model.dispose();
    const torch = readNpySync(path.join(check, 'logits_torch.npy')).data as Float32Array;
    let diff = 0;
    torch.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - ours[i]!)); });
    console.log(`logits of checkpoint_final.pth on a ${PATCH.join('x')} patch: max |ours - torch| ${diff.toExponential(2)}`);
  } finally {
    d.cleanup();
  }
}

void main();
