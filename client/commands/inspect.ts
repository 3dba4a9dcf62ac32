/** `nnunet inspect FILE... [--json]`: shape, spacing, origin, direction, datatype, value range, label values. */
import type { Command } from 'commander';
import { formatInspectReport, inspectImage, type InspectReport } from '../../activities/io/inspect';
import { configFor, printJson } from '../context';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show an image\'s geometry (as SimpleITK/nnU-Net see it), datatype, value range and label values (NIfTI, .nrrd, .mha, tiff, png, ...)')
    .argument('<files...>', 'image files (.nii.gz, .nii, .nrrd, .mha, .mhd, .gipl, .tif, .png, .bmp)')
    .option('--json', 'print JSON (one object, or an array for several files)')
    .action(async (files: string[], opts: { json?: boolean }, cmd: Command) => {
      configFor(cmd); // data.maxImageMemoryGb bounds what one file may cost
      const reports: InspectReport[] = [];
      for (const f of files) reports.push(await inspectImage(f));
      if (opts.json) printJson(reports.length === 1 ? reports[0] : reports);
      else console.log(reports.map(formatInspectReport).join('\n\n'));
    });
}
