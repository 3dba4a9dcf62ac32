/** Sweep workflow input, state and result, and the pure function that turns task results into report rows. */
import type { CandidateResult, Configuration, TaskPaths } from '../activities/contract';
import type { SweepRow } from '../activities/report/contract';
import type { StepTiming, TaskOptions } from './options';
import type { TaskResult } from './state';

export interface SweepTask {
  /** The task number or name its workflow id is made from (`4` → nnunet-task-004). */
  taskId: number | string;
  paths: TaskPaths;
  /** The method variant this run is ('v1', 'v2', 'v2:nnUNetPlannerResEncM'); absent in sweeps without variants. */
  variant?: string;
  /** With a variant: its own workflow id (a v2 run's names its plans), so the variants of a task are separate runs. */
  workflowId?: string;
  /** With a variant: its options over the sweep's (method, planner, GPU memory target, trainer). */
  options?: Partial<TaskOptions>;
  /** With a variant: the task's name in the report, the same for every variant (v2 runs on a Dataset folder). */
  task?: string;
}

export interface SweepInput {
  name: string;
  tasks: SweepTask[];
  /** Configurations for every task; default: all that each task's planning creates. */
  configurations?: Configuration[];
  /** Folds, trainer, epochs ... for every task. */
  options?: Omit<TaskOptions, 'configurations'>;
  timing?: StepTiming;
  /** Task workflows running at once (default 1). */
  maxConcurrentTasks?: number;
  /** Where the CSV and Markdown report go. */
  reportDir: string;
  /** Continue-as-new after this many history events; by default when the server suggests it. */
  maxHistoryEvents?: number;
  /** Set by the workflow itself when it continues as new. */
  carried?: SweepCarry;
}

export interface SweepCarry {
  outcomes: SweepTaskOutcome[];
  startedAt: string;
  /** Runs before this one (continue-as-new count). */
  runs: number;
}

export interface SweepTaskOutcome {
  taskId: number | string;
  /** The task's variant, when the sweep has variants. */
  variant?: string;
  /** The task folder name (paths.taskName). */
  task: string;
  workflowId: string;
  status: 'completed' | 'failed';
  error?: string;
  result?: TaskResult;
}

export interface SweepState {
  name: string;
  running: string[];
  waiting: string[];
  outcomes: SweepTaskOutcome[];
  runs: number;
}

export interface SweepResult {
  name: string;
  rows: SweepRow[];
  report: { csvFile: string; markdownFile: string; plotFile?: string };
  startedAt: string;
  endedAt: string;
  wallTimeMs: number;
  /** How many times the sweep continued as new. */
  runs: number;
}

const mean = (xs: number[]): number | undefined => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

function bestEnsemble(r: TaskResult): CandidateResult | undefined {
  const ensembles = (r.best?.candidates ?? []).filter((k) => k.configurations.length > 1);
  return ensembles.reduce<CandidateResult | undefined>((b, k) => (!b || k.meanForegroundDice > b.meanForegroundDice ? k : b), undefined);
}

/** One row per task × configuration: find-best's Dice when it ran, else the mean over the trained folds. */
export function sweepRows(outcomes: SweepTaskOutcome[], configurations: Configuration[] | undefined): SweepRow[] {
  const rows: SweepRow[] = [];
  for (const o of outcomes) {
    const r = o.result;
    const task = o.task;
    const variant = o.variant !== undefined ? { variant: o.variant } : {};
    if (o.status === 'failed' || !r) {
      for (const c of configurations ?? ['-']) rows.push({ task, ...variant, configuration: c, status: 'failed', error: o.error });
      continue;
    }
    const taskWallTimeS = r.wallTimeMs !== undefined ? r.wallTimeMs / 1000 : undefined;
    const ensemble = bestEnsemble(r);
    for (const c of r.configurations) {
      const folds = (r.training ?? []).filter((t) => t.configuration === c);
      const single = r.best?.candidates.find((k) => k.configurations.length === 1 && k.configurations[0] === c);
      rows.push({
        task,
        ...variant,
        configuration: c,
        status: 'completed',
        meanForegroundDice: single?.meanForegroundDice ?? mean(folds.flatMap((f) => (f.validationMeanDice === undefined ? [] : [f.validationMeanDice]))),
        dicePerClass: single?.dicePerClass,
        bestConfiguration: r.best?.winner.name,
        bestEnsemble: ensemble?.name,
        bestEnsembleDice: ensemble?.meanForegroundDice,
        epochs: folds.length ? Math.max(...folds.map((f) => f.epochs)) : undefined,
        trainTimeS: folds.reduce((s, f) => s + f.wallTimeMs, 0) / 1000,
        taskWallTimeS,
      });
    }
  }
  return rows;
}
