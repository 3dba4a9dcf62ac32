/**
 * `nnunet change-trainer-class -i MODEL_FOLDER --trainer NAME` (nnUNet_change_trainer_class). As nnU-Net does, it
 * rewrites the trainer name recorded in each fold's model_best / model_final_checkpoint .model.pkl, so that a model
 * trained with a class that cannot be loaded for inference (a multi-GPU trainer) predicts as another. Folds trained
 * here carry our checkpoint format, which records no trainer class: those need nothing and the command says so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../context';

interface ChangeOpts { input?: string; trainer?: string }

/** The .model.pkl files nnU-Net's pretend_to_be_other_trainer rewrites. */
const CHECKPOINT_PKLS = ['model_best.model.pkl', 'model_final_checkpoint.model.pkl'];

/** The fold folders (fold_N, all) of a model folder. */
function foldFolders(model: string): string[] {
  return fs.readdirSync(model).filter((d) => /^(fold_\d+|all)$/.test(d) && fs.statSync(path.join(model, d)).isDirectory());
}

export function register(program: Command): void {
  program
    .command('change-trainer-class')
    .description("nnUNet_change_trainer_class: rewrite the trainer name in each fold's .model.pkl (folds trained here need nothing)")
    .option('-i, --input <dir>', 'model folder (the one holding fold_X)')
    .option('--trainer <name>', 'the new trainer class name')
    .action(async (opts: ChangeOpts) => {
      if (!opts.input || !opts.trainer) throw new UsageError('-i MODEL_FOLDER and -tr TRAINER are both needed');
      if (!fs.existsSync(opts.input) || !fs.statSync(opts.input).isDirectory()) throw new UsageError(`-i ${opts.input}: no such folder`);
      const folds = foldFolders(opts.input);
      if (folds.length === 0) throw new UsageError(`-i ${opts.input}: no fold_X folders; pass the model folder (RESULTS_FOLDER/nnUNet/CONFIGURATION/TASK/TRAINER__PLANS)`);
      const pickles = folds.flatMap((f) => CHECKPOINT_PKLS.map((n) => path.join(opts.input!, f, n))).filter((f) => fs.existsSync(f));
      const { readModelPkl, writeModelPkl } = await import('../../activities/io/nnunet-pickles');
      for (const file of pickles) writeModelPkl(file, { ...readModelPkl(file), name: opts.trainer });
      if (pickles.length) console.log(`${opts.input}: trainer name set to ${opts.trainer} in ${pickles.length} .model.pkl file(s)`);
      else {
        console.log(`${opts.input}: ${folds.length} fold folder(s) in nnunet-ts's checkpoint format, which records no trainer class; nothing to change.\n`
          + `Inference does not depend on the class: predict with -tr ${path.basename(path.resolve(opts.input)).split('__')[0]} (the folder's name).`);
      }
    });
}
