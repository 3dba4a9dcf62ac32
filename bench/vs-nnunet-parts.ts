/**
 * The parts of `bench vs-nnunet`: each measures our side (bench/vs-nnunet-runner.ts, bench/job-runner.ts) and
 * nnU-Net v1's (bench/nnunet_v1_reference.py) in child processes of their own and returns table rows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Configuration, TaskPaths } from '../activities/contract';
import { datasetPropertiesFile, nnunetCaseFiles, preprocessedCaseFiles, rawTasksFolder, splitsFile } from '../activities/io/layout';
import { plan } from '../activities/planning/activity';
import { loadConfiguration } from '../activities/planning/configuration';
import { batchDiceFor } from '../activities/training/loss';
import { loadOrCreateSplits } from '../activities/training/splits';
import { scaledValidationIterations } from '../activities/training/trainer';
import { runJob, runJsonChild } from './child';
import { freshPaths, type BenchDataset } from './datasets';
import type { NnunetStage } from './nnunet-tree';
import { runNnunetPart, type NnunetPython } from './nnunet-reference';
import { trainingStepFlops } from './unet-flops';
import type { GemmTiming, InferTiming, LearnResult, TrainTiming, VsJob } from './vs-nnunet-runner';

export interface PartContext {
  dataset: BenchDataset;
  paths: TaskPaths;
  stages: NnunetStage[];
  /** Scratch folder of this bench (nnU-Net's preprocessed tree, fresh output folders). */
  work: string;
  nnunet?: NnunetPython;
  quick: boolean;
  threads: number;
  processes: number;
  /** Augmentation workers on both sides (our batch threads, nnU-Net's nnUNet_n_proc_DA). */
  workers: number;
}

/** One line of the ratio table: a time (lower is better) or a rate (higher is better) on both sides. */
export interface Row {
  part: string;
  measure: string;
  unit: 's' | 'GFLOP/s' | 'Dice';
  ours?: number;
  nnunet?: number;
  oursPeakRssBytes?: number;
  nnunetPeakRssBytes?: number;
  note?: string;
}

type Part = (ctx: PartContext, earlier: readonly Row[]) => Promise<Row[]>;

interface Side<T> { value?: T; error?: string }

