/**
 * Where nnU-Net v1 keeps cross-validation results, as the postprocessing step needs them:
 *   RESULTS_FOLDER/nnUNet/<configuration>/<task>/<trainer>__<plans>/fold_N/validation_raw/*.nii.gz
 *   .../<trainer>__<plans>/{gt_niftis, cv_niftis_raw, cv_niftis_postprocessed, postprocessing.json}
 *   RESULTS_FOLDER/nnUNet/ensembles/<task>/ensemble_<cfg>__<trainer>__<plans>--<cfg>__<trainer>__<plans>/
 *     {ensembled_raw, ensembled_postprocessed, postprocessing.json}
 * <plans> is each model's own identifier: 2d's from the 2D plans, the 3D configurations' from the 3D plans, which
 * differ with a non-default GPU memory target (ensemble_2d__T__nnUNetPlansv2.1--3d_fullres__T__nnUNetPlansv2.1_big).
 * See docs/inference.md, 'Files'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { plansKindOf, type Configuration, type Fold, type PlansIdentifiers, type TaskPaths } from '../contract';

/** One plans identifier for every configuration, or one per plans kind (see plansByKind in the contract). */
export type ModelPlans = string | Required<PlansIdentifiers>;

/** The plans identifier the configuration's model was trained with. */
export function plansFor(configuration: Configuration, plans: ModelPlans): string {
  return typeof plans === 'string' ? plans : plans[plansKindOf(configuration)];
}

/** nnU-Net runs 3d_cascade_fullres with its own trainer class (`-ctr`, default nnUNetTrainerV2CascadeFullRes). */
export function trainerFor(configuration: Configuration, trainer: string, cascadeTrainer?: string): string {
  if (configuration !== '3d_cascade_fullres') return trainer;
  return cascadeTrainer ?? (trainer === 'nnUNetTrainerV2' ? 'nnUNetTrainerV2CascadeFullRes' : trainer);
}

export function modelFolder(paths: TaskPaths, configuration: Configuration, trainer: string, plans: ModelPlans): string {
  return path.join(paths.resultsDir, configuration, paths.taskName, `${trainerFor(configuration, trainer)}__${plansFor(configuration, plans)}`);
}

export function foldFolder(model: string, fold: Fold): string {
  return path.join(model, fold === 'all' ? 'all' : `fold_${fold}`);
}

/** nnU-Net's ensemble folder name: ensemble_<cfg>__<trainer>__<plans>--<cfg>__<trainer>__<plans>. */
export function ensembleFolder(paths: TaskPaths, configurations: readonly Configuration[], trainer: string, plans: ModelPlans): string {
  const names = configurations.map((c) => `${c}__${trainerFor(c, trainer)}__${plansFor(c, plans)}`);
  return path.join(paths.resultsDir, 'ensembles', paths.taskName, `ensemble_${names.join('--')}`);
}

/** The model's gt_niftis (nnU-Net copies them there after validation), else the preprocessed gt_segmentations. */
export function gtFolder(model: string, preprocessedDir: string): string {
  const own = path.join(model, 'gt_niftis');
  return fs.existsSync(own) ? own : path.join(preprocessedDir, 'gt_segmentations');
}
