/**
 * nnU-Net v1's trainer variants: each differs from nnUNetTrainerV2 exactly as its nnU-Net class does (schedule, loss,
 * deep supervision, optimiser, augmentation); the registry's names equal the light name list the CLI checks; the
 * losses and Adam match PyTorch's numbers (computed once with torch 1.13, Debian's python3-torch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BadInputError } from '../../activities/common/errors';
import { focalLoss, softDiceLoss } from '../../activities/training/loss';
import { AmsgradAdam } from '../../activities/training/optimizer';
import { setupAugmentationParams, type AugmentationParams } from '../../activities/training/patch-size';
import type { NnUNetTrainerV2, TrainerSetup, VariantSettings } from '../../activities/training/trainer';
import { builtinTrainerNames, trainerClass, trainerNames } from '../../activities/training/trainer-registry';
import { BUILTIN_TRAINER_NAMES } from '../../activities/training/trainer-names';
import { NnUNetTrainerV2CascadeFullRes } from '../../activities/training/cascade';
import { drawSpatialMatrix } from '../../activities/training/augmentation/spatial';
import { brightnessAdditive } from '../../activities/training/augmentation/intensity';
import { Rng } from '../../activities/training/augmentation/random';

const setupFor = (configuration: TrainerSetup['configuration'] = '3d_fullres') => ({ configuration } as TrainerSetup);

function settingsOf(name: string, configuration?: TrainerSetup['configuration']): VariantSettings {
  const Trainer = trainerClass(name);
  return new Trainer(setupFor(configuration)).variantSettings;
}

/** What a variant changes relative to nnUNetTrainerV2 (keys whose values differ). */
function differences(name: string, configuration?: TrainerSetup['configuration']): Partial<VariantSettings> {
  const base = settingsOf('nnUNetTrainerV2', configuration) as unknown as Record<string, unknown>;
  const own = settingsOf(name, configuration) as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.entries(own).filter(([k, v]) => base[k] !== v));
}

/** nnU-Net's class → what it sets, read from nnunet/training/network_training (branch nnunetv1). */
const EXPECTED: Record<string, Partial<VariantSettings>> = {
  nnUNetTrainerV2: {},
  nnUNetTrainerV2CascadeFullRes: {},
  nnUNetTrainerV2_2epochs: { maxEpochs: 2 },
  nnUNetTrainerV2_5epochs: { maxEpochs: 5 },
  nnUNetTrainerV2_100epochs: { maxEpochs: 100 },
  nnUNetTrainerV2_noDeepSupervision: { deepSupervision: false },
  nnUNetTrainerV2_5epochs_noDS: { maxEpochs: 5, deepSupervision: false },
  nnUNetTrainerV2_5epochs_CEnoDS: { maxEpochs: 5, deepSupervision: false, loss: 'ce' },
  nnUNetTrainerV2_Loss_CE: { loss: 'ce' },
  nnUNetTrainerV2_Loss_Dice: { loss: 'dice' },
  nnUNetTrainerV2_Loss_DicewithBG: { loss: 'dice', diceWithBackground: true },
  nnUNetTrainerV2_Loss_Dice_LR1en3: { loss: 'dice', initialLearningRate: 1e-3 },
  nnUNetTrainerV2_Loss_DiceCE_noSmooth: { diceSmooth: 0 },
  nnUNetTrainerV2_focalLoss: { loss: 'focal' },
  nnUNetTrainerV2_ForceBD: {},
  nnUNetTrainerV2_ForceSD: {},
  nnUNetTrainerV2BraTSRegions: { diceSmooth: 0 },
  nnUNetTrainerV2_noDataAugmentation: { dataAugmentation: false, mirrorsInTraining: false },
  nnUNetTrainerV2_noMirroring: { mirrorsInTraining: false },
  nnUNetTrainerV2_independentScalePerAxis: {},
  nnUNetTrainerV2_DA2: {},
  nnUNetTrainerV2_Adam: { optimizer: 'adam', momentum: undefined },
  nnUNetTrainerV2_Adam_nnUNetTrainerlr: { optimizer: 'adam', momentum: undefined, initialLearningRate: 3e-4 },
  nnUNetTrainerV2_momentum09: { momentum: 0.9 },
  nnUNetTrainerV2_momentum095: { momentum: 0.95 },
  nnUNetTrainerV2_momentum098: { momentum: 0.98 },
  nnUNetTrainerV2_momentum09in2D: {},
  nnUNetTrainerV2_fp32: {},
  nnUNetTrainerV2CascadeFullRes_shorter: { maxEpochs: 500 },
  nnUNetTrainerV2CascadeFullRes_lowerLR: { initialLearningRate: 1e-3 },
  nnUNetTrainerV2CascadeFullRes_shorter_lowerLR: { maxEpochs: 500, initialLearningRate: 1e-3 },
  nnUNetTrainerV2CascadeFullRes_noConnComp: {},
  nnUNetTrainerV2CascadeFullRes_smallerBinStrel: {},
  nnUNetTrainerV2CascadeFullRes_EducatedGuess: {},
  nnUNetTrainerV2CascadeFullRes_EducatedGuess2: {},
  nnUNetTrainerV2CascadeFullRes_EducatedGuess3: {},
};

