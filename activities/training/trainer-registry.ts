/**
 * Trainers by name, as nnU-Net finds its trainer classes by the TRAINER argument of nnUNet_train: the built-in list
 * below (nnUNetTrainerV2, the cascade trainer and nnU-Net's variants, trainer-variants.ts), then the user's own
 * trainers from the folders of `training.trainerPaths` (custom-trainers.ts). Nothing registers itself on import;
 * tests may add a class with registerTrainer.
 */
import { BadInputError } from '../common/errors';
import { CASCADE_TRAINER, DEFAULT_TRAINER } from '../io/layout';
import { NnUNetTrainerV2CascadeFullRes } from './cascade';
import { loadCustomTrainers, type TrainerClass } from './custom-trainers';
import { NnUNetTrainerV2 } from './trainer';
import { unknownTrainerMessage } from './trainer-names';
import * as v from './trainer-variants';

export type { TrainerClass } from './custom-trainers';
export { NnUNetTrainerV2_100epochs } from './trainer-variants';

/** Every built-in trainer a run can name; nnU-Net's `_copyN` names are aliases of the same class, as in nnU-Net. */
const TRAINERS: ReadonlyArray<[string, TrainerClass]> = [
  [DEFAULT_TRAINER, NnUNetTrainerV2],
  [CASCADE_TRAINER, NnUNetTrainerV2CascadeFullRes],
  ['nnUNetTrainerV2_2epochs', v.NnUNetTrainerV2_2epochs],
  ['nnUNetTrainerV2_5epochs', v.NnUNetTrainerV2_5epochs],
  ['nnUNetTrainerV2_100epochs', v.NnUNetTrainerV2_100epochs],
  ['nnUNetTrainerV2_noDeepSupervision', v.NnUNetTrainerV2_noDeepSupervision],
  ['nnUNetTrainerV2_5epochs_noDS', v.NnUNetTrainerV2_5epochs_noDS],
  ['nnUNetTrainerV2_5epochs_CEnoDS', v.NnUNetTrainerV2_5epochs_CEnoDS],
  ['nnUNetTrainerV2_Loss_CE', v.NnUNetTrainerV2_Loss_CE],
  ['nnUNetTrainerV2_Loss_Dice', v.NnUNetTrainerV2_Loss_Dice],
  ['nnUNetTrainerV2_Loss_DicewithBG', v.NnUNetTrainerV2_Loss_DicewithBG],
  ['nnUNetTrainerV2_Loss_Dice_LR1en3', v.NnUNetTrainerV2_Loss_Dice_LR1en3],
  ['nnUNetTrainerV2_Loss_DiceCE_noSmooth', v.NnUNetTrainerV2_Loss_DiceCE_noSmooth],
  ['nnUNetTrainerV2_focalLoss', v.NnUNetTrainerV2_focalLoss],
  ['nnUNetTrainerV2_ForceBD', v.NnUNetTrainerV2_ForceBD],
  ['nnUNetTrainerV2_ForceSD', v.NnUNetTrainerV2_ForceSD],
  ['nnUNetTrainerV2BraTSRegions', v.NnUNetTrainerV2BraTSRegions],
  ['nnUNetTrainerV2_noDataAugmentation', v.NnUNetTrainerV2_noDataAugmentation],
  ...[1, 2, 3, 4].map((i): [string, TrainerClass] => [`nnUNetTrainerV2_noDataAugmentation_copy${i}`, v.NnUNetTrainerV2_noDataAugmentation]),
  ['nnUNetTrainerV2_noMirroring', v.NnUNetTrainerV2_noMirroring],
  ['nnUNetTrainerV2_independentScalePerAxis', v.NnUNetTrainerV2_independentScalePerAxis],
  ['nnUNetTrainerV2_DA2', v.NnUNetTrainerV2_DA2],
  ['nnUNetTrainerV2_Adam', v.NnUNetTrainerV2_Adam],
  ...[1, 2, 3, 4].map((i): [string, TrainerClass] => [`nnUNetTrainerV2_Adam_copy${i}`, v.NnUNetTrainerV2_Adam]),
  ['nnUNetTrainerV2_Adam_nnUNetTrainerlr', v.NnUNetTrainerV2_Adam_nnUNetTrainerlr],
  ['nnUNetTrainerV2_momentum09', v.NnUNetTrainerV2_momentum09],
  ['nnUNetTrainerV2_momentum095', v.NnUNetTrainerV2_momentum095],
  ['nnUNetTrainerV2_momentum098', v.NnUNetTrainerV2_momentum098],
  ['nnUNetTrainerV2_momentum09in2D', v.NnUNetTrainerV2_momentum09in2D],
  ['nnUNetTrainerV2_fp32', v.NnUNetTrainerV2_fp32],
  ['nnUNetTrainerV2CascadeFullRes_shorter', v.NnUNetTrainerV2CascadeFullRes_shorter],
  ['nnUNetTrainerV2CascadeFullRes_lowerLR', v.NnUNetTrainerV2CascadeFullRes_lowerLR],
  ['nnUNetTrainerV2CascadeFullRes_shorter_lowerLR', v.NnUNetTrainerV2CascadeFullRes_shorter_lowerLR],
  ['nnUNetTrainerV2CascadeFullRes_noConnComp', v.NnUNetTrainerV2CascadeFullRes_noConnComp],
  ['nnUNetTrainerV2CascadeFullRes_smallerBinStrel', v.NnUNetTrainerV2CascadeFullRes_smallerBinStrel],
  ['nnUNetTrainerV2CascadeFullRes_EducatedGuess', v.NnUNetTrainerV2CascadeFullRes_EducatedGuess],
  ['nnUNetTrainerV2CascadeFullRes_EducatedGuess2', v.NnUNetTrainerV2CascadeFullRes_EducatedGuess2],
  ['nnUNetTrainerV2CascadeFullRes_EducatedGuess3', v.NnUNetTrainerV2CascadeFullRes_EducatedGuess3],
];

const registry = new Map<string, TrainerClass>(TRAINERS);

/** Adds a trainer at run time (tests); a run's own trainers come from `training.trainerPaths`. */
export function registerTrainer(name: string, cls: TrainerClass): void {
  registry.set(name, cls);
}

/** The built-in names (TRAINERS; trainer-names.ts keeps the same list without importing the trainers). */
export function builtinTrainerNames(): string[] {
  return TRAINERS.map(([name]) => name).sort();
}

/** Every name a run can use: built-in, registered, and those the trainer folders define. */
export function trainerNames(trainerPaths: readonly string[] = []): string[] {
  return [...new Set([...registry.keys(), ...loadCustomTrainers(trainerPaths).keys()])].sort();
}

/** The trainer class of a name; an unknown name is a BadInputError listing the known ones. */
export function trainerClass(name: string, trainerPaths: readonly string[] = []): TrainerClass {
  const builtin = registry.get(name);
  if (builtin) return builtin;
  const custom = loadCustomTrainers(trainerPaths);
  const cls = custom.get(name);
  if (!cls) throw new BadInputError(unknownTrainerMessage(name, trainerNames(trainerPaths), trainerPaths));
  return cls;
}
