/**
 * `nnunet demo-dataset -t 901 [--cases 20] [--test-cases 2] [--seed S] [--large] [--regions] [--ignore-label] [-o RAW_DATA_BASE]`: writes a
 * small synthetic two-modality task (CT + MR-like, labels organ and lesion) into nnUNet_raw_data, for a first run.
 */
import type { Command } from 'commander';
import { writeDemoDataset } from '../../activities/io/demo';
import { configFor, positiveInt, printJson, UsageError } from '../context';

interface DemoOpts { task: number; cases?: number; testCases?: number; seed?: number; large?: boolean; regions?: boolean; ignoreLabel?: boolean; output?: string; json?: boolean }

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
    .option('--regions', 'v2 dataset.json with nested regions (organ = labels 1+2, lesion = 2) for region-based training')
    .option('--ignore-label', 'mark part of each training label map as not annotated (label 3 named "ignore")')
    .option('-o, --output <dir>', 'nnUNet_raw_data_base to write into (default: paths.rawDataBase)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: DemoOpts, cmd: Command) => {
      if (opts.task > 999) throw new UsageError(`-t ${opts.task}: task ids are 1..999`);
      const base = opts.output ?? configFor(cmd).paths.rawDataBase;
      const r = await writeDemoDataset(base, { taskId: opts.task, cases: opts.cases, testCases: opts.testCases, seed: opts.seed, large: opts.large, regions: opts.regions, ignoreLabel: opts.ignoreLabel });
      if (opts.json) printJson(r);
      else console.log(`${r.taskName}: ${r.numTraining} training + ${r.numTest} test cases, median shape ${r.medianShape.join('x')} (z,y,x) -> ${r.outDir}`);
    });
}
