/**
 * `nnunet demo-dataset -t 901 [--cases 20] [--test-cases 2] [--seed S] [--large] [--mha | --2d-png] [--regions] [--ignore-label]
 * [-o RAW_DATA_BASE]`: writes a small synthetic two-modality task (CT + MR-like, labels organ and lesion) into
 * nnUNet_raw_data, for a first run; --mha stores it as .mha and --2d-png as a 2D natural-image task, both with a v2
 * dataset.json; --regions / --ignore-label write nested regions / an ignore label (NIfTI only).
 */
import type { Command } from 'commander';
import { writeDemoDataset, type DemoFormat } from '../../activities/io/demo';
import { configFor, positiveInt, printJson, UsageError } from '../context';

interface DemoOpts { task: number; cases?: number; testCases?: number; seed?: number; large?: boolean; mha?: boolean; '2dPng'?: boolean; regions?: boolean; ignoreLabel?: boolean; output?: string; json?: boolean }

function formatOf(opts: DemoOpts): DemoFormat {
  if (opts.mha && opts['2dPng']) throw new UsageError('--mha and --2d-png exclude each other: pick one format');
  if (opts['2dPng'] && opts.large) throw new UsageError('--2d-png has no --large variant');
  if ((opts.regions || opts.ignoreLabel) && (opts.mha || opts['2dPng'])) throw new UsageError('--regions / --ignore-label are written as NIfTI only: leave out --mha / --2d-png');
  return opts.mha ? 'mha' : opts['2dPng'] ? 'png' : 'nifti';
}

function nonNegativeInt(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be an integer >= 0, got '${v}'`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('demo-dataset')
    .description('write a synthetic demo task (2 modalities, 3 labels, anisotropic spacing) into the raw data folder')
    .requiredOption('-t, --task <id>', 'task id (e.g. 901 -> Task901_Demo)', positiveInt('-t'))
    .option('--cases <n>', 'training cases (default 20, or 10 with --large)', positiveInt('--cases'))
    .option('--test-cases <n>', 'test cases in imagesTs (default 2)', nonNegativeInt('--test-cases'))
    .option('--seed <n>', 'random seed (same seed, same files)', nonNegativeInt('--seed'), 0)
    .option('--large', 'cases of about 100x416x416 voxels, so that planning adds 3d_lowres and the cascade')
    .option('--mha', 'store the task as .mha files (nnU-Net v2 dataset.json, file_ending .mha)')
    .option('--2d-png', 'a 2D natural-image task instead: one grayscale PNG per case (v2 dataset.json, file_ending .png)')
    .option('--regions', 'v2 dataset.json with nested regions (organ = labels 1+2, lesion = 2) for region-based training')
    .option('--ignore-label', 'mark part of each training label map as not annotated (label 3 named "ignore")')
    .option('-o, --output <dir>', 'nnUNet_raw_data_base to write into (default: paths.rawDataBase)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: DemoOpts, cmd: Command) => {
      if (opts.task > 999) throw new UsageError(`-t ${opts.task}: task ids are 1..999`);
      const base = opts.output ?? configFor(cmd).paths.rawDataBase;
      const r = await writeDemoDataset(base, { taskId: opts.task, cases: opts.cases, testCases: opts.testCases, seed: opts.seed, large: opts.large, format: formatOf(opts), regions: opts.regions, ignoreLabel: opts.ignoreLabel });
      if (opts.json) printJson(r);
      else console.log(`${r.taskName}: ${r.numTraining} training + ${r.numTest} test cases, median shape ${r.medianShape.join('x')} (z,y,x) -> ${r.outDir}`);
    });
}
