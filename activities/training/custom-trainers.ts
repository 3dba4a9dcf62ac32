/**
 * A user's own trainers, found by name in the folders of `training.trainerPaths` as nnU-Net finds a trainer class
 * by name in its package: every .js / .cjs module in those folders and their sub-folders is loaded, and
 * - each export that is a subclass of NnUNetTrainerV2 is a trainer under its export name;
 * - an export `defineTrainers(base)` is called with the built-in classes (so a module needs no path to nnunet-ts)
 *   and returns `{ Name: class extends base.NnUNetTrainerV2 { ... } }`.
 * The training child process loads them from the folders its input names (TrainRuntimeOptions.trainerPaths).
 * docs/training.md, 'Your own trainer'.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError } from '../common/errors';
import { NnUNetTrainerV2CascadeFullRes } from './cascade';
import { NnUNetTrainerV2, type TrainerSetup } from './trainer';
import { BUILTIN_TRAINER_NAMES } from './trainer-names';
import * as variants from './trainer-variants';

export type TrainerClass = new (setup: TrainerSetup) => NnUNetTrainerV2;

/** What `defineTrainers(base)` receives: the classes a user's trainer may extend. */
export const TRAINER_BASES = { NnUNetTrainerV2, NnUNetTrainerV2CascadeFullRes, ...variants } as const;

const MODULE_EXTENSIONS = ['.js', '.cjs'];

const isTrainerClass = (value: unknown): value is TrainerClass =>
  typeof value === 'function' && value.prototype instanceof NnUNetTrainerV2;

/** A module that re-exports a built-in class (to extend it) does not define a trainer by that. */
const BUILTIN_CLASSES = new Set<unknown>(Object.values(TRAINER_BASES));

function moduleFiles(folder: string): string[] {
  return fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => {
    const file = path.join(folder, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : moduleFiles(file);
    return MODULE_EXTENSIONS.includes(path.extname(e.name)) ? [file] : [];
  });
}

function trainersOfModule(file: string): [string, TrainerClass][] {
  let moduleExports: Record<string, unknown>;
  try {
    moduleExports = require(file) as Record<string, unknown>;
  } catch (err) {
    throw new BadInputError(`${file}: the trainer module does not load (${(err as Error).message}); fix it or remove it from the trainer folder`);
  }
  const found = Object.entries(moduleExports).filter((e): e is [string, TrainerClass] => isTrainerClass(e[1]) && !BUILTIN_CLASSES.has(e[1]));
  if (typeof moduleExports.defineTrainers === 'function') {
    const defined = (moduleExports.defineTrainers as (base: typeof TRAINER_BASES) => Record<string, unknown>)(TRAINER_BASES) ?? {};
    for (const [name, cls] of Object.entries(defined)) {
      if (!isTrainerClass(cls)) throw new BadInputError(`${file}: defineTrainers returned '${name}', which is not a subclass of NnUNetTrainerV2`);
      found.push([name, cls]);
    }
  }
  return found;
}

/** The trainers the folders define, by name; a missing folder, a broken module or a clash of names is a BadInputError. */
export function loadCustomTrainers(trainerPaths: readonly string[]): Map<string, TrainerClass> {
  const out = new Map<string, TrainerClass>();
  const origin = new Map<string, string>();
  for (const folder of trainerPaths) {
    const dir = path.resolve(folder);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new BadInputError(`${dir}: no such trainer folder (training.trainerPaths); create it or remove it from the configuration`);
    }
    for (const file of moduleFiles(dir)) {
      for (const [name, cls] of trainersOfModule(file)) {
        if (BUILTIN_TRAINER_NAMES.includes(name)) throw new BadInputError(`${file}: trainer '${name}' is a built-in name; give your class another name`);
        const first = origin.get(name);
        if (first && out.get(name) !== cls) throw new BadInputError(`trainer '${name}' is defined twice: ${first} and ${file}; rename one`);
        out.set(name, cls);
        origin.set(name, file);
      }
    }
  }
  return out;
}
