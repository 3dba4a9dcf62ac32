/**
 * nnU-Net v1's ExperimentPlanner3D_v21_Pretrained (nnUNet_plan_and_preprocess -overwrite_plans FILE
 * -overwrite_plans_identifier ID): the task is preprocessed with another dataset's 3D plans, so that a network
 * pretrained there fits here. Everything comes from FILE (architecture, target spacings, normalization schemes and
 * the CT intensity statistics in its dataset_properties, transposes, preprocessor) except what nnU-Net takes from
 * this task: num_classes (and, through its preprocessor, the cases and classes to preprocess). The plans are named
 * nnUNetPlans_pretrained_ID, the data nnUNetData_pretrained_ID.
 */
import * as fs from 'node:fs';
import type { TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import { plansFile } from '../io/layout';
import { readDatasetProperties } from './fingerprint';
import { readPlansFile } from './plans-file';
import { readPlansPkl } from './plans-pkl';
import { DEFAULT_PLANNER_3D, getPlanner } from './registry';
import type { Plans } from './plans';

export const PRETRAINED_PLANNER = 'ExperimentPlanner3D_v21_Pretrained';

export const pretrainedPlansIdentifier = (id: string): string => `nnUNetPlans_pretrained_${id}`;
export const pretrainedDataIdentifier = (id: string): string => `nnUNetData_pretrained_${id}`;

/** A plans identifier is part of file and folder names: one plain name. */
export function checkPretrainedIdentifier(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
    throw new BadInputError(`-overwrite_plans_identifier "${id}": use letters, digits, '.', '_' or '-' (it names the plans file and the data folder)`, id);
  }
}

/** nnU-Net's plans pickle (.pkl) or an nnunet-ts plans JSON, by content. */
export function readAnyPlans(file: string): Plans {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: no such plans file (-overwrite_plans names the source dataset's *_plans_3D.pkl or .json)`, file);
  const head = fs.readFileSync(file).subarray(0, 1);
  return head[0] === 0x80 ? readPlansPkl(file) : readPlansFile(file);
}

/**
 * The source plans adopted for this task: nnU-Net's load_pretrained_plans (num_classes from this task's own plans,
 * data_identifier from ID). A source with another number of input channels cannot fit, as nnU-Net's help warns:
 * refused here instead of failing later in training.
 */
export function adoptPretrainedPlans(source: Plans, own: Plans, id: string, sourceFile: string): Plans {
  if (source.plans_kind !== '3d') throw new BadInputError(`${sourceFile}: 2D plans; -overwrite_plans takes the source dataset's 3D plans (*_plans_3D.pkl), as nnU-Net's ExperimentPlanner3D_v21_Pretrained`, sourceFile);
  if (source.num_modalities !== own.num_modalities) {
    throw new BadInputError(`${sourceFile}: plans for ${source.num_modalities} input modalities, this task has ${own.num_modalities}; `
      + 'pretrained plans must come from a dataset with the same modalities (nnU-Net: "LiTS -> BCV is OK, BraTS -> LiTS is not")', sourceFile);
  }
  return {
    ...source,
    num_classes: own.num_classes,
    // nnU-Net keeps the source's here too, but its preprocessor lists this task's cropped cases and classes: ours
    // reads them from the plans, so they are this task's (only the CT statistics stay the source's, as in nnU-Net).
    all_classes: own.all_classes,
    dataset_properties: { ...own.dataset_properties, intensityproperties: source.dataset_properties.intensityproperties },
    list_of_npz_files: own.list_of_npz_files,
    original_spacings: own.original_spacings,
    original_sizes: own.original_sizes,
    data_identifier: pretrainedDataIdentifier(id),
    planner_name: PRETRAINED_PLANNER,
  };
}

export interface PretrainedPlanInput {
  paths: Pick<TaskPaths, 'preprocessedDir' | 'croppedDir'>;
  fingerprintFile: string;
  /** -overwrite_plans: the source dataset's 3D plans. */
  sourceFile: string;
  /** -overwrite_plans_identifier. */
  identifier: string;
}

/** This task's plans from another dataset's (nnU-Net plans this task with v2.1 first, for num_classes), and where they go. */
export function planPretrained(input: PretrainedPlanInput): { plans: Plans; file: string; plansIdentifier: string } {
  checkPretrainedIdentifier(input.identifier);
  const ctx = { preprocessedDir: input.paths.preprocessedDir, croppedDir: input.paths.croppedDir };
  const own = getPlanner(DEFAULT_PLANNER_3D).plan(readDatasetProperties(input.fingerprintFile), ctx);
  const plans = adoptPretrainedPlans(readAnyPlans(input.sourceFile), own, input.identifier, input.sourceFile);
  const plansIdentifier = pretrainedPlansIdentifier(input.identifier);
  return { plans, file: plansFile(input.paths, plansIdentifier, '3d'), plansIdentifier };
}
