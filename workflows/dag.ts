/**
 * The task DAG as pure data (no Temporal imports): which nodes run and what each waits for, given the
 * configurations planning created and the user's options. The task workflow executes it; tests check it
 * without a server.
 */
import { CONFIGURATIONS, FOLDS, validationSettingsProblem, type Configuration, type Fold, type Method, type PlanOutput, type ValidationSettings } from '../activities/contract';
import type { NodeKind } from './state';

export { DEFAULT_TRAINER } from '../activities/io/layout-names';
export const CV_FOLDS: readonly Fold[] = FOLDS;

/** What the user selects; every field is optional and defaults to nnU-Net's full pipeline. */
export interface DagOptions {
  /** Subset of configurations to train; default: every configuration planning created. */
  configurations?: Configuration[];
  /** Folds to train: any of 0..4 and 'all' (train on all cases); default 0..4. */
  folds?: Fold[];
  trainer?: string;
  epochs?: number;
  iterationsPerEpoch?: number;
  /** Each fold's final validation: TTA and sliding-window step; default nnU-Net's (TTA on, 0.5). */
  validation?: ValidationSettings;
  /** Run find-best-configuration (needs at least one cross-validation fold); default true. */
  findBest?: boolean;
  /** Run postprocessing after find-best; default true. */
  postprocess?: boolean;
  /** Predict the test set (imagesTs) with find-best's winner after postprocessing; default false (the client turns it on when imagesTs exists). */
  predict?: boolean;
  /** 'preprocess': plan and preprocess only (nnUNet_plan_and_preprocess); later nodes are kept but skipped. */
  stopAfter?: 'preprocess';
  /** 'v2': every step runs nnU-Net v2's method (same nodes: the cascade's second stage trains on v2's predicted_next_stage). */
  method?: Method;
  /**
   * Set by the task workflow only, when it replays a v2 history recorded before the v2 trainer had the cascade:
   * that run's DAG left 3d_cascade_fullres out, and its replay must too.
   */
  v2WithoutCascade?: boolean;
}

export interface PlannedNode {
  id: string;
  kind: NodeKind;
  configuration?: Configuration;
  fold?: Fold;
  /** Ids of nodes that must be done before this one starts. */
  dependsOn: string[];
  /** Set when the node is part of the pipeline but not run this time: why (shown as the skipped node's note). */
  skip?: string;
}

export interface Dag {
  nodes: PlannedNode[];
  /** Configurations that will be trained, in pipeline order. */
  configurations: Configuration[];
  /** The selected folds (before any the cascade adds to 3d_lowres). */
  folds: Fold[];
  /** Cross-validation folds find-best evaluates (selected folds without 'all'). */
  cvFolds: Fold[];
  /** Why a selected configuration or fold was dropped or added, for the user. */
  notes: string[];
}

/** Options the DAG cannot honour: the workflow turns this into a non-retryable BadInput failure. */
export class DagOptionsError extends Error {
  override readonly name = 'BadInput';
}

export const nodeIds = {
  verify: 'verify',
  fingerprint: 'fingerprint',
  plan: 'plan',
  preprocess: (c: Configuration) => `preprocess/${c}`,
  train: (c: Configuration, f: Fold) => `train/${c}/${f}`,
  findBest: 'findBest',
  postprocess: 'postprocess',
  predict: 'predict',
} as const;

/** The preprocessed data a configuration trains on: the cascade's second stage uses 3d_fullres data. */
export function dataConfiguration(c: Configuration): Configuration {
  return c === '3d_cascade_fullres' ? '3d_fullres' : c;
}

/** The plans file a configuration reads: 2d has its own, every 3d configuration shares the 3d one. */
export function plansFileFor(plan: PlanOutput, c: Configuration): string {
  const file = c === '2d' ? plan.plansFiles['2d'] : plan.plansFiles['3d'];
  if (!file) throw new DagOptionsError(`planning produced no ${c === '2d' ? '2d' : '3d'} plans file for ${c}`);
  return file;
}

