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
  ChildWorkflowFailure,
  executeChild,
  CancelledFailure,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { CONFIGURATIONS, plansByKind, plansKindOf, TASK_QUEUES, NON_RETRYABLE_TYPES, type PipelineActivities, type PlanOutput, type TrainInput, type TrainOutput } from '../activities/contract';
import { buildDag, DagOptionsError, DEFAULT_TRAINER, nodeIds, plansFileFor, type Dag, type PlannedNode } from './dag';
import { cancelSignal, selectSignal, taskStateQuery, type CancelRequest } from './definitions';
import { DEFAULT_TIMING, LEGACY_HEARTBEAT_TIMEOUTS, SHORT_HEARTBEATS_PATCH, WORKFLOW_TASK_QUEUE, type StepTiming, type TaskOptions, type TaskWorkflowInput } from './options';
import { foldWorkflowIdUnder, v2FoldWorkflowId, type DagNode, type FoldResult, type NodeKind, type TaskResult, type TaskState, type TrainedFold } from './state';

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
  if (kind === 'predict') {
    // inference runs where the GPUs are; the worker heartbeats it like a CPU step
    return { ...common, taskQueue: TASK_QUEUES.gpu, startToCloseTimeout: t.cpuStartToCloseMs, heartbeatTimeout: t.cpuHeartbeatTimeoutMs };
  }
  return { ...common, taskQueue: TASK_QUEUES.cpu, startToCloseTimeout: t.cpuStartToCloseMs, heartbeatTimeout: t.cpuHeartbeatTimeoutMs };
}

