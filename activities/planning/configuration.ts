/**
 * A configuration resolved once from its plans, in the spirit of nnU-Net v2's PlansManager/ConfigurationManager:
 * the plans, which stage the configuration uses (nnU-Net v1's default_configuration.py), its preprocessed data
 * folder, the plans identifier its models live under and the network's topology. Activities take plans files and
 * configuration names (JSON) and resolve them here; everything below them gets this object instead of re-deriving
 * the stage from (plans, configuration, plans file).
 */
import type { Configuration } from '../contract';
import { BadInputError } from '../common/errors';
import { stageDataFolder } from '../io/layout';
import { readPlansFile } from './plans-file';
import { segmentationHeadsOf, stages, type Plans, type StagePlan } from './plans';

/** What the U-Net of a configuration looks like: channels in and out, features, patch and kernels. */
export interface NetworkTopology {
  /** The modalities, plus K-1 one-hot channels of the previous stage for the cascade. */
  inChannels: number;
  /** Output classes including background (the plans' num_classes + 1). */
  numClasses: number;
  baseFeatures: number;
  maxFeatures: number;
  patchSize: number[];
  poolKernels: number[][];
  convKernels: number[][];
}

export interface ResolvedConfiguration {
  configuration: Configuration;
  plans: Plans;
  /** The file the plans came from; error messages name it. */
  plansFile: string;
  /** The identifier the configuration's models live under; undefined when only predicting from a plans copy. */
  plansIdentifier?: string;
  stageIndex: number;
  stage: StagePlan;
  /** 2d: every stage operation in-plane only. */
  inPlaneOnly: boolean;
  /** The task's preprocessed folder and <preprocessed>/<task>/<data identifier>_stage<N>; undefined when resolved without one (prediction). */
  preprocessedDir?: string;
  dataDir?: string;
  network: NetworkTopology;
}

/** Where to resolve: the task's preprocessed folder (for dataDir) and the plans identifier, when known. */
export interface ResolveWhere { preprocessedDir?: string; plansIdentifier?: string }

/** Which plans stage a configuration uses: 3d_lowres and 2d the first, 3d_fullres and the cascade the last. */
function stageIndexOf(plans: Plans, configuration: Configuration, plansFile: string): number {
  const want2d = configuration === '2d';
  if ((plans.plans_kind === '2d') !== want2d) {
    throw new BadInputError(`${plansFile}: ${plans.plans_kind} plans cannot preprocess configuration ${configuration}; pass the ${want2d ? '2D' : '3D'} plans file`, plansFile);
  }
  const n = stages(plans).length;
  if (configuration === '3d_lowres' && n < 2) {
    throw new BadInputError(`${plansFile}: the plans have no lowres stage, so there is no 3d_lowres configuration for this task`, plansFile);
  }
  return configuration === '3d_lowres' || configuration === '2d' ? 0 : n - 1;
}

/** Input channels of a configuration's network: the modalities, plus K-1 one-hot channels for the cascade. */
export function inChannelsOf(plans: Plans, configuration: Configuration): number {
  return plans.num_modalities + (configuration === '3d_cascade_fullres' ? plans.num_classes : 0);
}

export function resolveConfiguration(plans: Plans, plansFile: string, configuration: Configuration, where: ResolveWhere = {}): ResolvedConfiguration {
  const stageIndex = stageIndexOf(plans, configuration, plansFile);
  const stage = stages(plans)[stageIndex]!;
  return {
    configuration, plans, plansFile, stageIndex, stage,
    ...(where.plansIdentifier !== undefined ? { plansIdentifier: where.plansIdentifier } : {}),
    inPlaneOnly: configuration === '2d',
    ...(where.preprocessedDir !== undefined
      ? { preprocessedDir: where.preprocessedDir, dataDir: stageDataFolder(where.preprocessedDir, plans.data_identifier, stageIndex) }
      : {}),
    network: {
      inChannels: inChannelsOf(plans, configuration),
      numClasses: segmentationHeadsOf(plans),
      baseFeatures: plans.base_num_features,
      maxFeatures: plans.unet_max_num_features,
      patchSize: stage.patch_size,
      poolKernels: stage.pool_op_kernel_sizes,
      convKernels: stage.conv_kernel_sizes,
    },
  };
}

/** Reads the plans file and resolves the configuration (bad plans or a configuration they lack: BadInputError). */
export function loadConfiguration(plansFile: string, configuration: Configuration, where: ResolveWhere = {}): ResolvedConfiguration {
  return resolveConfiguration(readPlansFile(plansFile), plansFile, configuration, where);
}

/** The preprocessed data folder, for the steps that need one (preprocessing, training). */
export function dataFolderOf(rc: ResolvedConfiguration): string {
  if (rc.dataDir === undefined) throw new Error(`${rc.configuration} of ${rc.plansFile} was resolved without a preprocessed folder`);
  return rc.dataDir;
}

/** The same configuration from another plans kind's stage: the cascade reads 3d_fullres's data and shapes. */
export function sibling(rc: ResolvedConfiguration, configuration: Configuration, where: ResolveWhere = {}): ResolvedConfiguration {
  return resolveConfiguration(rc.plans, rc.plansFile, configuration, { plansIdentifier: rc.plansIdentifier, preprocessedDir: rc.preprocessedDir, ...where });
}
