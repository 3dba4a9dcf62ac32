/**
 * One short real training per family of trainer variants on the tiny task (16³ patch, base 4 features): training
 * length, no deep supervision + CE, the loss variants, no augmentation / no mirroring (validation without mirroring
 * TTA), Adam (its state in the checkpoint, a resume), and a user's own trainers loaded from a folder by the training
 * child process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHECKPOINT_FILES, readCheckpoint } from '../../activities/training/checkpoint';
import { runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { runTrainingFoldInChild } from '../../activities/training/train-process';
import { trainerClass, trainerNames } from '../../activities/training/trainer-registry';
import { BadInputError } from '../../activities/common/errors';
import { tinyTrainingTask, type TinyTask } from './trainer-fixture';

let task: TinyTask;
before(async () => { task = await tinyTrainingTask(); });
after(() => task?.cleanup());

const input = (trainer: string, over: Partial<TrainFoldInput> = {}): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration: '3d_fullres', fold: 0, trainer,
  epochs: 1, iterationsPerEpoch: 2, ...over, runtime: { seed: 7, validationIterations: 1, numWorkers: 1, skipValidation: true, ...over.runtime },
});

const debugOf = (foldDir: string) => JSON.parse(fs.readFileSync(path.join(foldDir, 'debug.json'), 'utf8'));

async function trained(trainer: string, over: Partial<TrainFoldInput> = {}) {
  const r = await runTrainingFold(input(trainer, over));
  assert.equal(r.status, 'done');
  if (r.status !== 'done') throw new Error('not done');
  const ckpt = readCheckpoint(path.join(r.foldDir, CHECKPOINT_FILES.final));
  for (const l of ckpt.meta.history.trainLosses) assert.ok(Number.isFinite(l), `${trainer}: loss ${l}`);
  return { r, ckpt, debug: debugOf(r.foldDir) };
}

test('training length: nnUNetTrainerV2_2epochs trains its own 2 epochs; an explicit --epochs still wins', async () => {
  // epochs 1000 is nnUNetTrainerV2's own (the config's default): the variant keeps its schedule.
  const own = await trained('nnUNetTrainerV2_2epochs', { epochs: 1000 });
  assert.equal(own.ckpt.meta.epoch, 2);
  assert.equal(own.debug.max_num_epochs, 2);
  const forced = await trained('nnUNetTrainerV2_2epochs', { epochs: 1, fold: 1 });
  assert.equal(forced.ckpt.meta.epoch, 1);
});

test('no deep supervision + CE (nnUNetTrainerV2_5epochs_CEnoDS): CE of the top output only', async () => {
  const { debug, ckpt } = await trained('nnUNetTrainerV2_5epochs_CEnoDS');
  assert.equal(debug.trainer_settings.deepSupervision, false);
  assert.equal(debug.trainer_settings.loss, 'ce');
  assert.ok(ckpt.meta.history.trainLosses[0]! > 0, 'cross-entropy is positive (Dice+CE is typically negative)');
});

test('loss variants train: Dice only (negative), focal (positive), Dice+CE without smoothing, Dice with background', async () => {
  const dice = await trained('nnUNetTrainerV2_Loss_Dice');
  assert.ok(dice.ckpt.meta.history.trainLosses[0]! < 0 && dice.ckpt.meta.history.trainLosses[0]! >= -1);
  const focal = await trained('nnUNetTrainerV2_focalLoss');
  assert.ok(focal.ckpt.meta.history.trainLosses[0]! > 0);
  assert.equal(focal.debug.trainer_settings.loss, 'focal');
  const noSmooth = await trained('nnUNetTrainerV2_Loss_DiceCE_noSmooth');
  assert.equal(noSmooth.debug.trainer_settings.diceSmooth, 0);
  const withBg = await trained('nnUNetTrainerV2_Loss_DicewithBG');
  assert.equal(withBg.debug.trainer_settings.diceWithBackground, true);
  const forceSd = await trained('nnUNetTrainerV2_ForceSD');
  assert.equal(forceSd.debug.trainer_settings.batchDice, false);
});

test('augmentation family: noDataAugmentation samples the network patch and validates without mirroring TTA; noMirroring, DA2 train', async () => {
  const { r, debug } = await trained('nnUNetTrainerV2_noDataAugmentation', { runtime: { skipValidation: false }, validation: { tta: true, stepSize: 1 } });
  assert.equal(debug.trainer_settings.dataAugmentation, false);
  assert.equal(debug.trainer_settings.mirrorsInTraining, false);
  const args = JSON.parse(fs.readFileSync(path.join(r.foldDir, 'validation_raw', 'validation_args.json'), 'utf8'));
  assert.equal(args.do_mirroring, false, 'nnU-Net forces do_mirroring off for a model trained without mirroring');
  assert.ok(fs.existsSync(path.join(r.foldDir, 'validation_raw', 'summary.json')));
  const again = await runTrainingFold(input('nnUNetTrainerV2_noDataAugmentation', { runtime: { skipValidation: false }, validation: { tta: true, stepSize: 1 } }));
  assert.equal(again.status, 'done', 'the same request finds the fold finished (not re-validated with TTA)');
  const noMirror = await trained('nnUNetTrainerV2_noMirroring');
  assert.equal(noMirror.debug.trainer_settings.mirrorsInTraining, false);
  const da2 = await trained('nnUNetTrainerV2_DA2', { runtime: { numWorkers: 1 } });
  assert.equal(da2.debug.trainer_settings.dataAugmentation, true);
});

test('Adam: three state buffers per parameter in the checkpoint, and a stopped fold resumes with them', async () => {
  let stop = false;
  const stopped = await runTrainingFold(input('nnUNetTrainerV2_Adam', { epochs: 2, fold: 2 }), { onProgress: (p) => { if (p.epoch >= 1) stop = true; }, shouldStop: () => stop });
  assert.equal(stopped.status, 'stopped');
  const latest = readCheckpoint(path.join(stopped.foldDir, CHECKPOINT_FILES.latest));
  assert.equal(latest.momentum.length, 3 * latest.weights.length);
  assert.equal(latest.meta.optimizer.steps, 2);
  const done = await runTrainingFold(input('nnUNetTrainerV2_Adam', { epochs: 2, fold: 2, continueTraining: true }));
  assert.equal(done.status, 'done');
  const final = readCheckpoint(path.join(done.foldDir, CHECKPOINT_FILES.final));
  assert.equal(final.meta.epoch, 2);
  assert.equal(final.meta.optimizer.steps, 4);
});

test('fp32 is accepted (nnunet-ts always trains in float32)', async () => {
  const { ckpt } = await trained('nnUNetTrainerV2_fp32');
  assert.equal(ckpt.meta.trainer, 'nnUNetTrainerV2_fp32');
});

test('a user\'s own trainers from a trainer folder: loaded by name in the training child process', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-trainers-'));
  try {
    const trainerModule = JSON.stringify(path.resolve(__dirname, '../../activities/training/trainer'));
    fs.writeFileSync(path.join(dir, 'my-trainers.js'), [
      `const { NnUNetTrainerV2 } = require(${trainerModule});`,
      'class MyTrainer_3epochs extends NnUNetTrainerV2 { constructor(s) { super(s); this.maxEpochs = 3; } }',
      'exports.MyTrainer_3epochs = MyTrainer_3epochs;',
    ].join('\n'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'more.cjs'), [
      'exports.defineTrainers = (base) => ({',
      '  MyAdamNoDS: class extends base.NnUNetTrainerV2_Adam { constructor(s) { super(s); this.deepSupervision = false; } },',
      '});',
    ].join('\n'));
    assert.ok(trainerNames([dir]).includes('MyTrainer_3epochs') && trainerNames([dir]).includes('MyAdamNoDS'));
    assert.throws(() => trainerClass('MyTrainer_3epochs'), BadInputError, 'not known without its folder');

    const r = await runTrainingFoldInChild(input('MyTrainer_3epochs', { epochs: undefined, iterationsPerEpoch: 1, fold: 3, runtime: { trainerPaths: [dir] } }));
    assert.equal(r.status, 'done');
    assert.equal(readCheckpoint(path.join(r.foldDir, CHECKPOINT_FILES.final)).meta.epoch, 3);
    assert.match(r.foldDir, /MyTrainer_3epochs__nnUNetPlansv2\.1[/\\]fold_3$/);

    const adam = await runTrainingFoldInChild(input('MyAdamNoDS', { fold: 4, runtime: { trainerPaths: [dir] } }));
    assert.equal(adam.status, 'done');
    const settings = debugOf(adam.foldDir).trainer_settings;
    assert.deepEqual({ optimizer: settings.optimizer, deepSupervision: settings.deepSupervision }, { optimizer: 'adam', deepSupervision: false });

    await assert.rejects(runTrainingFoldInChild(input('NotThere', { runtime: { trainerPaths: [dir] } })), /unknown trainer 'NotThere'.*MyAdamNoDS/s);
    assert.throws(() => trainerNames([path.join(dir, 'missing')]), /no such trainer folder/);
    fs.writeFileSync(path.join(dir, 'broken.js'), 'throw new Error("oops")');
    assert.throws(() => trainerNames([dir]), /broken\.js: the trainer module does not load \(oops\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
