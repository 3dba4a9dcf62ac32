/**
 * The cascade end to end on a tiny task forced to two stages (the demo task's 3D plan: stage 0 = a lowres copy at
 * twice the spacing, stage 1 = fullres; both shrunk to base 4 features, 16³ patch, two poolings) and a 2-fold
 * splits_final.json: 3d_lowres folds 0 and 1 write pred_next_stage for every case → the cascade refuses to train
 * before that, then trains and validates fold 0 → `predict -m 3d_cascade_fullres` (lowres first, and with a given
 * lowres folder) writes a segmentation on the image's grid.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TaskPaths } from '../../activities/contract';
import { BadInputError } from '../../activities/common/errors';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { predictTask } from '../../activities/inference/predict-task';
import { taskPaths } from '../../activities/io/dataset';
import { writeDemoDataset } from '../../activities/io/demo';
import { readNifti } from '../../activities/io/nifti';
import { readNpySync } from '../../activities/io/npy';
import { plan } from '../../activities/planning/activity';
import { readPlansFile, writePlansFile } from '../../activities/planning/plans-file';
import { stages, type StagePlan } from '../../activities/planning/plans';
import { runPreprocess } from '../../activities/preprocessing/preprocess';
import { CASCADE_TRAINER, nextStageFolder as nextStageDir } from '../../activities/io/layout';
import { previousStageOneHot, segmentationForNextStage, writeSegFromPrevStage } from '../../activities/inference/cascade';
import { previousStageFile } from '../../activities/training/dataloader-cases';
import { runTrainingFold, type TrainFoldInput } from '../../activities/training/train-fold';
import { readCheckpoint } from '../../activities/training/checkpoint';

interface TwoStageTask { root: string; paths: TaskPaths; plansFile: string; caseIds: string[]; val: string[][] }
let task: TwoStageTask;

const tiny = (s: StagePlan): StagePlan => ({
  ...s, patch_size: [16, 16, 16], batch_size: 2, num_pool_per_axis: [2, 2, 2],
  pool_op_kernel_sizes: [[2, 2, 2], [2, 2, 2]], conv_kernel_sizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]], do_dummy_2D_data_aug: false,
});

before(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-cascade-'));
  const roots = { rawDataBase: path.join(root, 'raw'), preprocessed: path.join(root, 'preprocessed'), results: path.join(root, 'results') };
  const demo = await writeDemoDataset(roots.rawDataBase, { taskId: 991, cases: 5, testCases: 0, seed: 4 });
  const paths = taskPaths(demo.outDir, roots);
  const fp = await runFingerprint(paths, { numProcesses: 1 });
  const plansFile = (await plan({ paths, fingerprintFile: fp.fingerprintFile })).plansFiles['3d']!;
  const plans = readPlansFile(plansFile);
  const full = tiny(stages(plans).at(-1)!);
  const low = { ...full, current_spacing: full.current_spacing.map((s) => 2 * s), median_patient_size_in_voxels: full.median_patient_size_in_voxels.map((m) => Math.round(m / 2)) };
  plans.plans_per_stage = { 0: low, 1: full };
  plans.num_stages = 2;
  plans.base_num_features = 4;
  writePlansFile(plansFile, plans);
  await runPreprocess(paths, plansFile, '3d_lowres', { numProcesses: 1 });
  await runPreprocess(paths, plansFile, '3d_fullres', { numProcesses: 1 });
  const caseIds = fs.readdirSync(path.join(paths.preprocessedDir, `${plans.data_identifier}_stage1`)).filter((f) => f.endsWith('.npy')).map((f) => f.slice(0, -4)).sort();
  const val = [caseIds.slice(0, 2), caseIds.slice(2)];
  const splits = val.map((v) => ({ train: caseIds.filter((id) => !v.includes(id)), val: v }));
  fs.writeFileSync(path.join(paths.preprocessedDir, 'splits_final.json'), JSON.stringify(splits));
  task = { root, paths, plansFile, caseIds, val };
});
after(() => { if (task) fs.rmSync(task.root, { recursive: true, force: true }); });

const input = (configuration: TrainFoldInput['configuration'], fold: 0 | 1, trainer = 'nnUNetTrainerV2'): TrainFoldInput => ({
  paths: task.paths, plansFile: task.plansFile, configuration, fold, trainer, epochs: 1, iterationsPerEpoch: 2,
  runtime: { seed: 5, validationTta: false, numWorkers: 1, validationIterations: 1 },
});

test('pred_next_stage export: per-class order-1 resize of the softmax, then argmax', () => {
  // Two classes on a 2×4×4 grid: class 1 wins on the x ≥ 2 half; resized to 4×8×8 it wins on x ≥ 4.
  const shape: [number, number, number] = [2, 4, 4];
  const n = 32;
  const data = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { const fg = i % 4 >= 2 ? 0.9 : 0.1; data[n + i] = fg; data[i] = 1 - fg; }
  const seg = segmentationForNextStage({ data, numClasses: 2, shape }, [4, 8, 8]);
  assert.equal(seg.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(seg[i], i % 8 >= 4 ? 1 : 0, `voxel ${i}`);
});

test('previous-stage maps: one-hot labels 1..K-1; a map on another grid is refused naming the file', () => {
  const dir = path.join(task.root, 'prev-unit');
  writeSegFromPrevStage(dir, 'x', Uint8Array.from([0, 1, 2, 1]), [1, 2, 2]);
  assert.deepEqual(Array.from(previousStageOneHot(dir, 'x', [1, 2, 2], 3)), [0, 1, 0, 1, 0, 0, 1, 0]);
  assert.throws(() => previousStageOneHot(dir, 'x', [1, 4, 1], 3), (e: Error) => e instanceof BadInputError && /x_segFromPrevStage\.npy: shape \(1, 2, 2\) differs/.test(e.message));
  assert.throws(() => previousStageOneHot(dir, 'y', [1, 2, 2], 3), (e: Error) => e instanceof BadInputError && /y_segFromPrevStage\.npy: no 3d_lowres prediction/.test(e.message));
});

test('the next-stage export lands on the fullres grid: the lowres ground truth exported matches the fullres ground truth', () => {
  const plans = readPlansFile(task.plansFile);
  const K = plans.num_classes + 1;
  for (const id of task.caseIds.slice(0, 2)) {
    const low = readNpySync(path.join(task.paths.preprocessedDir, `${plans.data_identifier}_stage0`, `${id}.npy`));
    const full = readNpySync(path.join(task.paths.preprocessedDir, `${plans.data_identifier}_stage1`, `${id}.npy`));
    const [C1, ...lowShape] = low.shape as [number, number, number, number];
    const n = lowShape[0]! * lowShape[1]! * lowShape[2]!;
    const lowSeg = (low.data as Float32Array).subarray((C1 - 1) * n);
    const onehot = new Float32Array(K * n);
    for (let i = 0; i < n; i++) onehot[Math.max(0, lowSeg[i]!) * n + i] = 1; // a "perfect" lowres softmax
    const target = full.shape.slice(1) as [number, number, number];
    const seg = segmentationForNextStage({ data: onehot, numClasses: K, shape: lowShape as [number, number, number] }, target);
    const m = seg.length;
    const fullSeg = (full.data as Float32Array).subarray((full.shape[0]! - 1) * m);
    for (let k = 1; k < K; k++) {
      let tp = 0, a = 0, b = 0;
      for (let i = 0; i < m; i++) { const p = seg[i] === k, t = fullSeg[i] === k; if (p) a++; if (t) b++; if (p && t) tp++; }
      const dice = (2 * tp) / (a + b);
      console.log(`${id} label ${k}: exported lowres truth vs fullres truth Dice ${dice.toFixed(3)}`);
      assert.ok(dice > 0.75, `${id} label ${k}: Dice ${dice.toFixed(3)} of the exported lowres truth vs the fullres truth`);
    }
  }
});

test('cascade: lowres folds export pred_next_stage, the cascade fold trains and validates, predict -m 3d_cascade_fullres', async () => {
  const plans = readPlansFile(task.plansFile);
  const started = Date.now();

  // Before any lowres fold: a clear BadInputError naming the lowres folds to train.
  await assert.rejects(runTrainingFold(input('3d_cascade_fullres', 0, CASCADE_TRAINER)), (err: Error) => {
    assert.ok(err instanceof BadInputError, String(err));
    assert.match(err.message, /_segFromPrevStage\.npy: no 3d_lowres prediction for 5 case\(s\).*train 3d_lowres folds 0, 1 first/);
    return true;
  });
  // A plain trainer cannot train the cascade.
  await assert.rejects(runTrainingFold(input('3d_cascade_fullres', 0, 'nnUNetTrainerV2_100epochs')), /cannot train 3d_cascade_fullres/);

  for (const fold of [0, 1] as const) {
    const r = await runTrainingFold(input('3d_lowres', fold));
    assert.equal(r.status, 'done');
  }
  const prevDir = nextStageDir(task.paths, 'nnUNetPlansv2.1');
  assert.equal(prevDir, path.join(task.paths.resultsDir, '3d_lowres', task.paths.taskName, 'nnUNetTrainerV2__nnUNetPlansv2.1', 'pred_next_stage'));
  const fullresDir = path.join(task.paths.preprocessedDir, `${plans.data_identifier}_stage1`);
  const lowresDir = path.join(task.paths.preprocessedDir, `${plans.data_identifier}_stage0`);
  for (const id of task.caseIds) {
    const seg = readNpySync(previousStageFile(prevDir, id));
    const fullShape = readNpySync(path.join(fullresDir, `${id}.npy`)).shape.slice(1);
    const lowShape = readNpySync(path.join(lowresDir, `${id}.npy`)).shape.slice(1);
    assert.equal(seg.dtype, 'uint8');
    assert.deepEqual(seg.shape, fullShape, `${id}: the fullres preprocessed grid`);
    assert.notDeepEqual(lowShape, fullShape, 'the lowres stage really has another grid');
    assert.ok(Array.from(seg.data).every((v) => v <= plans.num_classes));
  }

  const r = await runTrainingFold(input('3d_cascade_fullres', 0, CASCADE_TRAINER));
  assert.equal(r.status, 'done');
  if (r.status !== 'done') return;
  assert.equal(r.foldDir, path.join(task.paths.resultsDir, '3d_cascade_fullres', task.paths.taskName, `${CASCADE_TRAINER}__nnUNetPlansv2.1`, 'fold_0'));
  const debug = JSON.parse(fs.readFileSync(path.join(r.foldDir, 'debug.json'), 'utf8'));
  assert.equal(debug.input_channels, plans.num_modalities + plans.num_classes, 'modalities + K−1 one-hot channels');
  assert.equal(debug.trainer, CASCADE_TRAINER);
  assert.deepEqual(fs.readdirSync(path.join(r.foldDir, 'validation_raw')).filter((f) => f.endsWith('.nii.gz')).sort(), task.val[0]!.map((id) => `${id}.nii.gz`));
  assert.ok(fs.existsSync(path.join(r.foldDir, 'validation_raw', 'summary.json')));
  // nnUNet_train's name for the same fold: trainer nnUNetTrainerV2 maps to the cascade trainer; the finished fold returns at once.
  const again = await runTrainingFold(input('3d_cascade_fullres', 0));
  assert.equal(again.status === 'done' && again.foldDir, r.foldDir);

  // Inference: the lowres model runs first into OUT/3d_lowres_predictions, then the cascade.
  const inDir = path.join(task.root, 'in');
  fs.mkdirSync(inDir);
  const id = task.val[0]![0]!;
  for (const c of [0, 1]) fs.copyFileSync(path.join(task.paths.rawDir, 'imagesTr', `${id}_000${c}.nii.gz`), path.join(inDir, `${id}_000${c}.nii.gz`));
  const out = path.join(task.root, 'out');
  const common = { paths: task.paths, inputDir: inDir, configuration: '3d_cascade_fullres' as const, trainer: 'nnUNetTrainerV2', plansIdentifier: 'nnUNetPlansv2.1', tta: false };
  const p = await predictTask({ ...common, outputDir: out });
  assert.deepEqual(p.folds, [0]);
  assert.deepEqual(p.lowres?.folds, [0, 1]);
  const image = await readNifti(path.join(inDir, `${id}_0000.nii.gz`));
  const lowresSeg = await readNifti(path.join(out, '3d_lowres_predictions', `${id}.nii.gz`));
  const seg = await readNifti(path.join(out, `${id}.nii.gz`));
  for (const v of [lowresSeg, seg]) {
    assert.deepEqual(v.shape, image.shape, 'on the image grid');
    assert.deepEqual(v.geometry.spacing.map((s) => s.toFixed(4)), image.geometry.spacing.map((s) => s.toFixed(4)));
    assert.deepEqual(v.geometry.origin.map((s) => s.toFixed(4)), image.geometry.origin.map((s) => s.toFixed(4)));
  }
  // nnU-Net's -l: the given lowres predictions give the same cascade output.
  const out2 = path.join(task.root, 'out2');
  const p2 = await predictTask({ ...common, outputDir: out2, lowresDir: path.join(out, '3d_lowres_predictions') });
  assert.equal(p2.lowres, undefined);
  assert.deepEqual((await readNifti(path.join(out2, `${id}.nii.gz`))).data, seg.data);
  // -f applies to the lowres pass too (nnU-Net's predict_simple passes the same folds).
  const p3 = await predictTask({ ...common, outputDir: path.join(task.root, 'out3'), folds: [0] });
  assert.deepEqual(p3.lowres?.folds, [0]);
  console.log(`cascade end to end (2 lowres folds, 1 cascade fold, 2 predictions): ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('cascade trainer variants (_shorter_lowerLR, _EducatedGuess3) train cascade folds on the lowres maps', async () => {
  // Runs after the test above, which trained the lowres folds whose pred_next_stage maps this fold reads.
  const name = 'nnUNetTrainerV2CascadeFullRes_shorter_lowerLR';
  await assert.rejects(runTrainingFold(input('3d_cascade_fullres', 1, 'nnUNetTrainerV2_Adam')), /cannot train 3d_cascade_fullres/);
  const r = await runTrainingFold(input('3d_cascade_fullres', 1, name));
  assert.equal(r.status, 'done');
  if (r.status !== 'done') return;
  assert.equal(r.foldDir, path.join(task.paths.resultsDir, '3d_cascade_fullres', task.paths.taskName, `${name}__nnUNetPlansv2.1`, 'fold_1'));
  const plans = readPlansFile(task.plansFile);
  const debug = JSON.parse(fs.readFileSync(path.join(r.foldDir, 'debug.json'), 'utf8'));
  assert.equal(debug.input_channels, plans.num_modalities + plans.num_classes);
  assert.equal(debug.trainer_settings.initialLearningRate, 1e-3);
  assert.equal(readCheckpoint(r.finalCheckpoint).meta.history.learningRates[0], 1e-3, 'the poly schedule starts at the variant\'s lr');
  // A cascade augmentation variant: the binary operators on every sample, each label with p 0.33.
  const guess = await runTrainingFold({ ...input('3d_cascade_fullres', 0, 'nnUNetTrainerV2CascadeFullRes_EducatedGuess3'), runtime: { ...input('3d_cascade_fullres', 0).runtime, skipValidation: true } });
  assert.equal(guess.status, 'done');
  if (guess.status === 'done') assert.ok(readCheckpoint(guess.finalCheckpoint).meta.history.trainLosses.every(Number.isFinite));
});
