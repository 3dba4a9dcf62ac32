/**
 * nnU-Net v1's trainer variants (nnunet/training/network_training/nnUNet_variants and nnUNetTrainerV2_fp32), each
 * under its nnU-Net class name and changing what that class changes, nothing else. Families: training length,
 * deep supervision, loss, data augmentation, optimiser, cascade. The table of names and what each changes is in
 * docs/training.md, 'Trainer variants'; trainer-registry.ts lists them by name.
 */
import type { AugmentationParams } from './patch-size';
import { NnUNetTrainerV2CascadeFullRes } from './cascade';
import { NnUNetTrainerV2 } from './trainer';

// Training length. nnU-Net's benchmarking classes (_2epochs, _5epochs...) also skip validation and checkpoints;
// here they validate and checkpoint like any fold, so the pipeline can use what they train.

export class NnUNetTrainerV2_2epochs extends NnUNetTrainerV2 {
  protected override maxEpochs = 2;
}

export class NnUNetTrainerV2_5epochs extends NnUNetTrainerV2 {
  protected override maxEpochs = 5;
}

/** nnunet-ts's own short schedule (not an nnU-Net class), kept for existing results folders. */
export class NnUNetTrainerV2_100epochs extends NnUNetTrainerV2 {
  protected override maxEpochs = 100;
}

// Deep supervision.

export class NnUNetTrainerV2_noDeepSupervision extends NnUNetTrainerV2 {
  protected override deepSupervision = false;
}

export class NnUNetTrainerV2_5epochs_noDS extends NnUNetTrainerV2_noDeepSupervision {
  protected override maxEpochs = 5;
}

export class NnUNetTrainerV2_5epochs_CEnoDS extends NnUNetTrainerV2_noDeepSupervision {
  protected override maxEpochs = 5;
  protected override lossKind = 'ce' as const;
}

// Loss (each still deep-supervised: nnUNetTrainerV2.initialize wraps whatever loss __init__ chose).

export class NnUNetTrainerV2_Loss_CE extends NnUNetTrainerV2 {
  protected override lossKind = 'ce' as const;
}

export class NnUNetTrainerV2_Loss_Dice extends NnUNetTrainerV2 {
  protected override lossKind = 'dice' as const;
}

export class NnUNetTrainerV2_Loss_DicewithBG extends NnUNetTrainerV2 {
  protected override lossKind = 'dice' as const;
  protected override diceWithBackground = true;
}

export class NnUNetTrainerV2_Loss_Dice_LR1en3 extends NnUNetTrainerV2_Loss_Dice {
  protected override initialLearningRate = 1e-3;
}

export class NnUNetTrainerV2_Loss_DiceCE_noSmooth extends NnUNetTrainerV2 {
  protected override diceSmooth = 0;
}

export class NnUNetTrainerV2_focalLoss extends NnUNetTrainerV2 {
  protected override lossKind = 'focal' as const;
}

export class NnUNetTrainerV2_ForceBD extends NnUNetTrainerV2 {
  protected override forceBatchDice = true;
}

export class NnUNetTrainerV2_ForceSD extends NnUNetTrainerV2 {
  protected override forceBatchDice = false;
}

/**
 * Region-based training (sigmoid heads, DC_and_BCE_loss with batch Dice off and smooth 0). nnU-Net v1 hard-codes the
 * BraTS regions; here they come from the dataset.json labels and regions_class_order, which this trainer requires.
 */
export class NnUNetTrainerV2BraTSRegions extends NnUNetTrainerV2 {
  protected override requiresRegions = true;
  protected override forceBatchDice = false;
  protected override diceSmooth = 0;
}

// Data augmentation.

/** No augmentation at all: the training loader samples the network patch; mirroring is off in validation too. */
export class NnUNetTrainerV2_noDataAugmentation extends NnUNetTrainerV2 {
  static override readonly mirrorsInTraining: boolean = false;
  protected override dataAugmentation = false;
  protected override adjustAugmentation(params: AugmentationParams): AugmentationParams {
    return { ...params, mirrorAxes: [] };
  }
}

/** nnUNetTrainerV2's augmentation without the mirroring; mirroring is off in validation too. */
export class NnUNetTrainerV2_noMirroring extends NnUNetTrainerV2 {
  static override readonly mirrorsInTraining: boolean = false;
  protected override adjustAugmentation(params: AugmentationParams): AugmentationParams {
    return { ...params, mirrorAxes: [] };
  }
}

