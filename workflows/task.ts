/**
 * taskWorkflow: verify → fingerprint → plan → preprocess per configuration (parallel) → train folds ×
 * configurations (parallel; the cascade after all five 3d_lowres folds) → find-best → postprocess.
 * Deterministic: only @temporalio/workflow, the activity contract and the pure DAG model.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { CONFIGURATIONS, TASK_QUEUES, type PipelineActivities, type PlanOutput, type TrainOutput } from '../activities/contract';
import { NON_RETRYABLE_TYPES } from '../activities/common/errors';
import { buildDag, DagOptionsError, DEFAULT_TRAINER, nodeIds, plansFileFor, type Dag, type PlannedNode } from './dag';
import { cancelSignal, taskStateQuery, type CancelRequest } from './definitions';
import { DEFAULT_TIMING, type StepTiming, type TaskWorkflowInput } from './options';
import type { DagNode, NodeKind, TaskResult, TaskState, TrainedFold } from './state';

type Outcome<T> = { ok: true; value: T } | { ok: false };

const now = (): string => new Date().toISOString(); // workflow time: deterministic

/** Activity options of one node: queue, timeouts, retries; the node id is the activity id (state merges heartbeats by it). */
export function stepOptions(kind: NodeKind, activityId: string, timing: StepTiming = {}): ActivityOptions {
  const t = { ...DEFAULT_TIMING, ...timing };
  const retry = {
    initialInterval: t.retryInitialIntervalMs,
    maximumInterval: t.retryMaximumIntervalMs,
    backoffCoefficient: 2,
    maximumAttempts: t.retryMaximumAttempts > 0 ? t.retryMaximumAttempts : undefined, // 0: unlimited
    nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
  };
  const common = { activityId, retry, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
  if (kind === 'train') {
    return { ...common, taskQueue: TASK_QUEUES.gpu, startToCloseTimeout: t.trainStartToCloseMs, heartbeatTimeout: t.trainHeartbeatTimeoutMs };
  }
  return { ...common, taskQueue: TASK_QUEUES.cpu, startToCloseTimeout: t.cpuStartToCloseMs, heartbeatTimeout: timing.cpuHeartbeatTimeoutMs };
}

/** The failure's own message (an ActivityFailure wraps the activity's error as its cause). */
function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The attempt that failed, which the worker's error mapping records in the failure details. */
function failedAttempt(err: unknown): number | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? cause.details : undefined;
  const attempt = (details?.[0] as { attempt?: unknown } | undefined)?.attempt;
  return typeof attempt === 'number' ? attempt : undefined;
}

/** Runs the DAG's nodes, keeping the observable state; fail-fast on the first failed node. */
class TaskExecution {
  readonly nodes = new Map<string, DagNode>();
  readonly notes: string[] = [];
  private readonly outcomes = new Map<string, Promise<Outcome<unknown>>>();
  private readonly running = new Map<string, CancellationScope>();
  private readonly cancelRequested = new Set<string>();
  private stopReason?: string;
  failure?: { nodeId: string; message: string };
  taskCancelRequested = false;

  constructor(private readonly timing: StepTiming | undefined, readonly dagScope: CancellationScope) {}

  show(dag: Dag): void {
    for (const n of dag.nodes) {
      if (!this.nodes.has(n.id)) {
        this.nodes.set(n.id, { id: n.id, kind: n.kind, configuration: n.configuration, fold: n.fold, status: 'pending', attempt: 0, dependsOn: n.dependsOn });
      }
    }
  }

  /** After planning: nodes of the provisional DAG that the real one lacks are skipped. */
  replan(dag: Dag): void {
    const keep = new Set(dag.nodes.map((n) => n.id));
    for (const node of this.nodes.values()) {
      if (!keep.has(node.id) && node.status === 'pending') {
        node.status = 'skipped';
        node.error = 'not in the plan for this dataset or selection';
      }
    }
    this.show(dag);
    for (const n of dag.nodes) this.nodes.get(n.id)!.dependsOn = n.dependsOn;
    this.notes.push(...dag.notes);
  }

  cancel(req: CancelRequest): void {
    const reason = req.reason ?? 'cancelled by request';
    if (req.nodeId === undefined) {
      this.taskCancelRequested = true;
      this.stop(reason);
      return;
    }
    const node = this.nodes.get(req.nodeId);
    if (!node || node.status !== 'pending' && node.status !== 'running') return;
    this.cancelRequested.add(node.id);
    if (node.status === 'running') this.running.get(node.id)?.cancel();
    else {
      node.status = 'cancelled';
      node.error = reason;
    }
  }

