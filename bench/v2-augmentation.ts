/**
 * nnU-Net v2's training augmentation, the batchgeneratorsv2 transforms against the v2 trainer's former path (v1's
 * batchgenerators pipeline with v2's parameters), on the demo task run through v2's commands
 * (`npm run bench -- v2-augmentation [--cases N] [--batches B] [--epochs E] [--iterations I] [--root DIR]`):
 * 1. ms of CPU per training batch (loading + augmentation + deep-supervision targets, in this thread), the two
 *    pipelines alternated on the same plan and cases;
 * 2. a short nnUNetv2_train (3d_fullres, fold 0) per pipeline from the same seed: pseudo-Dice per epoch.
 * With --root, the prepared dataset is reused.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../config';
import { writeDemoDataset } from '../activities/io/demo';
import { runV2Alias } from '../client/v2-aliases';
import { BatchProducer } from '../activities/training/batch-worker';
import { readV2Architecture, type V2ArchitectureJson } from '../activities/network/v2/arch-kwargs';
import { augmentationParamsV2 } from '../activities/training/v2/augmentation-v2';
import { toAugmentationV2 } from '../activities/training/v2/augmentation/pipeline';
import { preprocessedCasesV2, unpackDatasetV2 } from '../activities/training/v2/unpack';
import { trainerSettingsV2 } from '../activities/training/v2/variants';
import { trainFoldV2 } from '../activities/training/v2/train-fold';

const DATASET = 'Dataset933_DemoAug';
type Pipeline = 'batchgenerators' | 'batchgeneratorsv2';

interface Args { cases: number; batches: number; epochs: number; iterations: number; root?: string }

function parseArgs(argv: string[]): Args {
  const opt = (name: string, fallback: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : fallback; };
  const root = opt('root', '');
  return { cases: Number(opt('cases', '5')), batches: Number(opt('batches', '20')), epochs: Number(opt('epochs', '6')), iterations: Number(opt('iterations', '10')), ...(root ? { root } : {}) };
}

const quiet = async (fn: () => Promise<void>) => {
  const [log, err] = [console.log, console.error];
  console.log = () => undefined;
  console.error = () => undefined;
  try { await fn(); } finally { [console.log, console.error] = [log, err]; }
};

export async function benchV2Augmentation(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const root = a.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2aug-'));
  const env = { nnUNet_raw: path.join(root, 'raw'), nnUNet_preprocessed: path.join(root, 'preprocessed'), nnUNet_results: path.join(root, 'results') };
  const config = loadConfig({ env: { ...process.env, ...env } });
  const pre = path.join(env.nnUNet_preprocessed, DATASET);
  if (!fs.existsSync(path.join(pre, 'nnUNetPlans.json'))) {
    const demo = await writeDemoDataset(path.join(root, 'v1'), { taskId: 933, cases: a.cases, testCases: 0 });
    await quiet(() => runV2Alias('nnUNetv2_convert_old_nnUNet_dataset', [demo.outDir, DATASET], config));
    await quiet(() => runV2Alias('nnUNetv2_plan_and_preprocess', ['-d', '933', '-c', '3d_fullres', '-np', '1', '-npfp', '1'], config));
  }
  const plans = JSON.parse(fs.readFileSync(path.join(pre, 'nnUNetPlans.json'), 'utf8')) as { configurations: Record<string, Record<string, unknown>> };
  const cfg = plans.configurations['3d_fullres']!;
  const patch = cfg.patch_size as number[];
  const spec = readV2Architecture(cfg.architecture as V2ArchitectureJson, '3d_fullres');
  const dataFolder = path.join(pre, String(cfg.data_identifier));
  const cases = preprocessedCasesV2(dataFolder);
  const dir = unpackDatasetV2(dataFolder, cases);
  const params = augmentationParamsV2(spec, patch, [], trainerSettingsV2('nnUNetTrainer'));
  process.stdout.write(`demo 3d_fullres: patch ${patch.join('x')} (loader ${params.generatorPatchSize.join('x')}), batch ${String(cfg.batch_size)}, ${cases.length} cases; load ${os.loadavg()[0]!.toFixed(1)}\n`);

  // 1. CPU per batch, alternated.
  const producers = {
    batchgenerators: new BatchProducer({ loader: { dir, caseIds: cases, patchSize: params.generatorPatchSize, finalPatchSize: patch, batchSize: Number(cfg.batch_size), foregroundSampling2D: 'voxel' }, augmentation: params, deepSupervisionScales: params.deepSupervisionScales, seed: 1, numWorkers: 0 }),
    batchgeneratorsv2: new BatchProducer({ loader: { dir, caseIds: cases, patchSize: params.generatorPatchSize, finalPatchSize: patch, batchSize: Number(cfg.batch_size), foregroundSampling2D: 'voxel' }, augmentation: toAugmentationV2(params), deepSupervisionScales: params.deepSupervisionScales, seed: 1, numWorkers: 0 }),
  };
  const cpu: Record<Pipeline, number> = { batchgenerators: 0, batchgeneratorsv2: 0 };
  for (let i = 0; i < a.batches; i++) {
    for (const p of Object.keys(producers) as Pipeline[]) {
      const c = process.cpuUsage();
      await producers[p].next();
      const d = process.cpuUsage(c);
      cpu[p] += (d.user + d.system) / 1000;
    }
  }
  for (const p of Object.values(producers)) await p.close();
  for (const p of Object.keys(cpu) as Pipeline[]) process.stdout.write(`${p.padEnd(18)} ${(cpu[p] / a.batches).toFixed(1)} ms CPU per batch (${a.batches} batches)\n`);

  // 2. Short training runs, same seed.
  for (const p of ['batchgenerators', 'batchgeneratorsv2'] as Pipeline[]) {
    const dice: string[] = [];
    const t = Date.now();
    await trainFoldV2({
      preprocessedDir: pre, resultsRoot: path.join(env.nnUNet_results, p), datasetName: DATASET, configuration: '3d_fullres', fold: 0,
      trainer: 'nnUNetTrainer', plansName: 'nnUNetPlans', epochs: a.epochs, iterationsPerEpoch: a.iterations, valIterationsPerEpoch: 4,
      seed: 12345, numWorkers: 1, validate: false, disableCheckpointing: true, augmentationPipeline: p,
    }, { onEpoch: (r) => { dice.push(`${r.meanFgDice.toFixed(3)}`); } });
    process.stdout.write(`${p.padEnd(18)} ${a.epochs} epochs × ${a.iterations} iterations (${((Date.now() - t) / 1000).toFixed(0)} s): pseudo-Dice per epoch ${dice.join(' ')}\n`);
  }
  if (!a.root) fs.rmSync(root, { recursive: true, force: true });
}

if (require.main === module) {
  benchV2Augmentation(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
