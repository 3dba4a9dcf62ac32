/**
 * The plans a model folder predicts with, ours or nnU-Net v1's: plans.json (our training's copy), else the
 * .model.pkl beside the first fold's checkpoint (nnU-Net's restore_model reads its plans and the stage from the
 * trainer's init arguments), else plans.pkl in the model folder, else the task's plans file.
 * See docs/interop.md, "nnU-Net v1 models".
 */
import * as fs from 'node:fs';
import type { Configuration, Fold, TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import { readModelPkl } from '../io/nnunet-pickles';
import { checkpointFile, checkpointPklFile, foldFolder, modelPlansFile, modelPlansPklFile, plansFile as taskPlansFile } from '../io/layout';
import { loadConfiguration, resolveConfiguration, type ResolvedConfiguration } from '../planning/configuration';
import { plansFromNnunet, readPlansPkl } from '../planning/plans-pkl';

export interface ModelConfigurationWhere {
  paths: TaskPaths;
  modelDir: string;
  configuration: Configuration;
  plansIdentifier: string;
  folds: readonly Fold[];
  checkpoint: string;
}

/** The plans a model was trained with: a copy in the model folder (plans.json) or the task's plans file. */
export function plansFileFor(paths: TaskPaths, modelDir: string, configuration: Configuration, plansIdentifier: string): string {
  const own = modelPlansFile(modelDir);
  if (fs.existsSync(own)) return own;
  const file = taskPlansFile(paths, plansIdentifier, configuration);
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: no plans for ${paths.taskName} (and no ${own}); plan and train the task first`, file);
  return file;
}

/** Resolves the configuration a model folder (ours or nnU-Net v1's) predicts with. */
export function resolveModelConfiguration(w: ModelConfigurationWhere): ResolvedConfiguration {
  const { modelDir, configuration, plansIdentifier } = w;
  const own = ownModelConfiguration(w);
  if (own) return own;
  return loadConfiguration(plansFileFor(w.paths, modelDir, configuration, plansIdentifier), configuration, { plansIdentifier });
}

/** The configuration from the model folder's own plans (plans.json, a checkpoint's .model.pkl, plans.pkl), if it has any. */
export function ownModelConfiguration(w: Omit<ModelConfigurationWhere, 'paths'>): ResolvedConfiguration | undefined {
  const { modelDir, configuration, plansIdentifier } = w;
  if (fs.existsSync(modelPlansFile(modelDir))) return loadConfiguration(modelPlansFile(modelDir), configuration, { plansIdentifier });
  const info = w.folds.map((f) => checkpointPklFile(checkpointFile(foldFolder(modelDir, f), w.checkpoint))).find((f) => fs.existsSync(f));
  if (info) return fromModelPkl(info, configuration, plansIdentifier);
  const pkl = modelPlansPklFile(modelDir);
  if (fs.existsSync(pkl)) return resolveConfiguration(readPlansPkl(pkl), pkl, configuration, { plansIdentifier });
  return undefined;
}

/** nnU-Net's .model.pkl: its plans, and the stage its trainer was built for (init argument 5) checked. */
function fromModelPkl(file: string, configuration: Configuration, plansIdentifier: string): ResolvedConfiguration {
  const info = readModelPkl(file);
  const rc = resolveConfiguration(plansFromNnunet(info.plans, file), file, configuration, { plansIdentifier });
  const stage = info.init[5];
  if (typeof stage === 'number' && stage !== rc.stageIndex) {
    throw new BadInputError(`${file}: this ${info.name} model was trained on plans stage ${stage}, but ${configuration} predicts with stage ${rc.stageIndex}; pass the configuration it was trained as (-m)`, file);
  }
  return rc;
}