  /** Stops everything: running nodes get activity cancellation, pending ones never start. */
  private stop(reason: string): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.dagScope.cancel();
  }

  get stopped(): boolean {
    return this.stopReason !== undefined || this.dagScope.consideredCancelled;
  }

  /** Schedules a node after its dependencies; the promise never rejects (no unhandled rejections in workflows). */
  schedule<T>(planned: PlannedNode, call: (acts: PipelineActivities) => Promise<T>, after: (value: T) => void = () => {}): Promise<Outcome<T>> {
    const outcome = this.dependenciesDone(planned).then(async (depsOk): Promise<Outcome<T>> => {
      const node = this.nodes.get(planned.id)!;
      if (!depsOk || this.stopped || this.cancelRequested.has(node.id)) {
        if (node.status === 'pending') {
          // Cancelled: the user asked (for this node or the task). Skipped: a failure upstream or elsewhere.
          const cancelled = this.cancelRequested.has(node.id) || (this.stopped && !this.failure);
          node.status = cancelled ? 'cancelled' : 'skipped';
          node.error = this.stopped ? this.stopReason ?? 'task cancelled' : 'a node it waits for did not complete';
        }
        return { ok: false };
      }
      const result = await this.run(node, call);
      if (result.ok) after(result.value);
      return result;
    });
    this.outcomes.set(planned.id, outcome);
    return outcome;
  }

  private async dependenciesDone(planned: PlannedNode): Promise<boolean> {
    const deps = await Promise.all(planned.dependsOn.map((id) => this.outcomes.get(id) ?? Promise.resolve<Outcome<unknown>>({ ok: false })));
    return deps.every((d) => d.ok);
  }

  private async run<T>(node: DagNode, call: (acts: PipelineActivities) => Promise<T>): Promise<Outcome<T>> {
    node.status = 'running';
    node.attempt = 1;
    node.startedAt = now();
    const scope = new CancellationScope();
    this.running.set(node.id, scope);
    try {
      const acts = proxyActivities<PipelineActivities>(stepOptions(node.kind, node.id, this.timing));
      const value = await scope.run(() => call(acts));
      node.status = 'done';
      return { ok: true, value };
    } catch (err) {
      if (isCancellation(err)) {
        node.status = 'cancelled';
        node.error = this.cancelRequested.has(node.id) ? 'cancelled by request' : this.stopReason ?? 'task cancelled';
      } else {
        node.status = 'failed';
        node.error = failureMessage(err);
        node.attempt = failedAttempt(err) ?? node.attempt;
        this.failure ??= { nodeId: node.id, message: node.error };
        this.stop(`stopped because ${node.id} failed`);
      }
      return { ok: false };
    } finally {
      node.endedAt = now();
      this.running.delete(node.id);
    }
  }

  async settled(): Promise<void> {
    await Promise.all(this.outcomes.values());
  }
}

function nodeOf(dag: Dag, id: string): PlannedNode {
  const n = dag.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`DAG has no node ${id}`);
  return n;
}

const wallMs = (n: DagNode): number => (n.startedAt && n.endedAt ? Date.parse(n.endedAt) - Date.parse(n.startedAt) : 0);

function buildDagOrFail(planned: readonly (typeof CONFIGURATIONS)[number][], input: TaskWorkflowInput): Dag {
  try {
    return buildDag(planned, input.options);
  } catch (err) {
    if (err instanceof DagOptionsError) throw ApplicationFailure.nonRetryable(err.message, 'BadInput');
    throw err;
  }
}

