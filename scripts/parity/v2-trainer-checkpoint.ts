/**
 * Trains the tiny v2 fold of the trainer tests (2 epochs × 2 iterations), then has nnunetv2 load its
 * checkpoint_final.pth (v2_trainer_checkpoint.py: strict load_state_dict, the optimizer state, nnUNetPredictor's
 * model-folder loading) and compares the network's logits on one patch with ours. With --cascade: the tiny
 * 3d_lowres folds (2-fold split) and then 3d_cascade_fullres fold 0, whose input is the image + the one-hot
 * predicted_next_stage segmentation.
 * Usage: node dist/scripts/parity/v2-trainer-checkpoint.js [--cascade] (needs /usr/bin/python3 with torch and nnunetv2).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readNpySync, writeNpy } from '../../activities/io/npy';
import { readNpz } from '../../activities/io/npz';
import { loadV2Model } from '../../activities/network/v2/model-folder';
import { trainFoldV2 } from '../../activities/training/v2/train-fold';
import { toChannelsLast } from '../../activities/training/batch-worker';
import { addCascadeConfigurations, TINY_DATASET, tinyPreprocessedV2 } from '../../test/training/v2/fixture';

const PATCH = [8, 16, 16];

const P = PATCH[0]! * PATCH[1]! * PATCH[2]!;

/** The first PATCH voxels of a (z, y, x) volume. */
function corner(v: ArrayLike<number>, shape: readonly number[], into: Float32Array, at: number, map: (x: number) => number = (x) => x): void {
  const [Y, X] = shape.slice(-2) as [number, number];
  for (let z = 0; z < PATCH[0]!; z++) for (let y = 0; y < PATCH[1]!; y++) for (let x = 0; x < PATCH[2]!; x++) {
    into[at + (z * PATCH[1]! + y) * PATCH[2]! + x] = map(v[(z * Y + y) * X + x]!);
  }
}

/** The first PATCH voxels of a case's channel 0 (and, for a cascade, the one-hot label 1 of its previous stage), (1, C, z, y, x). */
function inputPatch(npz: string, previousStage?: string): Float32Array {
  const d = readNpz(npz).data!;
  const out = new Float32Array((previousStage ? 2 : 1) * P);
  corner(d.data as Float32Array, d.shape, out, 0);
  if (previousStage) {
    const s = readNpz(previousStage).seg!;
    corner(s.data as Uint8Array, s.shape, out, P, (v) => (v === 1 ? 1 : 0));
  }
  return out;
}

/** --cascade: 3d_lowres folds 0 and 1 of a 2-fold split, whose validation writes every case's predicted_next_stage. */
async function trainLowres(d: ReturnType<typeof tinyPreprocessedV2>): Promise<string> {
  addCascadeConfigurations(d);
  fs.writeFileSync(path.join(d.preprocessedDir, 'splits_final.json'), JSON.stringify([
    { train: ['case_2', 'case_3', 'case_4'], val: ['case_0', 'case_1'] }, { train: ['case_0', 'case_1'], val: ['case_2', 'case_3', 'case_4'] },
  ]));
  for (const fold of [0, 1]) {
    await trainFoldV2({ preprocessedDir: d.preprocessedDir, resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, configuration: '3d_lowres',
      fold, trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: 1, iterationsPerEpoch: 1, valIterationsPerEpoch: 1, numWorkers: 1 });
  }
  return path.join(d.resultsRoot, TINY_DATASET, 'nnUNetTrainer__nnUNetPlans__3d_lowres', 'predicted_next_stage', '3d_cascade_fullres', 'case_0.npz');
}

async function main(): Promise<void> {
  const d = tinyPreprocessedV2();
  try {
    const previousStage = process.argv.includes('--cascade') ? await trainLowres(d) : undefined;
    const r = await trainFoldV2({ preprocessedDir: d.preprocessedDir, resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, configuration: previousStage ? '3d_cascade_fullres' : '3d_fullres',
      fold: 0, trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: 2, iterationsPerEpoch: 2, valIterationsPerEpoch: 1, numWorkers: 1 });
    const modelDir = path.dirname(r.foldDir);
    const check = path.join(d.root, 'check');
    fs.mkdirSync(check);
    const x = inputPatch(path.join(d.preprocessedDir, 'nnUNetPlans_3d_fullres', 'case_0.npz'), previousStage);
    const C = x.length / P;
    writeNpy(path.join(check, 'input.npy'), { data: x, shape: [1, C, ...PATCH], dtype: 'float32' });
    console.log(execFileSync('/usr/bin/python3', [path.join(__dirname, '..', '..', '..', 'scripts', 'parity', 'v2_trainer_checkpoint.py'), modelDir, check], { encoding: 'utf8' }).trim());
    const model = loadV2Model(modelDir, { folds: [0] });
    const ours = tf.tidy(() => tf.transpose(model.networks[0]!.predict(tf.tensor(toChannelsLast(x, [1, C, ...PATCH]).data, [1, ...PATCH, C])), [0, 4, 1, 2, 3]).dataSync() as Float32Array);
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
