/**
 * `nnunet change-trainer-class -i MODEL_FOLDER --trainer NAME` (nnUNet_change_trainer_class). nnU-Net rewrites the
 * trainer class recorded in each fold's .model.pkl so that a model trained with a class it cannot load for inference
 * (a multi-GPU trainer) can be predicted. nnunet-ts checkpoints record no trainer class: any model folder predicts
 * with `-tr` set to the trainer part of its folder name. So this checks the folder and says so; a folder holding
 * nnU-Net's own .model.pkl files is refused (rewriting nnU-Net's pickles is not supported).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError, WorkFailedError } from '../context';

interface ChangeOpts { input?: string; trainer?: string }

/** The fold folders (fold_N, all) of a model folder. */
function foldFolders(model: string): string[] {
  return fs.readdirSync(model).filter((d) => /^(fold_\d+|all)$/.test(d) && fs.statSync(path.join(model, d)).isDirectory());
}

export function register(program: Command): void {
  program
    .command('change-trainer-class')
    .description('nnUNet_change_trainer_class: check a model folder; nnunet-ts checkpoints record no trainer class to change')
    .option('-i, --input <dir>', 'model folder (the one holding fold_X)')
    .option('--trainer <name>', 'the new trainer class name')
    .action((opts: ChangeOpts) => {
      if (!opts.input || !opts.trainer) throw new UsageError('-i MODEL_FOLDER and -tr TRAINER are both needed');
      if (!fs.existsSync(opts.input) || !fs.statSync(opts.input).isDirectory()) throw new UsageError(`-i ${opts.input}: no such folder`);
      const folds = foldFolders(opts.input);
      if (folds.length === 0) throw new UsageError(`-i ${opts.input}: no fold_X folders; pass the model folder (RESULTS_FOLDER/nnUNet/CONFIGURATION/TASK/TRAINER__PLANS)`);
      const pickles = folds.flatMap((f) => fs.readdirSync(path.join(opts.input!, f)).filter((n) => n.endsWith('.model.pkl')).map((n) => path.join(opts.input!, f, n)));
      if (pickles.length) throw new WorkFailedError(`${pickles[0]}: an nnU-Net .model.pkl; rewriting nnU-Net's pickles is not supported here (use nnU-Net's own nnUNet_change_trainer_class on this folder)`);
      const folder = path.basename(path.resolve(opts.input));
      console.log(`${opts.input}: ${folds.length} fold folder(s); nnunet-ts checkpoints record no trainer class, so nothing changes.\n`
        + `Inference does not depend on the class: predict with -tr ${folder.split('__')[0]} (the folder's name); ${opts.trainer} is not needed.`);
    });
}
