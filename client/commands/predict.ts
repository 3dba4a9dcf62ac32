/**
 * `nnunet predict -i IN -o OUT -t TASK -m CONFIGURATION [-f 0 1 ...] [--trainer T] [--checkpoint NAME] [--save-npz]
 * [--step-size 0.5] [--disable-tta] [--lowres-folder DIR] [--overwrite]` (nnUNet_predict, translated by the alias):
 * the input folder is checked before any work, then every case is predicted with the averaged folds, a progress
 * bar per configuration, and the model's postprocessing.json applied when present.
 */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { CONFIGURATIONS, type Configuration, type Fold } from '../../activities/contract';
import { initBackend, isBackendId } from '../../activities/network/backend';
import { checkPredictTask, predictTask, type PredictTaskResult } from '../../activities/inference/predict-task';
import { configFor, printJson, UsageError, WorkFailedError } from '../context';
import { whyNotWritable } from '../output-folders';
import { resolveTask } from '../task-ref';
import { plansIdentifierFor, stageSettings } from '../settings';
import { CASCADE_TRAINER, DEFAULT_CHECKPOINT } from '../../activities/io/layout';

interface PredictOpts {
  input: string; output: string; task: string; configuration: string; folds?: string[]; trainer?: string; cascadeTrainer?: string;
  plans?: string; checkpoint?: string; saveNpz?: boolean; stepSize: string; disableTta?: boolean; lowresFolder?: string; overwrite?: boolean;
  backend?: string; json?: boolean; partId: string; numParts: string;
}

/** nnU-Net's --part_id/--num_parts: the sorted case ids, every num_parts-th from part_id (`ids[part_id::num_parts]`). */
export function casesOfPart<T extends { id: string }>(cases: readonly T[], partId: number, numParts: number): T[] {
  if (!Number.isInteger(numParts) || numParts < 1) throw new UsageError(`--num_parts must be a positive integer, got '${numParts}'`);
  if (!Number.isInteger(partId) || partId < 0 || partId >= numParts) throw new UsageError(`--part_id must be in 0..${numParts - 1}, got '${partId}'`);
  const sorted = [...cases].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.filter((_, i) => i % numParts === partId);
}

export function parseFolds(values: readonly string[] | undefined): Fold[] | undefined {
  if (!values) return undefined;
  return values.map((v) => {
    if (v === 'all') return 'all';
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 4) throw new UsageError(`-f takes folds 0-4 or "all", got '${v}'`);
    return n as Fold;
  });
}

export function parseConfiguration(value: string): Configuration {
  if (!(CONFIGURATIONS as readonly string[]).includes(value)) throw new UsageError(`unknown configuration "${value}"; use ${CONFIGURATIONS.join(', ')}`);
  return value as Configuration;
}

