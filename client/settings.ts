/**
 * The one place where Config and command-line flags become the settings of every stage: planners and the GPU
 * memory target, the plans identifiers models live under, trainer, epochs, iterations and process counts. The
 * direct commands (client/commands/*), the nnU-Net aliases (which translate onto those commands) and the task
 * workflow's input (taskInput in commands/run.ts) all call stageSettings, so the same config gives the same
 * result on every path. A flag wins over the config; the config wins over nnU-Net's defaults.
 */
import type { Configuration, PlansIdentifiers } from '../activities/contract';
import { plansKindOf } from '../activities/contract';
import { DEFAULT_CHECKPOINT, DEFAULT_TRAINER as DEFAULT_TRAINER_V1 } from '../activities/io/layout';
import { DEFAULT_PLANNER_2D, getPlanner, planner3dForMemory } from '../activities/planning/registry';
import { BUILTIN_TRAINER_NAMES, unknownTrainerMessage } from '../activities/training/trainer-names';
import { trainerNamesV2 } from '../activities/training/v2/variants';
import { isPlannerV2, plannerNamesV2, PLANNER_PRESETS_V2 } from '../activities/planning/v2/presets';
import { DEFAULT_PLANNER_V2 } from '../activities/planning/v2/activity';
import { PLANNING } from '../activities/planning/constants';
import type { Config } from '../config';
import { UsageError } from './context';

/** The flags any command may pass; each command passes the ones it has. */
export interface SettingsFlags {
  /** Planner registry names (nnU-Net's -pl3d / -pl2d), or None to skip that kind. */
  pl3d?: string;
  pl2d?: string;
  /** GPU memory target of the 3D planner in GB (`nnunet plan --gpu-memory`). */
  gpuMemory?: number;
  /** One plans identifier for every configuration (--plans, --plans-identifier). */
  plans?: string;
  /** The 2D / 3D plans identifiers on their own (find-best's --pl2d / --pl3d). */
  plans2d?: string;
  plans3d?: string;
  trainer?: string;
  epochs?: number;
  iters?: number;
  processes?: number;
  lowresProcesses?: number;
  checkpoint?: string;
}

export interface PlannerSettings {
  /** The planners named (None left out), as the plan activity's comma-separated `planner` list; undefined = defaults. */
  list?: string;
  /** Kinds the user skipped with None (nnU-Net's -pl3d None / -pl2d None). */
  skip: { '2d': boolean; '3d': boolean };
  /** Picks the 3D planner when none is named. */
  gpuMemoryTargetGb: number;
}

export interface StageSettings {
  planner: PlannerSettings;
  /** The identifier each plans kind is written under and its models live under. */
  plansIdentifiers: Required<PlansIdentifiers>;
  trainer: string;
  epochs: number;
  iterationsPerEpoch: number;
  numProcesses: number;
  /** 3d_lowres preprocessing (nnU-Net -tl); undefined = numProcesses. */
  numProcessesLowres?: number;
  checkpoint: string;
}

export const isNonePlanner = (name?: string): boolean => name === 'None' || name === 'none';

function plannerSettings(config: Config, flags: SettingsFlags): PlannerSettings {
  const named = [flags.pl3d, flags.pl2d].filter((n): n is string => Boolean(n) && !isNonePlanner(n));
  return {
    ...(named.length > 0 ? { list: named.join(',') } : {}),
    skip: { '3d': isNonePlanner(flags.pl3d), '2d': isNonePlanner(flags.pl2d) },
    gpuMemoryTargetGb: flags.gpuMemory ?? config.planning.gpuMemoryTargetGb,
  };
}

/**
 * Each kind's plans identifier: the flags', else what planning writes with these settings (the named planner's,
 * else the 2D default's and the 3D planner's for the GPU memory target: nnUNetPlansv2.1, _big, _4GB ...).
 */
export function plansIdentifiersFor(config: Pick<Config, 'planning'>, flags: SettingsFlags): Required<PlansIdentifiers> {
  const named2d = flags.pl2d && !isNonePlanner(flags.pl2d) ? flags.pl2d : DEFAULT_PLANNER_2D;
  const gb = flags.gpuMemory ?? config.planning.gpuMemoryTargetGb;
  const named3d = flags.pl3d && !isNonePlanner(flags.pl3d) ? getPlanner(flags.pl3d) : planner3dForMemory(gb);
  return {
    '2d': flags.plans2d ?? flags.plans ?? getPlanner(named2d).plansIdentifier,
    '3d': flags.plans3d ?? flags.plans ?? named3d.plansIdentifier,
  };
}