/** batchgenerators' independent scale factor per axis (one draw per spatial axis). */
export class NnUNetTrainerV2_independentScalePerAxis extends NnUNetTrainerV2 {
  protected override adjustAugmentation(params: AugmentationParams): AugmentationParams {
    return { ...params, scaling: { ...params.scaling, independentPerAxis: true } };
  }
}

/** Independent scale per axis, rotation p per axis 0.5 in 3D (1 in 2D), additive brightness (nnU-Net's defaults). */
export class NnUNetTrainerV2_DA2 extends NnUNetTrainerV2 {
  protected override adjustAugmentation(params: AugmentationParams): AugmentationParams {
    const threeD = this.setup.configuration !== '2d';
    return {
      ...params,
      scaling: { ...params.scaling, independentPerAxis: true },
      rotation: { ...params.rotation, pPerAxis: threeD ? 0.5 : 1 },
      additiveBrightness: { mu: 0, sigma: 0.1, pPerSample: 0.15, pPerChannel: 0.5 },
    };
  }
}

// Optimiser and learning rate.

export class NnUNetTrainerV2_Adam extends NnUNetTrainerV2 {
  protected override optimizerKind = 'adam' as const;
}

/** nnU-Net's file nnUNetTrainerV2_Adam_lr_3en4.py defines this class name. */
export class NnUNetTrainerV2_Adam_nnUNetTrainerlr extends NnUNetTrainerV2_Adam {
  protected override initialLearningRate = 3e-4;
}

export class NnUNetTrainerV2_momentum09 extends NnUNetTrainerV2 {
  protected override sgdMomentum(): number { return 0.9; }
}

export class NnUNetTrainerV2_momentum095 extends NnUNetTrainerV2 {
  protected override sgdMomentum(): number { return 0.95; }
}

export class NnUNetTrainerV2_momentum098 extends NnUNetTrainerV2 {
  protected override sgdMomentum(): number { return 0.98; }
}

export class NnUNetTrainerV2_momentum09in2D extends NnUNetTrainerV2 {
  protected override sgdMomentum(): number { return this.setup.configuration === '2d' ? 0.9 : 0.99; }
}

/** nnU-Net's fp32 trainer turns mixed precision off; nnunet-ts always trains in float32, so it is nnUNetTrainerV2. */
export class NnUNetTrainerV2_fp32 extends NnUNetTrainerV2 {}

// Cascade.

export class NnUNetTrainerV2CascadeFullRes_shorter extends NnUNetTrainerV2CascadeFullRes {
  protected override maxEpochs = 500;
}

export class NnUNetTrainerV2CascadeFullRes_lowerLR extends NnUNetTrainerV2CascadeFullRes {
  protected override initialLearningRate = 1e-3;
}

export class NnUNetTrainerV2CascadeFullRes_shorter_lowerLR extends NnUNetTrainerV2CascadeFullRes {
  protected override maxEpochs = 500;
  protected override initialLearningRate = 1e-3;
}

/** nnU-Net's cascade augmentation variants (nnUNetTrainerV2CascadeFullRes_DAVariants.py): binary-operator parameters. */
function cascadeMorphologyVariant(pPerSample: number, pPerLabel: number, radiusRange: readonly [number, number]) {
  return class extends NnUNetTrainerV2CascadeFullRes {
    protected override adjustAugmentation(params: AugmentationParams): AugmentationParams {
      return { ...params, cascadeMorphology: { pPerSample, pPerLabel, radiusRange: [radiusRange[0], radiusRange[1]] } };
    }
  };
}

// Their connected-component removal settings differ too; that transform does nothing in nnU-Net (docs/augmentation.md).
export const NnUNetTrainerV2CascadeFullRes_noConnComp = cascadeMorphologyVariant(0.4, 1, [1, 8]);
export const NnUNetTrainerV2CascadeFullRes_smallerBinStrel = cascadeMorphologyVariant(0.4, 1, [1, 5]);
export const NnUNetTrainerV2CascadeFullRes_EducatedGuess = cascadeMorphologyVariant(0.5, 0.5, [1, 5]);
export const NnUNetTrainerV2CascadeFullRes_EducatedGuess2 = cascadeMorphologyVariant(0.5, 0.5, [1, 5]);
export const NnUNetTrainerV2CascadeFullRes_EducatedGuess3 = cascadeMorphologyVariant(1, 0.33, [1, 5]);
