/**
 * Trainers by name, as nnU-Net finds its trainer classes by the TRAINER argument of nnUNet_train. A custom
 * trainer is a subclass that changes the protected knobs (or overrides methods) and one `registerTrainer` line.
 */
import { BadInputError } from '../common/errors';
import { DEFAULT_TRAINER } from '../io/layout';
import { NnUNetTrainerV2, type TrainerSetup } from './trainer';

export type TrainerClass = new (setup: TrainerSetup) => NnUNetTrainerV2;

/** nnU-Net's nnUNetTrainerV2_100epochs-style variant: the same trainer with a shorter schedule. */
export class NnUNetTrainerV2_100epochs extends NnUNetTrainerV2 {
  protected override maxEpochs = 100;
}

const registry = new Map<string, TrainerClass>([
  [DEFAULT_TRAINER, NnUNetTrainerV2],
  [`${DEFAULT_TRAINER}_100epochs`, NnUNetTrainerV2_100epochs],
]);

export function registerTrainer(name: string, cls: TrainerClass): void {
  registry.set(name, cls);
}

export function trainerNames(): string[] {
  return [...registry.keys()].sort();
}

export function trainerClass(name: string): TrainerClass {
  const cls = registry.get(name);
  if (!cls) throw new BadInputError(`unknown trainer '${name}'; registered trainers: ${trainerNames().join(', ')} (add one with registerTrainer in activities/training/trainer-registry.ts)`);
  return cls;
}
