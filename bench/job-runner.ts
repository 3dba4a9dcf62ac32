/**
 * Child process of the stage benchmarks (bench/child.ts): runs one job and prints one JSON line with its wall
 * time and this process's peak RSS (worker threads included: they share the process).
 * Usage: node dist/bench/job-runner.js '<Job as JSON>'
 */
import type { Configuration, TaskPaths } from '../activities/contract';
import { runFingerprint } from '../activities/fingerprint/fingerprint';
import { runPreprocess } from '../activities/preprocessing/preprocess';
import { loadConfiguration } from '../activities/planning/configuration';
import { initBackend } from '../activities/network/backend';
import { buildUNet } from '../activities/network/unet';
import { networkPatchPredictor } from '../activities/inference/network-predictor';
import { predictCase } from '../activities/inference/predict-case';

export type Job =
  | { kind: 'fingerprint'; paths: TaskPaths; numProcesses: number }
  | { kind: 'preprocess'; paths: TaskPaths; plansFile: string; configuration: Configuration; numProcesses: number }
  | {
    kind: 'predict'; plansFile: string; configuration: Configuration; tta: boolean; threads: number;
    /** Image files (modality order) per case. */
    cases: string[][];
    /** After the cases: time this many single patches with mirroring (8 passes in 3D), for extrapolating TTA. */
    probeTiles?: number;
  };

export interface CaseTiming { seconds: number; tiles: number; shape: number[] }
export interface PredictOutput {
  backend: string; patchSize: number[]; cases: CaseTiming[]; peakRssBytesCases: number;
  probe?: { tiles: number; secondsPerTileMirrored: number };
}

interface Measured { seconds: number; peakRssBytes: number }
export type JobResult<J extends Job> = Measured & (J extends { kind: 'predict' } ? PredictOutput : { numCases: number });

async function predictJob(job: Extract<Job, { kind: 'predict' }>): Promise<PredictOutput> {
  const choice = await initBackend({ threads: job.threads });
  const resolved = loadConfiguration(job.plansFile, job.configuration);
  const { stage, network } = resolved;
  const { inChannels } = network;
  // Untrained (He-initialised) weights: the time of a forward pass does not depend on the values.
  const net = buildUNet(stage, {
    inChannels, numClasses: network.numClasses, deepSupervision: false, baseFeatures: network.baseFeatures, maxFeatures: network.maxFeatures,
  });
  const predictor = networkPatchPredictor(net, { patchSize: stage.patch_size, inChannels, tta: job.tta });
  const model = { resolved, folds: [predictor] };
  const cases: CaseTiming[] = [];
  for (const files of job.cases) {
    let tiles = 0;
    const t0 = performance.now();
    const r = await predictCase(files, model, { onTile: (_d, total) => { tiles = total; } });
    cases.push({ seconds: (performance.now() - t0) / 1000, tiles, shape: r.properties.original_size_of_raw_data as unknown as number[] });
  }
  // The cases' own peak, before the probe below adds its mirrored passes.
  const out: PredictOutput = { backend: choice.detail, patchSize: stage.patch_size, cases, peakRssBytesCases: process.resourceUsage().maxRSS * 1024 };
  if (job.probeTiles) {
    const patch = new Float32Array(inChannels * stage.patch_size.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
    const mirrored = networkPatchPredictor(net, { patchSize: stage.patch_size, inChannels, tta: true });
    const t0 = performance.now(); // no warm-up: the cases just ran the same network
    for (let i = 0; i < job.probeTiles; i++) await mirrored(patch, []);
    out.probe = { tiles: job.probeTiles, secondsPerTileMirrored: (performance.now() - t0) / 1000 / job.probeTiles };
  }
  net.dispose();
  return out;
}

async function run(job: Job): Promise<object> {
  switch (job.kind) {
    case 'fingerprint':
      return { numCases: (await runFingerprint(job.paths, { numProcesses: job.numProcesses })).numCases };
    case 'preprocess':
      return { numCases: (await runPreprocess(job.paths, job.plansFile, job.configuration, { numProcesses: job.numProcesses })).computedCases };
    case 'predict':
      return predictJob(job);
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as Job;
  const t0 = performance.now();
  const out = await run(job);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ ...out, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