function summary(r: PredictTaskResult, configuration: Configuration): string {
  const lines = [`${configuration}: ${r.predicted.length} predicted, ${r.skipped.length} already done -> ${r.outputDir} (folds ${r.folds.join(', ')})`];
  if (r.postprocessingFile) lines.push(`postprocessing applied: ${r.postprocessingFile}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('segment the images of a folder with a trained configuration (nnUNet_predict)')
    .requiredOption('-i, --input <dir>', 'folder of CASE_0000.nii.gz, CASE_0001.nii.gz, ... (one file per modality)')
    .requiredOption('-o, --output <dir>', 'output folder for CASE.nii.gz')
    .requiredOption('-t, --task <task>', 'task id (4), folder name (Task004_Hippocampus) or path')
    .requiredOption('-m, --configuration <name>', `configuration (${CONFIGURATIONS.join(', ')})`)
    .option('-f, --folds <folds...>', 'folds to average (default: every trained fold_N)')
    .option('--trainer <name>', 'trainer class name (default from config: training.trainer)')
    .option('--cascade-trainer <name>', `trainer of 3d_cascade_fullres (only ${CASCADE_TRAINER})`)
    .option('--plans <id>', 'plans identifier (default: as planned with planning.gpuMemoryTargetGb)')
    .option('--checkpoint <name>', `checkpoint file name without .model (default ${DEFAULT_CHECKPOINT})`)
    .option('--save-npz', 'also write CASE.npz (softmax) and CASE.json (properties), needed by nnunet ensemble')
    .option('--step-size <fraction>', 'sliding-window step as a fraction of the patch', '0.5')
    .option('--disable-tta', 'no mirroring test-time augmentation (8x faster in 3D)')
    .option('--lowres-folder <dir>', '3d_cascade_fullres: existing 3d_lowres predictions of the same cases')
    .option('--overwrite', 'predict cases whose output already exists')
    .option('--part-id <n>', 'predict only this part of the cases (nnU-Net --part_id: sorted ids[part_id::num_parts])', '0')
    .option('--num-parts <n>', 'number of parts the cases are split into (one command per GPU)', '1')
    .option('--backend <id>', 'tensor backend (tfjs-node-gpu, tfjs-node, cpu); default from config: worker.backend (auto: best available)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: PredictOpts, cmd: Command) => {
      const configuration = parseConfiguration(opts.configuration);
      const stepSize = Number(opts.stepSize);
      if (!(stepSize > 0 && stepSize <= 1)) throw new UsageError(`--step-size must be in (0, 1], got '${opts.stepSize}'`);
      if (opts.cascadeTrainer && opts.cascadeTrainer !== CASCADE_TRAINER) {
        throw new UsageError(`--cascade-trainer ${opts.cascadeTrainer}: only ${CASCADE_TRAINER} is supported`);
      }
      if (opts.backend && opts.backend !== 'auto' && !isBackendId(opts.backend)) throw new UsageError(`unknown backend "${opts.backend}"`);
      const config = configFor(cmd);
      const { paths } = resolveTask(config, opts.task);
      const settings = stageSettings(config, { trainer: opts.trainer, plans: opts.plans, checkpoint: opts.checkpoint });
      const base = {
        paths, inputDir: opts.input, outputDir: opts.output, configuration, trainer: settings.trainer, plansIdentifier: plansIdentifierFor(settings, configuration),
        folds: parseFolds(opts.folds), checkpoint: settings.checkpoint, saveNpz: opts.saveNpz, stepSize, tta: !opts.disableTta,
        lowresDir: opts.lowresFolder, overwrite: opts.overwrite,
      };
      // everything is checked (plans, input images, folds, checkpoints) before the backend starts or a file is written
      const cases = casesOfPart(await checkPredictTask(base), Number(opts.partId), Number(opts.numParts));
      const why = whyNotWritable(opts.output);
      if (why) throw new WorkFailedError(`cannot write the output folder ${opts.output}: ${why}; pass -o a folder you can write`);
      const backend = await initBackend({ preference: opts.backend ?? configFor(cmd).worker.backend });
      if (!opts.json) console.error(`backend: ${backend.id} (${backend.detail})`);
      const bar = opts.json || !process.stderr.isTTY ? undefined : new SingleBar({ format: '{config} [{bar}] {value}/{total} cases | {case}' }, Presets.shades_classic);
      let current: string | undefined;
      const r = await predictTask({
        ...base,
        cases,
        onCase: (config, done, total, id) => {
          // Without a terminal (logs, CI, nohup) a line per finished case, so long predictions show progress.
          if (!bar) { if (!opts.json) console.error(`${config}: ${done}/${total} cases (${id})`); return; }
          if (current !== config) {
            if (current) bar.stop();
            bar.start(total, 0, { config, case: '' });
            current = config;
          }
          bar.update(done, { case: id });
        },
      });
      bar?.stop();
      if (opts.json) printJson(r);
      else {
        if (r.lowres) console.log(summary(r.lowres, '3d_lowres'));
        console.log(summary(r, configuration));
      }
    });
}