function checkOptions(options: DagOptions): void {
  for (const c of options.configurations ?? []) {
    if (!CONFIGURATIONS.includes(c)) {
      throw new DagOptionsError(`unknown configuration '${c}': use one of ${CONFIGURATIONS.join(', ')}`);
    }
  }
  for (const f of options.folds ?? []) {
    if (f !== 'all' && !FOLDS.includes(f)) throw new DagOptionsError(`unknown fold '${String(f)}': use 0..4 or 'all'`);
  }
  if (options.folds && options.folds.length === 0) throw new DagOptionsError('no folds selected: use 0..4 or all');
  if (options.configurations && options.configurations.length === 0) throw new DagOptionsError('no configurations selected');
  if (options.method !== undefined && options.method !== 'v2') throw new DagOptionsError(`unknown method '${String(options.method)}': leave it out (nnU-Net v1) or use 'v2'`);
  if (options.stopAfter !== undefined && options.stopAfter !== 'preprocess') throw new DagOptionsError(`unknown stopAfter '${String(options.stopAfter)}': use 'preprocess'`);
  for (const key of ['epochs', 'iterationsPerEpoch'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new DagOptionsError(`${key} must be a positive integer, got ${v}`);
  }
  const validationProblem = options.validation && validationSettingsProblem(options.validation);
  if (validationProblem) throw new DagOptionsError(validationProblem);
}

/** Selected folds, de-duplicated, in canonical order (0..4 then 'all'). */
function normaliseFolds(folds: Fold[] | undefined): Fold[] {
  const wanted = new Set<Fold>(folds ?? CV_FOLDS);
  return [...CV_FOLDS, 'all' as const].filter((f) => wanted.has(f));
}

/** Which configurations to train, in pipeline order, with notes for the ones dropped. */
function selectConfigurations(planned: readonly Configuration[], options: DagOptions, notes: string[]): Configuration[] {
  const wanted = new Set(options.configurations ?? planned);
  const selected: Configuration[] = [];
  for (const c of CONFIGURATIONS) {
    if (!wanted.has(c)) continue;
    if (!planned.includes(c)) {
      notes.push(`${c} skipped: planning did not create it for this dataset`);
    } else if (c === '3d_cascade_fullres' && options.method === 'v2' && options.v2WithoutCascade) {
      notes.push('3d_cascade_fullres skipped: the nnU-Net v2 trainer has no cascade yet');
    } else if (c === '3d_cascade_fullres' && !(planned.includes('3d_lowres') && wanted.has('3d_lowres'))) {
      notes.push('3d_cascade_fullres skipped: it needs 3d_lowres, which was not planned or not selected');
    } else {
      selected.push(c);
    }
  }
  return selected;
}

/** Builds the DAG. Throws DagOptionsError for options no dataset could satisfy. */
export function buildDag(planned: readonly Configuration[], options: DagOptions = {}): Dag {
  checkOptions(options);
  const notes: string[] = [];
  const configurations = selectConfigurations(planned, options, notes);
  const folds = normaliseFolds(options.folds);
  const nodes: PlannedNode[] = [
    { id: nodeIds.verify, kind: 'verify', dependsOn: [] },
    { id: nodeIds.fingerprint, kind: 'fingerprint', dependsOn: [nodeIds.verify] },
    { id: nodeIds.plan, kind: 'plan', dependsOn: [nodeIds.fingerprint] },
  ];
  const dataConfigs = CONFIGURATIONS.filter((d) => configurations.some((c) => dataConfiguration(c) === d));
  for (const d of dataConfigs) {
    nodes.push({ id: nodeIds.preprocess(d), kind: 'preprocess', configuration: d, dependsOn: [nodeIds.plan] });
  }
  const cascade = configurations.includes('3d_cascade_fullres');
  const trainNodes: PlannedNode[] = [];
  for (const c of configurations) {
    // The cascade needs the lowres predictions of every training case: all five lowres folds.
    const cFolds = c === '3d_lowres' && cascade ? normaliseFolds([...folds, ...CV_FOLDS]) : folds;
    if (cFolds.length !== folds.length) notes.push('3d_lowres folds 0-4 added: the cascade needs all five');
    for (const f of cFolds) {
      const dependsOn = [nodeIds.preprocess(dataConfiguration(c))];
      if (c === '3d_cascade_fullres') dependsOn.push(...CV_FOLDS.map((lf) => nodeIds.train('3d_lowres', lf)));
      trainNodes.push({ id: nodeIds.train(c, f), kind: 'train', configuration: c, fold: f, dependsOn });
    }
  }
  nodes.push(...trainNodes);
  const cvFolds = folds.filter((f) => f !== 'all');
  const findBest = options.findBest !== false && cvFolds.length > 0 && configurations.length > 0;
  if (options.findBest !== false && !findBest) notes.push('find-best-configuration skipped: it needs at least one cross-validation fold (0-4)');
  if (findBest) {
    const cvTrain = trainNodes.filter((n) => n.fold !== 'all').map((n) => n.id);
    nodes.push({ id: nodeIds.findBest, kind: 'findBest', dependsOn: cvTrain });
    if (options.postprocess !== false) {
      nodes.push({ id: nodeIds.postprocess, kind: 'postprocess', dependsOn: [nodeIds.findBest] });
    }
    if (options.predict) {
      nodes.push({ id: nodeIds.predict, kind: 'predict', dependsOn: [options.postprocess !== false ? nodeIds.postprocess : nodeIds.findBest] });
    }
  }
  if (options.stopAfter === 'preprocess') {
    const reason = 'stopped after preprocessing (plan-and-preprocess)';
    for (const n of nodes) if (n.kind === 'train' || n.kind === 'findBest' || n.kind === 'postprocess' || n.kind === 'predict') n.skip = reason;
    notes.push(`training, find-best and postprocessing ${reason}`);
  }
  return { nodes, configurations, folds, cvFolds, notes };
}