/** Runs everything after planning; returns the result parts the DAG produced. */
async function runAfterPlan(exec: TaskExecution, dag: Dag, input: TaskWorkflowInput, plan: PlanOutput, result: TaskResult): Promise<void> {
  const { paths } = input;
  const options = input.options ?? {};
  const trainer = options.trainer ?? DEFAULT_TRAINER;
  const saveSoftmax = options.saveSoftmax ?? dag.nodes.some((n) => n.kind === 'findBest');
  const trained: Array<{ node: DagNode; out: TrainOutput }> = [];
  for (const n of dag.nodes) {
    if (n.kind === 'preprocess') {
      void exec.schedule(n, (a) => a.preprocess({ paths, plansFile: plansFileFor(plan, n.configuration!), configuration: n.configuration!, numProcesses: options.numProcesses ?? 8 }));
    } else if (n.kind === 'train') {
      void exec.schedule(
        n,
        (a) => a.train({
          paths,
          plansFile: plansFileFor(plan, n.configuration!),
          configuration: n.configuration!,
          fold: n.fold!,
          trainer,
          epochs: options.epochs,
          iterationsPerEpoch: options.iterationsPerEpoch,
          continueTraining: options.continueTraining,
          saveSoftmax,
        }),
        (out) => {
          const node = exec.nodes.get(n.id)!;
          node.progress = { ...node.progress, epoch: out.epochs, totalEpochs: out.epochs, checkpoint: out.finalCheckpoint };
          trained.push({ node, out });
        },
      );
    }
  }
  if (dag.nodes.some((n) => n.id === nodeIds.findBest)) {
    void exec.schedule(
      nodeOf(dag, nodeIds.findBest),
      (a) => a.findBestConfiguration({ paths, trainer, plansIdentifier: plan.plansIdentifier, configurations: dag.configurations, folds: dag.cvFolds, strict: options.strictFindBest }),
      (best) => { result.best = best; },
    );
  }
  if (dag.nodes.some((n) => n.id === nodeIds.postprocess)) {
    void exec.schedule(
      nodeOf(dag, nodeIds.postprocess),
      (a) => a.postprocess({ paths, winner: result.best!.winner, trainer, plansIdentifier: plan.plansIdentifier, folds: dag.cvFolds }),
      (pp) => { result.postprocessing = pp; },
    );
  }
  await exec.settled();
  result.training = trained.map(({ node, out }): TrainedFold => ({
    configuration: node.configuration!,
    fold: node.fold!,
    epochs: out.epochs,
    validationMeanDice: out.validationMeanDice,
    wallTimeMs: wallMs(node),
  }));
}

export async function taskWorkflow(input: TaskWorkflowInput): Promise<TaskResult> {
  const { paths } = input;
  const options = input.options ?? {};
  const startedAt = now();
  const exec = new TaskExecution(input.timing, new CancellationScope());
  const result: TaskResult = { task: paths.taskName, configurations: [], startedAt, notes: exec.notes };
  let status: TaskState['status'] = 'running';
  setHandler(taskStateQuery, (): TaskState => ({
    workflowId: workflowInfo().workflowId,
    task: paths.taskName,
    status,
    nodes: [...exec.nodes.values()],
    result: status === 'completed' ? result : undefined,
    notes: exec.notes,
  }));
  setHandler(cancelSignal, (req) => exec.cancel(req ?? {}));

  // Before planning the DAG is provisional: every selected configuration, as if planning created it.
  const provisional = buildDagOrFail(CONFIGURATIONS, input);
  exec.show(provisional);
  if (options.skipVerify) {
    const v = exec.nodes.get(nodeIds.verify)!;
    v.status = 'skipped';
    v.error = 'verification not requested';
  }

  await exec.dagScope.run(async () => {
    let fingerprintFile = '';
    if (!options.skipVerify) void exec.schedule(nodeOf(provisional, nodeIds.verify), (a) => a.verifyDataset({ paths }));
    const fingerprintNode = { ...nodeOf(provisional, nodeIds.fingerprint), dependsOn: options.skipVerify ? [] : [nodeIds.verify] };
    void exec.schedule(fingerprintNode, (a) => a.fingerprint({ paths, numProcesses: options.numProcesses ?? 8 }), (out) => {
      fingerprintFile = out.fingerprintFile;
    });
    const planned = await exec.schedule(nodeOf(provisional, nodeIds.plan), (a) =>
      a.plan({ paths, fingerprintFile, planner: options.planner, gpuMemoryTargetGb: options.gpuMemoryTargetGb }));
    if (!planned.ok) {
      await exec.settled();
      return;
    }
    const dag = buildDagOrFail(planned.value.configurations, input);
    exec.replan(dag);
    result.configurations = dag.configurations;
    await runAfterPlan(exec, dag, input, planned.value, result);
  });

  result.endedAt = now();
  result.wallTimeMs = Date.parse(result.endedAt) - Date.parse(startedAt);
  if (CancellationScope.current().consideredCancelled) {
    status = 'cancelled';
    throw new CancelledFailure('task workflow cancelled');
  }
  if (exec.failure) {
    status = 'failed';
    throw ApplicationFailure.nonRetryable(`${exec.failure.nodeId} failed: ${exec.failure.message}`, 'NodeFailed');
  }
  if (exec.taskCancelRequested) {
    status = 'cancelled';
    throw ApplicationFailure.nonRetryable('task cancelled by request', 'TaskCancelled');
  }
  status = 'completed';
  return result;
}
