/**
 * nnunetv2's nnUNetTrainer defaults and the variants whose definition is only parameters, by class name
 * (nnunetv2/training/nnUNetTrainer/variants/: training_length, network_architecture, loss, data_augmentation).
 * A name outside this table is refused with the list. docs/nnunet-v2-training.md has the table.
 */
import { BadInputError } from '../../common/errors';
import type { LossKind } from '../loss';

export interface TrainerV2Settings {
  numEpochs: number;
  numIterationsPerEpoch: number;
  numValIterationsPerEpoch: number;
  initialLr: number;
  weightDecay: number;
  momentum: number;
  oversampleForegroundPercent: number;
  /** Checkpoint_latest every N epochs (v2's save_every). */
  saveEvery: number;
  deepSupervision: boolean;
  loss: Extract<LossKind, 'dice+ce' | 'ce'>;
  diceSmooth: number;
  /** False: no augmentation, the loader samples the network patch, no mirroring at inference (NoDA). */
  dataAugmentation: boolean;
  /** Mirroring in training and inference_allowed_mirroring_axes: every spatial axis, none, or 3D (0, 1) / 2D (0). */
  mirroring: 'all' | 'none' | 'axes01';
}

/** nnUNetTrainer.__init__ and _build_loss. */
export const NNUNET_TRAINER_DEFAULTS: Readonly<TrainerV2Settings> = {
  numEpochs: 1000,
  numIterationsPerEpoch: 250,
  numValIterationsPerEpoch: 50,
  initialLr: 1e-2,
  weightDecay: 3e-5,
  momentum: 0.99,
  oversampleForegroundPercent: 0.33,
  saveEvery: 50,
  deepSupervision: true,
  loss: 'dice+ce',
  diceSmooth: 1e-5,
  dataAugmentation: true,
  mirroring: 'all',
};

export const DEFAULT_TRAINER_V2 = 'nnUNetTrainer';

const EPOCH_VARIANTS = [5, 10, 20, 50, 100, 250, 500, 750, 2000, 4000, 8000];

/** What each known trainer changes against nnUNetTrainer. */
export const TRAINER_V2_VARIANTS: Readonly<Record<string, Partial<TrainerV2Settings>>> = {
  [DEFAULT_TRAINER_V2]: {},
  nnUNetTrainer_1epoch: { numEpochs: 1 },
  ...Object.fromEntries(EPOCH_VARIANTS.map((n) => [`nnUNetTrainer_${n}epochs`, { numEpochs: n }])),
  nnUNetTrainerNoDeepSupervision: { deepSupervision: false },
  nnUNetTrainerDiceCELoss_noSmooth: { diceSmooth: 0 },
  nnUNetTrainerCELoss: { loss: 'ce' },
  nnUNetTrainerNoDA: { dataAugmentation: false },
  nnUNetTrainerNoMirroring: { mirroring: 'none' },
  ...Object.fromEntries([250, 2000, 4000, 8000].map((n) => [`nnUNetTrainer_${n}epochs_NoMirroring`, { numEpochs: n, mirroring: 'none' as const }])),
  nnUNetTrainer_onlyMirror01: { mirroring: 'axes01' },
  nnUNetTrainer_onlyMirror01_1500ep: { mirroring: 'axes01', numEpochs: 1500 },
};

export const trainerNamesV2 = (): string[] => Object.keys(TRAINER_V2_VARIANTS);

/** The settings of a trainer by name; an unknown name is a BadInput error listing the known ones. */
export function trainerSettingsV2(name: string): TrainerV2Settings {
  const variant = TRAINER_V2_VARIANTS[name];
  if (!variant) throw new BadInputError(`unknown nnU-Net v2 trainer '${name}'; known trainers: ${trainerNamesV2().join(', ')}`);
  return { ...NNUNET_TRAINER_DEFAULTS, ...variant };
}