test('every variant differs from nnUNetTrainerV2 exactly as its nnU-Net class does', () => {
  for (const name of builtinTrainerNames()) {
    const canonical = name.replace(/_copy\d$/, '');
    assert.ok(canonical in EXPECTED, `no expectation for ${name}`);
    assert.deepEqual(differences(name), EXPECTED[canonical], name);
  }
  assert.deepEqual(differences('nnUNetTrainerV2_momentum09in2D', '2d'), { momentum: 0.9 }, '0.9 in 2D, 0.99 in 3D');
  const base = settingsOf('nnUNetTrainerV2');
  assert.deepEqual(base, {
    maxEpochs: 1000, iterationsPerEpoch: 250, initialLearningRate: 0.01, loss: 'dice+ce', diceSmooth: 1e-5, diceWithBackground: false,
    batchDice: undefined, deepSupervision: true, optimizer: 'sgd', momentum: 0.99, dataAugmentation: true, mirrorsInTraining: true,
  });
});

test('_copyN names are the same class (as nnU-Net aliases them); cascade variants extend the cascade trainer', () => {
  assert.equal(trainerClass('nnUNetTrainerV2_Adam_copy3'), trainerClass('nnUNetTrainerV2_Adam'));
  assert.equal(trainerClass('nnUNetTrainerV2_noDataAugmentation_copy1'), trainerClass('nnUNetTrainerV2_noDataAugmentation'));
  for (const name of builtinTrainerNames().filter((n) => n.startsWith('nnUNetTrainerV2CascadeFullRes_'))) {
    assert.ok(trainerClass(name).prototype instanceof NnUNetTrainerV2CascadeFullRes, name);
  }
});

test('ForceBD / ForceSD force the batch Dice; the others keep nnU-Net\'s choice per configuration', () => {
  const forced = (name: string) => (new (trainerClass(name))(setupFor()) as unknown as { forceBatchDice?: boolean }).forceBatchDice;
  assert.equal(forced('nnUNetTrainerV2_ForceBD'), true);
  assert.equal(forced('nnUNetTrainerV2_ForceSD'), false);
  assert.equal(forced('nnUNetTrainerV2'), undefined);
});

test('noMirroring and noDataAugmentation take the mirror axes out of the augmentation; others keep them', () => {
  const params = setupAugmentationParams({ patch_size: [16, 16, 16], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2]] });
  const adjusted = (name: string): AugmentationParams => {
    const t = new (trainerClass(name))(setupFor()) as unknown as { adjustAugmentation(p: AugmentationParams): AugmentationParams };
    return t.adjustAugmentation(params);
  };
  assert.deepEqual(adjusted('nnUNetTrainerV2_noMirroring').mirrorAxes, []);
  assert.deepEqual(adjusted('nnUNetTrainerV2_noDataAugmentation').mirrorAxes, []);
  assert.deepEqual(adjusted('nnUNetTrainerV2').mirrorAxes, [0, 1, 2]);
  assert.deepEqual({ ...adjusted('nnUNetTrainerV2_noMirroring'), mirrorAxes: [0, 1, 2] }, params, 'nothing else changes');
});