export function stageSettings(config: Config, flags: SettingsFlags = {}): StageSettings {
  const planner = plannerSettings(config, flags);
  return {
    planner,
    plansIdentifiers: plansIdentifiersFor(config, flags),
    trainer: flags.trainer ?? config.training.trainer,
    epochs: flags.epochs ?? config.training.epochs,
    iterationsPerEpoch: flags.iters ?? config.training.iterationsPerEpoch,
    numProcesses: flags.processes ?? config.numProcesses,
    ...(flags.lowresProcesses !== undefined ? { numProcessesLowres: flags.lowresProcesses } : {}),
    checkpoint: flags.checkpoint ?? DEFAULT_CHECKPOINT,
  };
}

/** The plans identifier a configuration's model lives under. */
export const plansIdentifierFor = (s: Pick<StageSettings, 'plansIdentifiers'>, configuration: Configuration): string =>
  s.plansIdentifiers[plansKindOf(configuration)];

/**
 * Refuses, before any work starts, a trainer that neither the built-in list nor the folders of
 * `training.trainerPaths` define: a UsageError (exit 2) listing the known names. The trainers themselves (and tfjs)
 * are loaded only for a name that is not built in while trainer folders are configured.
 */
export function assertKnownTrainer(name: string, trainerPaths: readonly string[] = []): void {
  if (BUILTIN_TRAINER_NAMES.includes(name)) return;
  if (trainerPaths.length === 0) throw new UsageError(unknownTrainerMessage(name, BUILTIN_TRAINER_NAMES));
  const registry = require('../activities/training/trainer-registry') as typeof import('../activities/training/trainer-registry');
  try {
    registry.trainerClass(name, trainerPaths);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** nnU-Net v2's default trainer (v1's is nnUNetTrainerV2). */
export const DEFAULT_TRAINER_V2 = 'nnUNetTrainer';

/** What `--method v2` runs: the planner class, the plans name it writes, its GPU memory target (absent: the planner's own) and the trainer. */
export interface V2Settings {
  planner: string;
  plansName: string;
  gpuMemoryTargetGb?: number;
  trainer: string;
}

/** The method flag, else `planning.method`, else v1. */
export function methodFor(config: Pick<Config, 'planning'>, flag?: string): 'v1' | 'v2' {
  const m = flag ?? config.planning.method ?? 'v1';
  if (m !== 'v1' && m !== 'v2') throw new UsageError(`--method ${m}: use v1 (nnU-Net v1) or v2 (nnU-Net v2)`);
  return m;
}

/** The v2 planner: --planner, else `planning.v2Planner`, else ExperimentPlanner. */
export function v2PlannerFor(config: Pick<Config, 'planning'>, flag?: string): string {
  const planner = flag ?? config.planning.v2Planner ?? DEFAULT_PLANNER_V2;
  if (!isPlannerV2(planner)) throw new UsageError(`--planner ${planner}: not an nnU-Net v2 planner; use one of ${plannerNamesV2().join(', ')}`);
  return planner;
}

/**
 * `--method v2`'s settings: --planner, else `planning.v2Planner`, else ExperimentPlanner; --gpu-memory, else a
 * `planning.gpuMemoryTargetGb` other than nnU-Net's 8 (a v2 preset has its own target: ResEncL 24, XL 40); --trainer,
 * else `training.trainer` unless it is v1's default, else nnUNetTrainer.
 */
export function v2Settings(config: Pick<Config, 'planning' | 'training'>, flags: { planner?: string; gpuMemory?: number; trainer?: string } = {}): V2Settings {
  const planner = v2PlannerFor(config, flags.planner);
  const gb = flags.gpuMemory ?? (config.planning.gpuMemoryTargetGb !== PLANNING.defaultGpuMemoryGb ? config.planning.gpuMemoryTargetGb : undefined);
  const trainer = flags.trainer ?? (config.training.trainer !== DEFAULT_TRAINER_V1 ? config.training.trainer : DEFAULT_TRAINER_V2);
  if (!trainerNamesV2().includes(trainer)) throw new UsageError(`--trainer ${trainer}: not an nnU-Net v2 trainer; known: ${trainerNamesV2().join(', ')}`);
  return { planner, plansName: PLANNER_PRESETS_V2[planner]!.plansName, ...(gb !== undefined ? { gpuMemoryTargetGb: gb } : {}), trainer };
}
