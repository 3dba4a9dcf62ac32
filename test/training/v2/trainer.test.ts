/**
 * nnU-Net v2's trainer on a tiny synthetic v2 dataset (fixture.ts): 2 epochs × 2 iterations train with finite
 * losses, write checkpoint_final.pth / checkpoint_best.pth in v2's format (network_weights with v2's key names
 * and aliases, read back by network/v2/model-folder.ts as nnUNetPredictor would), the v2 results tree, and a run
 * stopped after one epoch continues (--c) to the same weights as an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTorchCheckpoint } from '../../../activities/io/torch-checkpoint';
import { loadV2Model } from '../../../activities/network/v2/model-folder';
import { weightsFromV2StateDict } from '../../../activities/network/v2/torch-weights';
import { buildV2UNet } from '../../../activities/network/v2/unet';
import { applyPretrainedWeightsV2 } from '../../../activities/training/v2/pretrained';
import { initialPatchSizeV2, mirrorAxesV2, rotationForDAV2 } from '../../../activities/training/v2/augmentation-v2';
import { trainFoldV2, type TrainFoldV2Input } from '../../../activities/training/v2/train-fold';
import { trainerSettingsV2, trainerNamesV2 } from '../../../activities/training/v2/variants';
import { add2dConfiguration, TINY_DATASET, tinyPreprocessedV2 } from './fixture';

const input = (d: { preprocessedDir: string; resultsRoot: string }, over: Partial<TrainFoldV2Input> = {}): TrainFoldV2Input => ({
  preprocessedDir: d.preprocessedDir, resultsRoot: d.resultsRoot, datasetName: TINY_DATASET, configuration: '3d_fullres', fold: 0,
  trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: 2, iterationsPerEpoch: 2, valIterationsPerEpoch: 1, saveEvery: 1,
  numWorkers: 1, backend: 'cpu', ...over,
});

test('v2 trainer variants: defaults and parameter-only variants by nnU-Net name', () => {
  const base = trainerSettingsV2('nnUNetTrainer');
  assert.deepEqual([base.numEpochs, base.numIterationsPerEpoch, base.numValIterationsPerEpoch, base.initialLr, base.weightDecay, base.momentum, base.oversampleForegroundPercent],
    [1000, 250, 50, 1e-2, 3e-5, 0.99, 0.33]);
  assert.equal(trainerSettingsV2('nnUNetTrainer_1epoch').numEpochs, 1);
  assert.equal(trainerSettingsV2('nnUNetTrainer_8000epochs').numEpochs, 8000);
  assert.equal(trainerSettingsV2('nnUNetTrainerNoDeepSupervision').deepSupervision, false);
  assert.equal(trainerSettingsV2('nnUNetTrainerDiceCELoss_noSmooth').diceSmooth, 0);
  assert.equal(trainerSettingsV2('nnUNetTrainerCELoss').loss, 'ce');
  assert.equal(trainerSettingsV2('nnUNetTrainerNoDA').dataAugmentation, false);
  assert.ok(trainerNamesV2().includes('nnUNetTrainer_250epochs'));
  assert.deepEqual([trainerSettingsV2('nnUNetTrainer_4000epochs_NoMirroring').numEpochs, trainerSettingsV2('nnUNetTrainer_4000epochs_NoMirroring').mirroring], [4000, 'none']);
  assert.deepEqual([mirrorAxesV2(3, 'all'), mirrorAxesV2(3, 'none'), mirrorAxesV2(3, 'axes01'), mirrorAxesV2(2, 'axes01')], [[0, 1, 2], [], [0, 1], [0]]);
  // v2's rotation rule and initial patch: dummy 2D when max(P)/P[0] > 3, its first axis kept
  assert.deepEqual(rotationForDAV2([8, 32, 32]).dummy2D, true);
  assert.equal(initialPatchSizeV2([8, 32, 32])[0], 8);
  assert.equal(rotationForDAV2([16, 32, 32]).rotation[1], Math.PI / 6);
  assert.equal(rotationForDAV2([16, 32]).rotation[1], 15 * Math.PI / 180);
  assert.throws(() => trainerSettingsV2('nnUNetTrainerV2'), /unknown nnU-Net v2 trainer 'nnUNetTrainerV2'; known trainers: nnUNetTrainer,/);
});

test('nnUNetTrainer trains 2 epochs, writes v2 checkpoints nnUNetPredictor-style loading reads, and resumes exactly', async () => {
  const d = tinyPreprocessedV2();
  try {
    const epochs: number[] = [];
    const done = await trainFoldV2(input(d), { onEpoch: (r) => { epochs.push(r.trainLoss); } });
    assert.equal(done.status, 'done');
    assert.equal(epochs.length, 2);
    assert.ok(epochs.every(Number.isFinite), `losses ${epochs}`);
    const modelDir = path.join(d.resultsRoot, TINY_DATASET, 'nnUNetTrainer__nnUNetPlans__3d_fullres');
    const foldDir = path.join(modelDir, 'fold_0');
    assert.equal(done.foldDir, foldDir);
    for (const f of ['checkpoint_final.pth', 'checkpoint_best.pth', 'progress.png', 'debug.json']) assert.ok(fs.existsSync(path.join(foldDir, f)), f);
    assert.ok(!fs.existsSync(path.join(foldDir, 'checkpoint_latest.pth')), 'latest removed at the end');
    for (const f of ['plans.json', 'dataset.json']) assert.ok(fs.existsSync(path.join(modelDir, f)), f);
    assert.ok(fs.existsSync(path.join(d.preprocessedDir, 'splits_final.json')));

    const ck = readTorchCheckpoint(done.checkpoint);
    assert.equal(ck.meta.current_epoch, 2);
    assert.equal(ck.meta.trainer_name, 'nnUNetTrainer');
    assert.deepEqual(ck.meta.inference_allowed_mirroring_axes, [0, 1, 2]);
    assert.equal((ck.meta.logging as { train_losses: number[] }).train_losses.length, 2);
    assert.ok(ck.stateDict.has('encoder.stages.0.0.convs.0.conv.weight'));
    assert.ok(ck.stateDict.has('encoder.stages.0.0.convs.0.all_modules.0.weight'));
    assert.ok(ck.stateDict.has('decoder.encoder.stages.0.0.convs.0.norm.bias'));
    assert.deepEqual(ck.stateDict.get('encoder.stages.0.0.convs.0.conv.weight')!.shape, [4, 1, 3, 3, 3]);

    const model = loadV2Model(modelDir, { folds: [0] });
    const description = model.description;
    try {
      assert.equal(model.configurationName, '3d_fullres');
      assert.deepEqual(model.mirrorAxes, [0, 1, 2]);
    } finally {
      model.dispose();
    }

    // -pretrained_weights: every parameter but the heads from the file; a network of other plans is refused
    const fresh = buildV2UNet(description.spec, { inChannels: 1, numClasses: 2, deepSupervision: true, seed: 99 });
    const { weights, loaded } = applyPretrainedWeightsV2(fresh.description, fresh.getWeights(), done.checkpoint);
    const fromFile = weightsFromV2StateDict(fresh.description, ck.stateDict, done.checkpoint);
    const freshWeights = fresh.getWeights();
    fresh.description.params.forEach((p, i) => assert.deepEqual(weights[i], p.name.includes('.seg_layers.') ? freshWeights[i] : fromFile[i], p.name));
    assert.equal(loaded, fresh.description.params.filter((p) => !p.name.includes('.seg_layers.')).length);
    fresh.dispose();
    const wider = buildV2UNet({ ...description.spec, featuresPerStage: [8, 16, 32] }, { inChannels: 1, numClasses: 2, deepSupervision: true });
    assert.throws(() => applyPretrainedWeightsV2(wider.description, wider.getWeights(), done.checkpoint), /The shape of the parameters of key encoder\.stages\.0\.0\.convs\.0\.conv\.weight is not the same/);
    wider.dispose();

    // stopped after the first epoch, then --c: the same final weights as the uninterrupted run
    const resumedRoot = path.join(d.root, 'results-resumed');
    let n = 0;
    const stopped = await trainFoldV2(input(d, { resultsRoot: resumedRoot }), { onEpoch: () => { n++; }, shouldStop: () => n >= 1 });
    assert.equal(stopped.status, 'stopped');
    assert.equal(path.basename(stopped.checkpoint), 'checkpoint_latest.pth');
    const resumed = await trainFoldV2(input(d, { resultsRoot: resumedRoot, continueTraining: true }));
    assert.equal(resumed.status, 'done');
    const a = readTorchCheckpoint(done.checkpoint).stateDict, b = readTorchCheckpoint(resumed.checkpoint).stateDict;
    let maxDiff = 0;
    for (const [k, t] of a) t.data.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - b.get(k)!.data[i]!)); });
    assert.ok(maxDiff < 1e-5, `resumed weights differ by ${maxDiff}`);
  } finally {
    d.cleanup();
  }
});

test('variants train: NoDeepSupervision (one output, weight 1), NoDA (no mirroring axes at inference), CELoss with --disable_checkpointing', async () => {
  const d = tinyPreprocessedV2();
  try {
    const one = { epochs: 1, iterationsPerEpoch: 1 };
    const noDs = await trainFoldV2(input(d, { ...one, trainer: 'nnUNetTrainerNoDeepSupervision' }));
    const debug = JSON.parse(fs.readFileSync(path.join(noDs.foldDir, 'debug.json'), 'utf8')) as { deep_supervision_weights: number[] };
    assert.deepEqual(debug.deep_supervision_weights, [1]);
    const noDa = await trainFoldV2(input(d, { ...one, trainer: 'nnUNetTrainerNoDA' }));
    const ck = readTorchCheckpoint(noDa.checkpoint);
    assert.equal(ck.meta.inference_allowed_mirroring_axes, null);
    assert.equal(ck.meta.trainer_name, 'nnUNetTrainerNoDA');
    const ceLosses: number[] = [];
    const ce = await trainFoldV2(input(d, { ...one, trainer: 'nnUNetTrainerCELoss', disableCheckpointing: true }), { onEpoch: (r) => { ceLosses.push(r.trainLoss); } });
    assert.ok(ceLosses.length === 1 && ceLosses[0]! > 0, `cross-entropy is positive: ${ceLosses}`);
    assert.equal(ce.checkpoint, '');
    assert.deepEqual(fs.readdirSync(ce.foldDir).filter((f) => f.endsWith('.pth')), [], '--disable_checkpointing writes no checkpoint');
    await assert.rejects(trainFoldV2(input(d, { trainer: 'nnUNetTrainerV2' })), /unknown nnU-Net v2 trainer/);
    assert.ok(!fs.existsSync(path.join(d.resultsRoot, TINY_DATASET, 'nnUNetTrainerV2__nnUNetPlans__3d_fullres')), 'nothing written for an unknown trainer');
  } finally {
    d.cleanup();
  }
});

test('2d: slices of the 3D cases, ±180° rotation (square patch), mirroring axes (0, 1), batch Dice from the plans', async () => {
  const d = tinyPreprocessedV2();
  try {
    add2dConfiguration(d);
    const r = await trainFoldV2(input(d, { configuration: '2d', epochs: 1, iterationsPerEpoch: 2 }));
    const debug = JSON.parse(fs.readFileSync(path.join(r.foldDir, 'debug.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(debug.initial_patch_size, [18, 18], 'get_patch_size(16x16, ±90° cap, scale 0.85)');
    assert.deepEqual(debug.inference_allowed_mirroring_axes, [0, 1]);
    assert.equal(debug.batch_dice, true);
    assert.ok((debug.rotation_for_DA as number[])[1]! > 3.14);
    assert.ok(Number.isFinite((readTorchCheckpoint(r.checkpoint).meta.logging as { train_losses: number[] }).train_losses[0]));
  } finally {
    d.cleanup();
  }
});