test('DA2 / independentScalePerAxis change only their augmentation parameters, as nnU-Net\'s setup_DA_params does', () => {
  const params = setupAugmentationParams({ patch_size: [16, 16, 16], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2]] });
  const adjusted = (name: string, configuration: TrainerSetup['configuration'] = '3d_fullres'): AugmentationParams => {
    const t = new (trainerClass(name))(setupFor(configuration)) as unknown as { adjustAugmentation(p: AugmentationParams): AugmentationParams };
    return t.adjustAugmentation(params);
  };
  assert.deepEqual(adjusted('nnUNetTrainerV2_independentScalePerAxis'), { ...params, scaling: { ...params.scaling, independentPerAxis: true } });
  assert.deepEqual(adjusted('nnUNetTrainerV2_DA2'), {
    ...params, scaling: { ...params.scaling, independentPerAxis: true }, rotation: { ...params.rotation, pPerAxis: 0.5 },
    additiveBrightness: { mu: 0, sigma: 0.1, pPerSample: 0.15, pPerChannel: 0.5 },
  });
  assert.equal(adjusted('nnUNetTrainerV2_DA2', '2d').rotation.pPerAxis, 1, 'rotation p per axis 1 in 2D');
});

test('independent scale per axis and additive brightness draw as batchgenerators 0.25 does (numpy reference values)', () => {
  const params = setupAugmentationParams({ patch_size: [16, 16, 16], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2]] });
  const spatial = { ...params, rotation: { ...params.rotation, pPerSample: 0 }, scaling: { ...params.scaling, pPerSample: 1, independentPerAxis: true } };
  const m = drawSpatialMatrix(spatial, 3, Rng.seeded(5))!;
  // numpy seed 5: rotation draw, scale draw, p_independent_scale_per_axis draw, then one factor per axis.
  const want = [1.1953644755179316, 1.3063631425921263, 1.1187202006304888];
  want.forEach((f, i) => assert.ok(Math.abs(m[i]![i]! - f) < 1e-12, `axis ${i}: ${m[i]![i]} vs ${f}`));
  assert.ok(m.every((row, i) => row.every((v, j) => i === j || v === 0)), 'a diagonal: no rotation');

  const x = { data: new Float32Array([1, 1, 2, 2, 3, 3]), channels: 3, shape: [2, 1] };
  brightnessAdditive(x, { mu: 0, sigma: 0.1, pPerChannel: 0.5 }, Rng.seeded(11));
  const shifts = [-0.002928519305888499, 0, -0.03825909889655635]; // numpy seed 11, per channel: uniform <= 0.5, then normal
  Array.from(x.data).forEach((v, i) => assert.ok(Math.abs(v - ([1, 1, 2, 2, 3, 3][i]! + shifts[Math.floor(i / 2)]!)) < 1e-6, `voxel ${i}: ${v}`));
});

test('the cascade augmentation variants change the binary-operator parameters only', () => {
  const params = setupAugmentationParams({ patch_size: [16, 16, 16], do_dummy_2D_data_aug: false, pool_op_kernel_sizes: [[2, 2, 2]] }, {}, { cascadeLabels: [1, 2] });
  const morphology = (name: string) => {
    const t = new (trainerClass(name))(setupFor('3d_cascade_fullres')) as unknown as { adjustAugmentation(p: AugmentationParams): AugmentationParams };
    const out = t.adjustAugmentation(params);
    assert.deepEqual({ ...out, cascadeMorphology: params.cascadeMorphology }, params, `${name}: nothing else changes`);
    return out.cascadeMorphology;
  };
  assert.deepEqual(params.cascadeMorphology, { pPerSample: 0.4, radiusRange: [1, 8] }, 'nnUNetTrainerV2CascadeFullRes: p 0.4, per label 1, size (1, 8)');
  assert.deepEqual(morphology('nnUNetTrainerV2CascadeFullRes_noConnComp'), { pPerSample: 0.4, pPerLabel: 1, radiusRange: [1, 8] });
  assert.deepEqual(morphology('nnUNetTrainerV2CascadeFullRes_smallerBinStrel'), { pPerSample: 0.4, pPerLabel: 1, radiusRange: [1, 5] });
  assert.deepEqual(morphology('nnUNetTrainerV2CascadeFullRes_EducatedGuess'), { pPerSample: 0.5, pPerLabel: 0.5, radiusRange: [1, 5] });
  assert.deepEqual(morphology('nnUNetTrainerV2CascadeFullRes_EducatedGuess2'), { pPerSample: 0.5, pPerLabel: 0.5, radiusRange: [1, 5] });
  assert.deepEqual(morphology('nnUNetTrainerV2CascadeFullRes_EducatedGuess3'), { pPerSample: 1, pPerLabel: 0.33, radiusRange: [1, 5] });
});