function attempt<T>(fn: () => T): Side<T> {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const ours = <T>(job: VsJob): T => runJsonChild<T>(process.execPath, [path.join(__dirname, 'vs-nnunet-runner.js'), JSON.stringify(job)], `ours ${job.kind}`);

function theirs<T>(ctx: PartContext, part: string, args: object): Side<T> {
  const py = ctx.nnunet;
  if (!py) return { error: 'nnU-Net v1 not available' };
  const env = { nnUNet_preprocessed: path.join(ctx.work, 'nnUNet_preprocessed'), RESULTS_FOLDER: path.join(ctx.work, 'results'), nnUNet_raw_data_base: path.join(ctx.work, 'raw') };
  return attempt(() => runNnunetPart<T>(py, part, { ...env, ...args }));
}

const notes = (...sides: Side<unknown>[]): string | undefined => sides.map((s) => s.error).filter(Boolean).join('; ') || undefined;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function fold0(ctx: PartContext, stage: NnunetStage): { train: string[]; val: string[] } {
  return loadOrCreateSplits(splitsFile(ctx.paths), stage.caseIds)[0]!;
}

interface NnunetTrain { secondsPerIteration: number; secondsPerStep: number; peakRssBytes: number; workerPeakRssBytes: number; daProcesses: number }

/** A training iteration with data loading and augmentation, and the network step alone, per configuration. */
const train: Part = async (ctx) => {
  const sizes = ctx.quick ? { warmup: 1, iterations: 2, steps: 2 } : { warmup: 3, iterations: 20, steps: 10 };
  const { workers } = ctx;
  const rows: Row[] = [];
  for (const stage of ctx.stages) {
    const c = stage.configuration;
    const split = fold0(ctx, stage);
    const rc = loadConfiguration(stage.ourPlansFile, c, { preprocessedDir: ctx.paths.preprocessedDir });
    const batchDice = batchDiceFor(c, c !== '2d' && Object.keys(rc.plans.plans_per_stage).length > 1);
    const scratch = fs.mkdtempSync(path.join(ctx.work, `train-${c}-`));
    const a = attempt(() => ours<TrainTiming>({
      kind: 'train', plansFile: stage.ourPlansFile, configuration: c, preprocessedDir: ctx.paths.preprocessedDir, threads: ctx.threads,
      workers, ...sizes, trainCases: split.train, valCases: split.val, foldDir: path.join(scratch, 'ours'),
    }));
    const b = theirs<NnunetTrain>(ctx, 'train', {
      plansFile: stage.plansFile, fold: 0, outputDir: path.join(scratch, 'nnunet'), datasetDir: stage.datasetDir,
      batchDice, stage: stage.stage, threads: ctx.threads, daProcesses: workers, ...sizes,
    });
    fs.rmSync(scratch, { recursive: true, force: true });
    const setup = `${sizes.iterations} iterations after ${sizes.warmup} warm-up, ${workers} augmentation worker(s) each`;
    rows.push({
      part: 'train', measure: `${c} iteration (loading + augmentation + step)`, unit: 's', ours: a.value?.secondsPerIteration, nnunet: b.value?.secondsPerIteration,
      oursPeakRssBytes: a.value?.peakRssBytes, nnunetPeakRssBytes: b.value ? b.value.peakRssBytes + b.value.workerPeakRssBytes * workers : undefined,
      note: notes(a, b) ?? setup,
    });
    rows.push({ part: 'train', measure: `${c} network step alone`, unit: 's', ours: a.value?.secondsPerStep, nnunet: b.value?.secondsPerStep, note: notes(a, b) ?? `${sizes.steps} steps on one batch` });
  }
  return rows;
};

/** Sliding-window prediction of the fold-0 validation cases (preprocessed), TTA off and on, the 3D network. */
const infer: Part = async (ctx) => {
  const stage = ctx.stages.find((s) => s.configuration === '3d_fullres') ?? ctx.stages[0]!;
  const c = stage.configuration;
  const caseIds = fold0(ctx, stage).val.slice(0, ctx.quick ? 2 : undefined);
  const rows: Row[] = [];
  for (const tta of [false, true]) {
    const a = attempt(() => ours<InferTiming>({
      kind: 'infer', plansFile: stage.ourPlansFile, configuration: c, preprocessedDir: ctx.paths.preprocessedDir, threads: ctx.threads, tta,
      cases: caseIds.map((id) => preprocessedCaseFiles(stage.ourDataDir, id).data),
    }));
    const b = theirs<{ seconds: number[]; peakRssBytes: number }>(ctx, 'infer', {
      plansFile: stage.plansFile, fold: 0, outputDir: path.join(ctx.work, 'infer-nnunet'), datasetDir: stage.datasetDir,
      batchDice: false, stage: stage.stage, threads: ctx.threads, tta, cases: caseIds.map((id) => nnunetCaseFiles(path.join(stage.datasetDir, path.basename(stage.ourDataDir)), id).npy),
    });
    rows.push({
      part: 'infer', measure: `${c} s/case, TTA ${tta ? 'on' : 'off'}`, unit: 's', ours: a.value && mean(a.value.seconds), nnunet: b.value && mean(b.value.seconds),
      oursPeakRssBytes: a.value?.peakRssBytes, nnunetPeakRssBytes: b.value?.peakRssBytes, note: notes(a, b) ?? `mean of ${caseIds.length} cases after a warm-up`,
    });
  }
  return rows;
};

interface NnunetPreprocess { fingerprintSeconds: number; preprocessSeconds: number; peakRssBytes: number; workerPeakRssBytes: number }

/** Our fingerprint, planning and preprocessing (3d_fullres + 2d) in fresh folders; each step a child of its own. */
async function oursPreprocess(ctx: PartContext, dir: string): Promise<{ fingerprint: number; preprocess: number; peak: number }> {
  const paths = freshPaths(ctx.dataset.rawDir, dir);
  const fp = runJob({ kind: 'fingerprint', paths, numProcesses: ctx.processes });
  const t0 = performance.now();
  const { plansFiles } = await plan({ paths, fingerprintFile: datasetPropertiesFile(paths.preprocessedDir) });
  let seconds = (performance.now() - t0) / 1000;
  let peak = fp.peakRssBytes;
  for (const [c, file] of [['3d_fullres', plansFiles['3d']], ['2d', plansFiles['2d']]] as [Configuration, string | undefined][]) {
    if (!file) continue;
    const pp = runJob({ kind: 'preprocess', paths, plansFile: file, configuration: c, numProcesses: ctx.processes });
    seconds += pp.seconds;
    peak = Math.max(peak, pp.peakRssBytes);
  }
  return { fingerprint: fp.seconds, preprocess: seconds, peak };
}

/** The same raw task through nnU-Net's crop, analysis, both planners and their preprocessing, in fresh folders. */
function nnunetPreprocess(ctx: PartContext, dir: string): Side<NnunetPreprocess> {
  const rawBase = path.join(dir, 'raw');
  fs.mkdirSync(rawTasksFolder(rawBase), { recursive: true });
  fs.symlinkSync(ctx.dataset.rawDir, path.join(rawTasksFolder(rawBase), ctx.paths.taskName));
  return theirs<NnunetPreprocess>(ctx, 'preprocess', {
    task: ctx.paths.taskName, processes: ctx.processes, nnUNet_raw_data_base: rawBase,
    nnUNet_preprocessed: path.join(dir, 'preprocessed'), RESULTS_FOLDER: path.join(dir, 'results'),
  });
}

const preprocess: Part = async (ctx) => {
  const dir = fs.mkdtempSync(path.join(ctx.work, 'preprocess-'));
  try {
    const a = await oursPreprocess(ctx, path.join(dir, 'ours')).then((value) => ({ value }), (err: unknown) => ({ value: undefined, error: String(err) }));
    const b = ctx.nnunet ? nnunetPreprocess(ctx, path.join(dir, 'nnunet')) : { error: 'nnU-Net v1 not available' };
    const note = notes(a, b) ?? `${ctx.processes} processes, ${ctx.dataset.name}`;
    const peakB = b.value && Math.max(b.value.peakRssBytes, b.value.workerPeakRssBytes);
    return [
      { part: 'preprocess', measure: 'fingerprint (crop + analysis)', unit: 's', ours: a.value?.fingerprint, nnunet: b.value?.fingerprintSeconds, note },
      { part: 'preprocess', measure: 'planning + preprocessing 3d_fullres, 2d', unit: 's', ours: a.value?.preprocess, nnunet: b.value?.preprocessSeconds, note },
      {
        part: 'preprocess', measure: 'total', unit: 's', ours: a.value && a.value.fingerprint + a.value.preprocess,
        nnunet: b.value && b.value.fingerprintSeconds + b.value.preprocessSeconds, oursPeakRssBytes: a.value?.peak, nnunetPeakRssBytes: peakB, note,
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

/** fp32 GEMM peak on both sides, then each measured network step as GFLOP/s (bench/unet-flops.ts). */
const gemm: Part = async (ctx, earlier) => {
  const n = ctx.quick ? 1024 : 2048;
  const a = attempt(() => ours<GemmTiming>({ kind: 'gemm', threads: ctx.threads, n, repeats: 3 }));
  const b = theirs<Record<'numpy' | 'torch', { gflops: number }>>(ctx, 'gemm', { n, threads: ctx.threads, repeats: 3 });
  const peak = Math.max(a.value?.gflops ?? 0, b.value?.numpy.gflops ?? 0, b.value?.torch.gflops ?? 0);
  const rows: Row[] = [{
    part: 'gemm', measure: `fp32 GEMM ${n}x${n} (nnU-Net column: torch)`, unit: 'GFLOP/s', ours: a.value?.gflops, nnunet: b.value?.torch.gflops,
    note: notes(a, b) ?? `numpy ${b.value?.numpy.gflops.toFixed(1)}; peak ${peak.toFixed(1)}`,
  }];
  for (const stage of ctx.stages) {
    const step = earlier.find((r) => r.measure === `${stage.configuration} network step alone`);
    if (!step) continue;
    const rc = loadConfiguration(stage.ourPlansFile, stage.configuration, { preprocessedDir: ctx.paths.preprocessedDir });
    const flops = trainingStepFlops(rc.stage, rc.network.inChannels, rc.network.numClasses);
    const rate = (s?: number): number | undefined => (s ? flops / s / 1e9 : undefined);
    const pct = (s?: number): string => (s && peak ? `${((100 * flops) / s / 1e9 / peak).toFixed(0)}%` : '-');
    rows.push({
      part: 'gemm', measure: `${stage.configuration} step achieved (${(flops / 1e9).toFixed(1)} GFLOP)`, unit: 'GFLOP/s', ours: rate(step.ours), nnunet: rate(step.nnunet),
      note: `of the GEMM peak: ours ${pct(step.ours)}, nnU-Net ${pct(step.nnunet)}`,
    });
  }
  return rows;
};

const meanSd = (xs: readonly number[]): string => {
  const m = mean(xs);
  return `${m.toFixed(3)} ± ${Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1)).toFixed(3)}`;
};

/**
 * Learning at equal budget: fold 0 of the 3D plan, the same epochs x iterations in both trainers, one run per
 * seed, validated without mirroring. Long: not among the default parts.
 */
const learn: Part = async (ctx) => {
  const stage = ctx.stages.find((s) => s.configuration === '3d_fullres') ?? ctx.stages[0]!;
  const c = stage.configuration;
  const { epochs, iterations, seeds } = ctx.quick ? { epochs: 1, iterations: 2, seeds: [1] } : { epochs: 10, iterations: 25, seeds: [1, 2, 3] };
  const { workers } = ctx;
  const a: Side<LearnResult>[] = [];
  const b: Side<LearnResult>[] = [];
  for (const seed of seeds) {
    const paths = { ...ctx.paths, resultsDir: fs.mkdtempSync(path.join(ctx.work, `learn-ours-${seed}-`)) };
    a.push(attempt(() => ours<LearnResult>({ kind: 'learn', paths, plansFile: stage.ourPlansFile, configuration: c, threads: ctx.threads, workers, epochs, iterations, seed })));
    b.push(theirs<LearnResult>(ctx, 'learn', {
      plansFile: stage.plansFile, fold: 0, outputDir: fs.mkdtempSync(path.join(ctx.work, `learn-nnunet-${seed}-`)), datasetDir: stage.datasetDir,
      batchDice: false, stage: stage.stage, threads: ctx.threads, daProcesses: workers, seed, epochs, iterations, valIterations: scaledValidationIterations(iterations),
    }));
  }
  const dice = (sides: Side<LearnResult>[]): number[] => sides.flatMap((s) => (s.value ? [s.value.meanDice] : []));
  const secs = (sides: Side<LearnResult>[]): number[] => sides.flatMap((s) => (s.value ? [s.value.seconds] : []));
  const budget = `${c}, ${epochs} x ${iterations} iterations, seeds ${seeds.join(',')}`;
  return [
    { part: 'learn', measure: `${c} validation mean Dice (fold 0, no TTA)`, unit: 'Dice', ours: dice(a).length ? mean(dice(a)) : undefined, nnunet: dice(b).length ? mean(dice(b)) : undefined,
      note: notes(...a, ...b) ?? `${budget}; ours ${meanSd(dice(a))}, nnU-Net ${meanSd(dice(b))}` },
    { part: 'learn', measure: `${c} training + validation`, unit: 's', ours: secs(a).length ? mean(secs(a)) : undefined, nnunet: secs(b).length ? mean(secs(b)) : undefined,
      oursPeakRssBytes: a[0]?.value?.peakRssBytes, nnunetPeakRssBytes: b[0]?.value?.peakRssBytes, note: `mean per seed; ${budget}` },
  ];
};

export const PARTS: Record<string, Part> = { train, infer, preprocess, gemm, learn };
