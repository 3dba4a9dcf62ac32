/**
 * `nnunet ensemble -f DIR1 DIR2 ... -o OUT [--postprocessing-file postprocessing.json] [--npz]` (nnUNet_ensemble):
 * averages the softmax (.npz from `nnunet predict --save-npz` or nnU-Net's -z, with its .pkl) of every case present in all folders and writes
 * the label maps, postprocessed with the given rules (find-best prints the right file).
 */
import type { Command } from 'commander';
import { ensembleFolders } from '../../activities/ensembling/ensemble';
import { printJson, UsageError } from '../context';

interface EnsembleOpts { folders: string[]; output: string; postprocessingFile?: string; npz?: boolean; json?: boolean }

export function register(program: Command): void {
  program
    .command('ensemble')
    .description('average the softmax of several prediction folders into one segmentation per case (nnUNet_ensemble)')
    .requiredOption('-f, --folders <dirs...>', 'prediction folders written with `nnunet predict --save-npz` or nnU-Net\'s nnUNet_predict -z')
    .requiredOption('-o, --output <dir>', 'output folder')
    .option('--postprocessing-file <file>', 'postprocessing.json to apply (nnU-Net -pp)')
    .option('--npz', 'also write the averaged softmax')
    .option('--json', 'print the result as JSON')
    .action(async (opts: EnsembleOpts) => {
      if (opts.folders.length < 2) throw new UsageError(`-f needs at least two folders, got ${opts.folders.length}`);
      const r = await ensembleFolders(opts.folders, opts.output, { postprocessingFile: opts.postprocessingFile, saveNpz: opts.npz });
      if (opts.json) printJson(r);
      else console.log(`${r.cases.length} cases ensembled from ${opts.folders.length} folders -> ${r.outputDir}`);
    });
}