/** The failure's own message (an ActivityFailure, or a fold's ChildWorkflowFailure, wraps the error as its cause). */
export function failureMessage(err: unknown): string {
  const cause = (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause ? err.cause : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The attempt that failed, which the worker's error mapping records in the failure details. */
export function failedAttempt(err: unknown): number | undefined {
  const cause = err instanceof ActivityFailure || err instanceof ChildWorkflowFailure ? err.cause : undefined;
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
  private readonly cancelRequested = new Map<string, string>();
  private readonly settledOk = new Map<string, boolean>();
  /** Nodes shown as skipped because the DAG dropped them (they come back if a later DAG has them). */
  private readonly hidden = new Set<string>();
  private stopReason?: string;
  failure?: { nodeId: string; message: string };
  taskCancelRequested = false;

  constructor(private readonly timing: StepTiming | undefined, readonly dagScope: CancellationScope) {}

  /** Adds the DAG's new nodes as pending and refreshes every node's dependencies. */
  show(dag: Dag): void {
    for (const n of dag.nodes) {
      const node = this.nodes.get(n.id);
      if (!node) {
        this.nodes.set(n.id, { id: n.id, kind: n.kind, configuration: n.configuration, fold: n.fold, status: 'pending', attempt: 0, dependsOn: n.dependsOn });
      } else {
        node.dependsOn = n.dependsOn;
        if (this.hidden.delete(n.id) && !this.isScheduled(n.id)) {
          node.status = 'pending'; // dropped by an earlier DAG, selected again
          node.error = undefined;
        }
      }
    }
  }

  /** Pending nodes of an earlier provisional DAG that this one lacks are shown as skipped. */
  hideMissing(dag: Dag, reason: string): void {
    const keep = new Set(dag.nodes.map((n) => n.id));
    for (const node of this.nodes.values()) {
      if (!keep.has(node.id) && node.status === 'pending' && !this.isScheduled(node.id)) {
        node.status = 'skipped';
        node.error = reason;
        this.hidden.add(node.id);
      }
    }
  }

  /** After planning, a selection change: scheduled nodes the new DAG lacks are cancelled. */
  cancelMissing(dag: Dag, reason: string): void {
    const keep = new Set(dag.nodes.map((n) => n.id));
    for (const node of this.nodes.values()) {
      if (!keep.has(node.id) && this.isScheduled(node.id)) this.cancel({ nodeId: node.id, reason });
    }
    this.hideMissing(dag, reason);
  }

  isScheduled(id: string): boolean {
    return this.outcomes.has(id);
  }

  /** Undefined while the node has not finished; then whether it succeeded. */
  succeeded(id: string): boolean | undefined {
    return this.settledOk.get(id);
  }

  /** After planning: nodes of the provisional DAG that the real one lacks are skipped. */
  replan(dag: Dag): void {
    this.hideMissing(dag, 'not in the plan for this dataset or selection');
    this.show(dag);
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
    this.cancelRequested.set(node.id, reason);
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

  /**
   * Schedules a node after its dependencies (or a custom readiness check: true, or why it cannot run).
   * The promise never rejects (no unhandled rejections in workflows).
   */
  schedule<T>(
    planned: PlannedNode,
    call: (acts: PipelineActivities) => Promise<T>,
    after: (value: T) => void = () => {},
    ready: () => Promise<true | string> = () => this.dependenciesDone(planned),
  ): Promise<Outcome<T>> {
    const outcome = ready().catch(() => 'task stopped').then(async (readiness): Promise<Outcome<T>> => {
      const node = this.nodes.get(planned.id)!;
      if (readiness !== true || this.stopped || this.cancelRequested.has(node.id)) {
        if (node.status === 'pending') {
          // Cancelled: the user asked (for this node or the task). Skipped: a failure upstream or elsewhere.
          const cancelled = this.cancelRequested.has(node.id) || (this.stopped && !this.failure);
          node.status = cancelled ? 'cancelled' : 'skipped';
          node.error = this.cancelRequested.get(node.id) ?? (this.stopped ? this.stopReason ?? 'task cancelled' : readiness === true ? 'skipped' : readiness);
        }
        return { ok: false };
      }
      const result = await this.run(node, call);
      if (result.ok) after(result.value);
      return result;
    }).then((o) => {
      this.settledOk.set(planned.id, o.ok);
      return o;
    });
    this.outcomes.set(planned.id, outcome);
    return outcome;
  }

  private async dependenciesDone(planned: PlannedNode): Promise<true | string> {
    const deps = await Promise.all(planned.dependsOn.map((id) => this.outcomes.get(id) ?? Promise.resolve<Outcome<unknown>>({ ok: false })));
    return deps.every((d) => d.ok) || 'a node it waits for did not complete';
  }

  private async run<T>(node: DagNode, call: (acts: PipelineActivities) => Promise<T>): Promise<Outcome<T>> {
    node.status = 'running';
    node.attempt = 1;
    node.startedAt = now();
    // Under the DAG scope even when scheduled from a signal handler, so a task stop reaches it.
    const scope = new CancellationScope({ cancellable: true, parent: this.dagScope });
    this.running.set(node.id, scope);
    try {
      const acts = proxyActivities<PipelineActivities>(stepOptions(node.kind, node.id, this.timing));
      const value = await scope.run(() => call(acts));
      node.status = 'done';
      return { ok: true, value };
    } catch (err) {
      if (isCancellation(err)) {
        node.status = 'cancelled';
        node.error = this.cancelRequested.get(node.id) ?? this.stopReason ?? 'task cancelled';
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

  /** Waits until every scheduled node has finished, including nodes scheduled meanwhile (selection changes). */
  async settled(): Promise<void> {
    for (let n = -1; n !== this.outcomes.size;) {
      n = this.outcomes.size;
      await Promise.all(this.outcomes.values());
    }
  }
}

function nodeOf(dag: Dag, id: string): PlannedNode {
  const n = dag.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`DAG has no node ${id}`);
  return n;
}

const wallMs = (n: DagNode): number => (n.startedAt && n.endedAt ? Date.parse(n.endedAt) - Date.parse(n.startedAt) : 0);

function buildDagOrFail(planned: readonly (typeof CONFIGURATIONS)[number][], options: TaskOptions): Dag {
  try {
    return buildDag(planned, options);
  } catch (err) {
    if (err instanceof DagOptionsError) throw ApplicationFailure.nonRetryable(err.message, 'BadInput');
    throw err;
  }
}

/** Everything after planning, re-entrant: a selection change schedules the nodes the new DAG adds. */
class AfterPlan {
  readonly trained: Array<{ node: DagNode; out: TrainOutput }> = [];
  constructor(
    private readonly exec: TaskExecution,
    public dag: Dag,
    private readonly input: TaskWorkflowInput,
    private readonly plan: PlanOutput,
    private readonly result: TaskResult,
    private readonly options: () => TaskOptions,
  ) {}

  private cvTrainNodes(): PlannedNode[] {
    return this.dag.nodes.filter((n) => n.kind === 'train' && n.fold !== 'all');
  }

  /** find-best waits for the cross-validation folds of the DAG as it is when they have all finished. */
  private async findBestReady(): Promise<true | string> {
    await condition(() => this.cvTrainNodes().every((n) => this.exec.succeeded(n.id) !== undefined));
    if (!this.dag.nodes.some((n) => n.id === nodeIds.findBest)) return 'no longer in the selection';
    return this.cvTrainNodes().every((n) => this.exec.succeeded(n.id)) || 'a training it waits for did not complete';
  }

  /** Schedules every node of the current DAG that is not scheduled yet. */
  scheduleNew(): void {
    const { exec, input, plan, result } = this;
    const { paths } = input;
    for (const n of this.dag.nodes) {
      if (exec.isScheduled(n.id)) continue;
      const options = this.options();
      const trainer = options.trainer ?? DEFAULT_TRAINER;
      // Absent for v1, so v1 inputs stay as recorded before v2 existed.
      const method = methodField(options);
      const skip = n.skip;
      if (skip !== undefined) {
        // Never runs; settles as skipped so nodes waiting on it settle too.
        void exec.schedule(n, () => Promise.reject(new Error('unreachable')), undefined, () => Promise.resolve(skip));
      } else if (n.kind === 'preprocess') {
        const numProcesses = (n.configuration === '3d_lowres' ? options.numProcessesLowres : undefined) ?? options.numProcesses ?? 8;
        void exec.schedule(n, (a) => a.preprocess({ paths, plansFile: plansFileFor(plan, n.configuration!), configuration: n.configuration!, numProcesses, ...method }));
      } else if (n.kind === 'train') {
        const trainInput = (): TrainInput => ({
            paths,
            plansFile: plansFileFor(plan, n.configuration!),
            // The model folder's identifier, passed rather than read back from the plans file's name.
            ...(patched('train-plans-identifier') ? { plansIdentifier: plansByKind(plan)[plansKindOf(n.configuration!)] } : {}),
            configuration: n.configuration!,
            fold: n.fold!,
            trainer,
            epochs: options.epochs,
            iterationsPerEpoch: options.iterationsPerEpoch,
            continueTraining: options.continueTraining,
            saveSoftmax: options.saveSoftmax ?? this.dag.nodes.some((x) => x.kind === 'findBest'),
            // Absent unless asked for: the activity applies nnU-Net's defaults.
            ...(options.validation ? { validation: options.validation } : {}),
            ...(options.method === 'v2' ? { method: 'v2' as const, plansName: plan.plansIdentifier } : {}),
          });
        void exec.schedule(
          n,
          // Each fold as a child fold workflow, the durable unit nnUNet_train runs too (same id: never twice at once).
          (a) => (patched('train-as-fold-workflow') ? this.trainInFoldWorkflow(trainInput()) : a.train(trainInput())),
          (out) => {
            const node = exec.nodes.get(n.id)!;
            node.progress = { ...node.progress, epoch: out.epochs, totalEpochs: out.epochs, checkpoint: out.finalCheckpoint };
            node.ranMs = out.wallTimeMs;
            this.trained.push({ node, out });
          },
        );
      } else if (n.kind === 'findBest') {
        void exec.schedule(
          n,
          (a) => a.findBestConfiguration({ paths, trainer, plansIdentifier: plan.plansIdentifier, plansIdentifiers: plan.plansIdentifiers, configurations: this.dag.configurations, folds: this.dag.cvFolds, strict: options.strictFindBest, ...method }),
          (best) => { result.best = best; },
          () => this.findBestReady(),
        );
      } else if (n.kind === 'postprocess') {
        void exec.schedule(
          n,
          (a) => a.postprocess({ paths, winner: result.best!.winner, trainer, plansIdentifier: plan.plansIdentifier, plansIdentifiers: plan.plansIdentifiers, folds: this.dag.cvFolds, ...method }),
          (pp) => { result.postprocessing = pp; },
        );
      } else if (n.kind === 'predict') {
        void exec.schedule(
          n,
          (a) => a.predictTestSet({ paths, winner: result.best!.winner, trainer, plansIdentifier: plan.plansIdentifier, plansIdentifiers: plan.plansIdentifiers, ...method }),
          (prediction) => { result.prediction = prediction; },
        );
      }
    }
  }

  /**
   * One fold through its fold workflow (continuing, like the activity always did); its output as the activity's.
   * An nnUNet_train (a v2 fold: nnUNetv2_train) call may be training that fold under the same id already: the task
   * waits for it to end, then its own child continues the fold, which (finished) returns that output from disk at once.
   */
  private async trainInFoldWorkflow(train: TrainInput): Promise<TrainOutput> {
    const workflowId = foldWorkflowIdOf(train);
    const start = () => executeChild('foldWorkflow', {
      workflowId,
      taskQueue: WORKFLOW_TASK_QUEUE,
      args: [{ train, timing: this.input.timing }],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    }) as Promise<FoldResult>;
    const say = (note: string): void => { this.exec.notes.push(note); };
    const result = patched(ATTACH_RUNNING_FOLD_PATCH) ? await startAfterRunningFold(start, workflowId, train.method === 'v2' ? 'nnUNetv2_train' : 'nnUNet_train', say, this.input.timing) : await start();
    if (!result.trainOutput) throw ApplicationFailure.nonRetryable(`${workflowId} returned no training output`, 'NodeFailed');
    return result.trainOutput;
  }

  trainedFolds(): TrainedFold[] {
    return this.trained.map(({ node, out }) => ({
      configuration: node.configuration!,
      fold: node.fold!,
      epochs: out.epochs,
      validationMeanDice: out.validationMeanDice,
      wallTimeMs: out.wallTimeMs ?? wallMs(node),
    }));
  }
}

/**
 * A fold's child workflow id: the one its own training command uses, so `nnunet run` and nnUNet_train /
 * nnUNetv2_train never train one fold twice at once. v2 histories recorded before V2_FOLD_ID_PATCH used v1's scheme.
 */
function foldWorkflowIdOf(train: TrainInput): string {
  if (train.method === 'v2' && patched(V2_FOLD_ID_PATCH)) {
    return v2FoldWorkflowId(train.paths.taskName, train.trainer, train.plansName ?? '', train.configuration, train.fold);
  }
  return foldWorkflowIdUnder(workflowInfo().workflowId, train.configuration, train.trainer, train.plansIdentifier ?? '', train.fold);
}

/** v2 folds run under nnUNetv2_train's fold workflow id (v2FoldWorkflowId); earlier v2 histories under v1's. */
export const V2_FOLD_ID_PATCH = 'v2-fold-workflow-id';
/** v2 runs train 3d_cascade_fullres; histories recorded before it replay without the cascade. */
export const V2_CASCADE_PATCH = 'v2-cascade';

/** Histories recorded before it fail the node when the fold's id is busy; newer ones wait for that fold workflow. */
export const ATTACH_RUNNING_FOLD_PATCH = 'wait-for-running-fold-workflow';

/**
 * Starts the child; while another fold workflow (an nnUNet_train or nnUNetv2_train call) holds its id, polls until
 * it has ended and says so on the node. A workflow cannot await a workflow it did not start, and Temporal has no "use the running
 * one" policy for children, so the poll is the wait; the child then finds the fold finished (or continues it).
 */
async function startAfterRunningFold<T>(start: () => Promise<T>, workflowId: string, command: string, say: (note: string) => void, timing: StepTiming | undefined): Promise<T> {
  const pollMs = { ...DEFAULT_TIMING, ...timing }.runningFoldPollMs;
  for (let waited = false; ; waited = true) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      if (!waited) say(`${workflowId} is running (an ${command} call for this fold): waiting for it to end, then using its result`);
      await sleep(pollMs);
    }
  }
}

export async function taskWorkflow(input: TaskWorkflowInput): Promise<TaskResult> {
  const { paths } = input;
  let options: TaskOptions = withPatchedOptions(input.options ?? {});
  const startedAt = now();
  // Workflows recorded before the one-minute heartbeat timeouts keep their five minutes on replay.
  const timing = patched(SHORT_HEARTBEATS_PATCH) ? input.timing : { ...LEGACY_HEARTBEAT_TIMEOUTS, ...input.timing };
  const exec = new TaskExecution(timing, new CancellationScope());
  const result: TaskResult = { task: paths.taskName, configurations: [], startedAt, notes: exec.notes };
  let status: TaskState['status'] = 'running';
  let planned: PlanOutput | undefined;
  let afterPlan: AfterPlan | undefined;
  let closing = false;
  setHandler(taskStateQuery, (): TaskState => ({
    workflowId: workflowInfo().workflowId,
    task: paths.taskName,
    status,
    nodes: [...exec.nodes.values()],
    result: status === 'completed' ? result : undefined,
    notes: exec.notes,
  }));
  setHandler(cancelSignal, (req) => exec.cancel(req ?? {}));
  setHandler(selectSignal, (sel) => {
    const refusal = selectionRefusal(exec, closing);
    if (refusal) {
      exec.notes.push(`selection change ignored: ${refusal}`);
      return;
    }
    const next: TaskOptions = { ...options, ...(sel.configurations ? { configurations: sel.configurations } : {}), ...(sel.folds ? { folds: sel.folds } : {}) };
    let dag: Dag;
    try {
      dag = buildDag(planned?.configurations ?? CONFIGURATIONS, next);
    } catch (err) {
      exec.notes.push(`selection change ignored: ${(err as Error).message}`);
      return;
    }
    options = next;
    exec.notes.push(`selection changed: configurations ${next.configurations?.join(' ') ?? 'all planned'}, folds ${next.folds?.join(' ') ?? '0-4'}`);
    if (!afterPlan) {
      exec.hideMissing(dag, 'removed from the selection');
      exec.show(dag);
      return;
    }
    exec.cancelMissing(dag, 'removed from the selection');
    exec.show(dag);
    exec.notes.push(...dag.notes.filter((n) => !exec.notes.includes(n)));
    afterPlan.dag = dag;
    afterPlan.scheduleNew();
  });

  // Before planning the DAG is provisional: every selected configuration, as if planning created it.
  const provisional = buildDagOrFail(CONFIGURATIONS, options);
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
    const method = methodField(options);
    void exec.schedule(fingerprintNode, (a) => a.fingerprint({ paths, numProcesses: options.numProcesses ?? 8, ...method }), (out) => {
      fingerprintFile = out.fingerprintFile;
    });
    const plan = await exec.schedule(nodeOf(provisional, nodeIds.plan), (a) =>
      a.plan({ paths, fingerprintFile, planner: options.planner, gpuMemoryTargetGb: options.gpuMemoryTargetGb, ...method }));
    if (plan.ok) {
      planned = plan.value;
      const dag = buildDagOrFail(planned.configurations, options);
      exec.replan(dag);
      afterPlan = new AfterPlan(exec, dag, input, planned, result, () => options);
      afterPlan.scheduleNew();
    }
    await exec.settled();
    closing = true;
  });

  result.configurations = afterPlan?.dag.configurations ?? [];
  result.training = afterPlan?.trainedFolds() ?? [];
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

/** The activities' `method` field: present only for v2, so a v1 task's inputs are what they always were. */
const methodField = (options: TaskOptions): { method?: 'v2' } => (options.method === 'v2' ? { method: 'v2' } : {});

/** Options as the run's history recorded them: nodes added since (test-set prediction, the v2 cascade) only where their patch is recorded. */
function withPatchedOptions(options: TaskOptions): TaskOptions {
  let o = options.predict && !patched('predict-test-set') ? { ...options, predict: false } : options;
  if (o.method === 'v2' && !patched(V2_CASCADE_PATCH)) o = { ...o, v2WithoutCascade: true };
  return o;
}

/** Why a selection change cannot apply now, if it cannot. */
function selectionRefusal(exec: TaskExecution, closing: boolean): string | undefined {
  if (closing) return 'the task has finished';
  if (exec.stopped) return 'the task is stopping';
  const fb = exec.nodes.get(nodeIds.findBest);
  if (fb && fb.status !== 'pending' && fb.status !== 'skipped') return 'find-best has already started';
  return undefined;
}
