/**
 * Trainers by name, as nnU-Net finds its trainer classes by the TRAINER argument of nnUNet_train. A new trainer
 * is a subclass that changes the protected knobs (or overrides methods) and one line in TRAINERS below; tests
 * may add their own with registerTrainer.
 */
import { BadInputError } from '../common/errors';
import { CASCADE_TRAINER, DEFAULT_TRAINER } from '../io/layout';
import { NnUNetTrainerV2CascadeFullRes } from './cascade';
import { NnUNetTrainerV2, type TrainerSetup } from './trainer';

export type TrainerClass = new (setup: TrainerSetup) => NnUNetTrainerV2;

/** nnU-Net's nnUNetTrainerV2_100epochs-style variant: the same trainer with a shorter schedule. */
export class NnUNetTrainerV2_100epochs extends NnUNetTrainerV2 {
  protected override maxEpochs = 100;
}

/** Every trainer a run can name. */
const TRAINERS: ReadonlyArray<[string, TrainerClass]> = [
  [DEFAULT_TRAINER, NnUNetTrainerV2],
  [`${DEFAULT_TRAINER}_100epochs`, NnUNetTrainerV2_100epochs],
  [CASCADE_TRAINER, NnUNetTrainerV2CascadeFullRes],
];

const registry = new Map<string, TrainerClass>(TRAINERS);

export function registerTrainer(name: string, cls: TrainerClass): void {
  registry.set(name, cls);
}

export function trainerNames(): string[] {
  return [...registry.keys()].sort();
}

export function trainerClass(name: string): TrainerClass {
  const cls = registry.get(name);
  if (!cls) throw new BadInputError(`unknown trainer '${name}'; registered trainers: ${trainerNames().join(', ')} (add one to TRAINERS in activities/training/trainer-registry.ts)`);
  return cls;
}
