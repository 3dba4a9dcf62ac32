/**
 * `nnunet convert-msd -i TaskYY_NAME [-t ID] [-o RAW_DATA_BASE]` (nnU-Net's nnUNet_convert_decathlon_task):
 * splits the Decathlon's 4D images into one file per channel and writes nnUNet_raw_data/TaskXXX_NAME.
 */
import type { Command } from 'commander';
import { convertMsd } from '../../activities/io/convert-msd';
import { configFor, positiveInt, printJson } from '../context';

interface ConvertOpts { input: string; task?: number; output?: string; overwrite?: boolean; json?: boolean }

export function register(program: Command): void {
  program
    .command('convert-msd')
    .description('convert a Medical Segmentation Decathlon task folder (TaskYY_NAME) to nnU-Net\'s raw format')
    .requiredOption('-i, --input <dir>', 'the MSD task folder (holds dataset.json, imagesTr/, labelsTr/)')
    .option('-t, --task <id>', 'task id of the output (default: the MSD id, 04 -> Task004)', positiveInt('-t'))
    .option('-o, --output <dir>', 'nnUNet_raw_data_base to write into (default: paths.rawDataBase)')
    .option('--overwrite', 'write over an existing TaskXXX_NAME folder (its other files are kept)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: ConvertOpts, cmd: Command) => {
      const config = configFor(cmd);
      const base = opts.output ?? config.paths.rawDataBase;
      const r = await convertMsd(opts.input, base, opts.task, { overwrite: opts.overwrite });
      if (opts.json) printJson(r);
      else console.log(`${r.taskName}: ${r.numImages} images (${r.numSplit} 4D split into channels), ${r.numLabels} labels -> ${r.outDir}`);
    });
}
