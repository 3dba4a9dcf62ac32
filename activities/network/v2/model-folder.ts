/**
 * An nnU-Net v2 model folder (<trainer>__<plans>__<configuration>/ with plans.json, dataset.json and
 * fold_X/checkpoint_*.pth) read into our v2 networks, the way nnUNetPredictor.initialize_from_trained_model_folder
 * does: the configuration, trainer and mirroring axes come from the first fold's checkpoint; the network is
 * the configuration's architecture with determine_num_input_channels inputs and the LabelManager's heads, deep
 * supervision off; each fold's 'network_weights' are loaded into it.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import { readV1ModelMarker } from '../../io/move-to-v2';
import { datasetJsonFile, modelPlansFile, v2CheckpointFile, v2TrainedFolds, V2_CHECKPOINT_FILES } from '../../io/layout';
import { readTorchCheckpoint, type TorchCheckpoint } from '../../io/torch-checkpoint';
import type { PyValue } from '../../io/pickle-values';
import { foregroundLabelCount, segmentationHeads, type DatasetJsonV2 } from '../../planning/v2/dataset-json';
import type { PlansV2 } from '../../planning/v2/experiment';
import { resolveConfiguration } from '../../planning/v2/parameters';
import { readV2Architecture, type V2ArchitectureJson } from './arch-kwargs';
import { describeV2Network, type V2NetworkDescription } from './describe';
import { weightsFromV2StateDict } from './torch-weights';
import { buildV2UNet, type V2UNet } from './unet';

export interface V2ModelInfo {
  dir: string;
  plans: PlansV2;
  datasetJson: DatasetJsonV2;
  /** The configuration the checkpoints were trained with (init_args.configuration). */
  configurationName: string;
  /** The configuration with inherits_from resolved. */
  configuration: Record<string, unknown>;
  trainerName: string;
  /** inference_allowed_mirroring_axes (spatial axes, array order); undefined when the checkpoint has none. */
  mirrorAxes?: number[];
  description: V2NetworkDescription;
}

export interface LoadedV2Model extends V2ModelInfo {
  folds: number[] | ['all'];
  checkpoints: string[];
  networks: V2UNet[];
  dispose(): void;
}

function readJson<T>(file: string, what: string): T {
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing; an nnU-Net v2 model folder holds ${what}`, file);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new BadInputError(`${file}: not valid JSON (${(err as Error).message})`, file);
  }
}

function record(v: PyValue | undefined): Record<string, PyValue> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) ? (v as Record<string, PyValue>) : undefined;
}

/** determine_num_input_channels: the image channels, plus one per foreground label for a cascade's second stage. */
function inputChannels(configuration: Record<string, unknown>, ds: DatasetJsonV2): number {
  const channels = Object.keys(ds.channel_names ?? ds.modality ?? {}).length;
  const cascaded = typeof configuration.previous_stage === 'string' && configuration.previous_stage !== '';
  return channels + (cascaded ? foregroundLabelCount(ds) : 0);
}

/** A v1 model moved into the v2 tree (nnunet move-to-v2) holds Generic_UNet checkpoints: no v2 network reads them. */
function refuseV1Model(dir: string): void {
  const marker = readV1ModelMarker(dir);
  if (!marker) return;
  throw new BadInputError(`${dir}: an nnU-Net v1 model (${marker.network}, ${marker.trainer}) moved by nnunet move-to-v2; it is not a v2 network ` +
    '(nnunetv2 cannot load it either). nnunet-ts\'s nnUNetv2_predict / nnUNetv2_predict_from_modelfolder predict it with the v1 method', dir);
}

/** What nnUNetPredictor takes from the first fold's checkpoint. */
function checkpointInfo(ck: TorchCheckpoint, file: string): { configurationName: string; trainerName: string; mirrorAxes?: number[] } {
  const configurationName = record(ck.meta.init_args)?.configuration;
  if (typeof configurationName !== 'string') throw new BadInputError(`${file}: no init_args.configuration; not a checkpoint nnU-Net v2's trainer wrote`, file);
  const trainer = ck.meta.trainer_name;
  const axes = ck.meta.inference_allowed_mirroring_axes;
  return {
    configurationName,
    trainerName: typeof trainer === 'string' ? trainer : 'nnUNetTrainer',
    mirrorAxes: Array.isArray(axes) ? axes.map(Number) : undefined,
  };
}

/** The model's plans, dataset.json, configuration and network layout, given its first checkpoint. */
function modelInfo(dir: string, first: TorchCheckpoint, firstFile: string): V2ModelInfo {
  const plansFile = modelPlansFile(dir);
  const plans = readJson<PlansV2>(plansFile, 'plans.json');
  const datasetJson = readJson<DatasetJsonV2>(datasetJsonFile(dir), 'dataset.json');
  const info = checkpointInfo(first, firstFile);
  if (!plans.configurations?.[info.configurationName]) {
    throw new BadInputError(`${plansFile}: no configuration ${info.configurationName}, which ${firstFile} was trained with`, plansFile);
  }
  const configuration = resolveConfiguration(plans, info.configurationName);
  const spec = readV2Architecture(configuration.architecture as V2ArchitectureJson, `${plansFile} (configuration ${info.configurationName})`);
  const description = describeV2Network(spec, { inChannels: inputChannels(configuration, datasetJson), numClasses: segmentationHeads(datasetJson) });
  return { dir, plans, datasetJson, configuration, description, ...info };
}

/**
 * Loads a v2 model folder: the given folds (default: every fold_N with the checkpoint, as nnUNetPredictor) and
 * checkpoint file (default checkpoint_final.pth), one network per fold.
 */
export function loadV2Model(dir: string, opts: { folds?: (number | 'all')[]; checkpointName?: string } = {}): LoadedV2Model {
  refuseV1Model(dir);
  const name = opts.checkpointName ?? V2_CHECKPOINT_FILES.final;
  const folds = opts.folds ?? v2TrainedFolds(dir, name);
  if (folds.length === 0) throw new BadInputError(`${dir}: no fold_N folder holds ${name}; pass the folds or another checkpoint name`, dir);
  const checkpoints = folds.map((f) => v2CheckpointFile(dir, f, name));
  for (const file of checkpoints) if (!fs.existsSync(file)) throw new BadInputError(`${file}: checkpoint missing`, file);
  const first = readTorchCheckpoint(checkpoints[0]!);
  const info = modelInfo(dir, first, checkpoints[0]!);
  const networks: V2UNet[] = [];
  try {
    checkpoints.forEach((file, i) => {
      const ck = i === 0 ? first : readTorchCheckpoint(file);
      const weights = weightsFromV2StateDict(info.description, ck.stateDict, file);
      const net = buildV2UNet(info.description.spec, { inChannels: info.description.inChannels, numClasses: info.description.numClasses });
      networks.push(net);
      net.setWeights(weights);
    });
  } catch (err) {
    networks.forEach((n) => n.dispose());
    throw err;
  }
  return { ...info, folds: folds as number[] | ['all'], checkpoints, networks, dispose: () => networks.forEach((n) => n.dispose()) };
}
