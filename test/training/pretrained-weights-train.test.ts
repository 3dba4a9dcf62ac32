/**
 * A short real training that starts from pretrained weights (nnUNet_train -pretrained_weights): fold 1 of the tiny
 * task, seeded differently from fold 0, starts from fold 0's final checkpoint, so after one iteration its weights
 * are still within a small step of fold 0's and far from any fresh He init.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCheckpointWeights } from '../../activities/network/checkpoint-file';
import { runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

const input = (over: Partial<TrainFoldInput>): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer: 'nnUNetTrainerV2',
  epochs: 1, iterationsPerEpoch: 1, skipValidation: true, ...over,
});

/** ||a - b|| / ||b|| over all parameters. */
function relativeDistance(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let diff = 0;
  let norm = 0;
  b.forEach((w, i) => w.forEach((v, j) => { diff += (a[i]![j]! - v) ** 2; norm += v * v; }));
  return Math.sqrt(diff / norm);
}

test('a fold trained with pretrainedWeights starts from the file\'s weights (one iteration later still next to them)', { timeout: 600_000 }, async () => {
  const source = await runTrainingFold(input({ fold: 0, runtime: { seed: 7, numWorkers: 1, validationIterations: 1 } }));
  assert.equal(source.status, 'done');
  if (source.status !== 'done') return;
  const lines: string[] = [];
  const started = await runTrainingFold(input({ fold: 1, pretrainedWeights: source.finalCheckpoint, runtime: { seed: 8, numWorkers: 1, validationIterations: 1 } }),
    { log: (l) => lines.push(l) });
  assert.equal(started.status, 'done');
  if (started.status !== 'done') return;
  const pretrained = loadCheckpointWeights(source.finalCheckpoint).weights;
  const loadedLine = lines.find((l) => l.startsWith('loaded pretrained weights from'));
  assert.equal(loadedLine, `loaded pretrained weights from ${source.finalCheckpoint}: ${pretrained.length} of ${pretrained.length} parameters`, lines.join('\n'));
  const fromFile = relativeDistance(loadCheckpointWeights(started.finalCheckpoint).weights, pretrained);
  // The control: fold 2, trained the same way (seed 8) without the file, starts from its own init.
  const scratch = await runTrainingFold(input({ fold: 2, runtime: { seed: 8, numWorkers: 1, validationIterations: 1 } }));
  assert.equal(scratch.status, 'done');
  if (scratch.status !== 'done') return;
  const fromScratch = relativeDistance(loadCheckpointWeights(scratch.finalCheckpoint).weights, pretrained);
  console.log(`relative distance to the pretrained weights after one iteration: with the file ${fromFile.toExponential(2)}, without ${fromScratch.toFixed(3)}`);
  assert.ok(fromFile < 0.05, `with the file: ${fromFile}`);
  assert.ok(fromScratch > 0.5, `without the file: ${fromScratch}`);
});