test('the light name list (checked by the CLI) equals the registry; unknown names list the known ones', () => {
  assert.deepEqual([...BUILTIN_TRAINER_NAMES].sort(), builtinTrainerNames());
  assert.deepEqual(trainerNames(), builtinTrainerNames());
  assert.ok(builtinTrainerNames().includes('nnUNetTrainerV2_100epochs'));
  assert.throws(() => trainerClass('nnUNetTrainerV2_DA5'), (e: unknown) => e instanceof BadInputError
    && /unknown trainer 'nnUNetTrainerV2_DA5'; known trainers: .*nnUNetTrainerV2_Adam.*nnUNetTrainerV2_noMirroring/.test((e as Error).message)
    && /training\.trainerPaths/.test((e as Error).message));
});

test('focal loss: nnU-Net\'s sigmoid focal loss per class (gamma 2, alpha 0.25), mean over voxels, summed over classes', () => {
  const logits = tf.tensor([0.2, -1.0, 0.5, 1.5, 0.3, -0.7, -0.4, 0.9, 0.1, 0.0, -2.0, 1.2], [1, 2, 2, 3]);
  const labels = tf.tensor([0, 1, 2, 0], [1, 2, 2], 'int32');
  // torch: Σ_c mean(FocalLossBinary(logits[..., c], labels == c)) on the same values.
  assert.ok(Math.abs(focalLoss(logits, labels).dataSync()[0]! - 0.6258480548858643) < 1e-6);
});

test('soft Dice without smoothing and with the background class', () => {
  const logits = tf.tensor([3, -3, -3, 3], [1, 2, 1, 2]);
  const labels = tf.tensor([0, 1], [1, 2, 1], 'int32');
  const p = 1 / (1 + Math.exp(-6)); // softmax of the right class
  const dice = (2 * p) / (2 * p + (1 - p) + (1 - p));
  const fg = softDiceLoss(logits, labels, { batchDice: true, smooth: 0 }).dataSync()[0]!;
  assert.ok(Math.abs(fg + dice) < 1e-5, `foreground Dice ${-fg} vs ${dice}`);
  const withBg = softDiceLoss(logits, labels, { batchDice: true, smooth: 0, doBg: true }).dataSync()[0]!;
  assert.ok(Math.abs(withBg + dice) < 1e-5, 'symmetric case: background Dice equals foreground Dice');
  const empty = tf.tensor([0, 0], [1, 2, 1], 'int32');
  assert.ok(Math.abs(softDiceLoss(logits, empty, { batchDice: true, smooth: 0 }).dataSync()[0]!) < 1e-9, 'no smoothing: an absent class gives Dice 0');
  assert.ok(softDiceLoss(logits, empty, { batchDice: true }).dataSync()[0]! > -1e-3, 'smoothing 1e-5 does not rescue it either at these counts');
});

test('Adam (amsgrad, weight decay 3e-5) matches torch.optim.Adam over three steps', () => {
  const p = tf.variable(tf.tensor([0.5, -1.0, 2.0]));
  const adam = new AmsgradAdam([p], { learningRate: 0.01 });
  for (const g of [[0.1, -0.2, 0.3], [-0.05, 0.4, 0.1], [0.02, -0.01, -0.3]]) adam.step([tf.tensor(g)]);
  const want = [0.4841805100440979, -0.9963448643684387, 1.9808025360107422];
  Array.from(p.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `param ${i}: ${v} vs ${want[i]}`));
  const state = adam.getState();
  assert.equal(state.buffers.length, 3, 'first moments, second moments, their maxima');
  const again = new AmsgradAdam([tf.variable(tf.tensor([0.5, -1.0, 2.0]))]);
  again.setState(state);
  assert.equal(again.stepCount, 3);
  assert.throws(() => again.setState({ ...state, buffers: state.buffers.slice(0, 1) }), /Adam state does not fit/);
});

test('a subclass of a variant keeps the variant\'s settings', () => {
  const Adam = trainerClass('nnUNetTrainerV2_Adam');
  class Mine extends (Adam as unknown as typeof NnUNetTrainerV2) { protected override maxEpochs = 3; }
  assert.deepEqual({ optimizer: new Mine(setupFor()).variantSettings.optimizer, epochs: new Mine(setupFor()).variantSettings.maxEpochs }, { optimizer: 'adam', epochs: 3 });
});
