/**
 * The built-in trainer names without the trainers (no tensor library loaded): the CLI checks a trainer name with
 * them before any work starts. trainer-registry.ts holds the classes; a test keeps both lists equal.
 */

export const BUILTIN_TRAINER_NAMES: readonly string[] = [
  'nnUNetTrainerV2', 'nnUNetTrainerV2CascadeFullRes',
  'nnUNetTrainerV2_2epochs', 'nnUNetTrainerV2_5epochs', 'nnUNetTrainerV2_100epochs',
  'nnUNetTrainerV2_noDeepSupervision', 'nnUNetTrainerV2_5epochs_noDS', 'nnUNetTrainerV2_5epochs_CEnoDS',
  'nnUNetTrainerV2_Loss_CE', 'nnUNetTrainerV2_Loss_Dice', 'nnUNetTrainerV2_Loss_DicewithBG', 'nnUNetTrainerV2_Loss_Dice_LR1en3',
  'nnUNetTrainerV2_Loss_DiceCE_noSmooth', 'nnUNetTrainerV2_focalLoss', 'nnUNetTrainerV2_ForceBD', 'nnUNetTrainerV2_ForceSD',
  'nnUNetTrainerV2BraTSRegions',
  'nnUNetTrainerV2_noDataAugmentation', 'nnUNetTrainerV2_noDataAugmentation_copy1', 'nnUNetTrainerV2_noDataAugmentation_copy2',
  'nnUNetTrainerV2_noDataAugmentation_copy3', 'nnUNetTrainerV2_noDataAugmentation_copy4', 'nnUNetTrainerV2_noMirroring', 'nnUNetTrainerV2_independentScalePerAxis', 'nnUNetTrainerV2_DA2',
  'nnUNetTrainerV2_Adam', 'nnUNetTrainerV2_Adam_copy1', 'nnUNetTrainerV2_Adam_copy2', 'nnUNetTrainerV2_Adam_copy3',
  'nnUNetTrainerV2_Adam_copy4', 'nnUNetTrainerV2_Adam_nnUNetTrainerlr',
  'nnUNetTrainerV2_momentum09', 'nnUNetTrainerV2_momentum095', 'nnUNetTrainerV2_momentum098', 'nnUNetTrainerV2_momentum09in2D',
  'nnUNetTrainerV2_fp32',
  'nnUNetTrainerV2CascadeFullRes_shorter', 'nnUNetTrainerV2CascadeFullRes_lowerLR', 'nnUNetTrainerV2CascadeFullRes_shorter_lowerLR',
  'nnUNetTrainerV2CascadeFullRes_noConnComp', 'nnUNetTrainerV2CascadeFullRes_smallerBinStrel', 'nnUNetTrainerV2CascadeFullRes_EducatedGuess',
  'nnUNetTrainerV2CascadeFullRes_EducatedGuess2', 'nnUNetTrainerV2CascadeFullRes_EducatedGuess3',
];

export function unknownTrainerMessage(name: string, known: readonly string[], trainerPaths: readonly string[] = []): string {
  const where = trainerPaths.length > 0 ? `the folders of training.trainerPaths (${trainerPaths.join(', ')})` : 'training.trainerPaths (none configured)';
  return `unknown trainer '${name}'; known trainers: ${[...known].sort().join(', ')}. ` +
    `Add your own as a module in ${where} (docs/training.md, 'Your own trainer'), or one to TRAINERS in activities/training/trainer-registry.ts`;
}
