/**
 * Reading a task workflow for the user: its state when a worker can answer the `state` query, otherwise what
 * the server alone knows (status, result), and a one-paragraph summary of the outcome.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { describeTaskState, type WorkflowStatusName } from './temporal/task-client';
import * as fs from 'node:fs';
import type { FindBestOutput, TaskPaths } from '../activities/contract';
import { labelsByValue, readDataset } from '../activities/io/dataset';
import { PLANS_IDENTIFIER_V21 } from '../activities/planning/constants';
import type { TaskResult, TaskState } from '../workflows/state';
import { firstFailure } from './render/tree';
import { predictionsFolder, testImagesFolder } from '../activities/io/layout';

const QUERY_DEADLINE_MS = 15_000;

export interface TaskView {
  workflowId: string;
  /** Temporal's status of the latest run. */
  status: WorkflowStatusName;
  /** The DAG state, when a worker answered the query. */
  state?: TaskState;
  result?: TaskResult;
  /** Why the state is missing, for the user. */
  note?: string;
}

export async function readTaskView(client: Client, workflowId: string): Promise<TaskView | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  let status: WorkflowStatusName;
  try {
    status = (await handle.describe()).status.name as WorkflowStatusName;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const view: TaskView = { workflowId, status };
  try {
    // A query waits for a worker; with none polling, give up after a while and say why.
    view.state = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => describeTaskState(client, workflowId));
    view.result = view.state.result;
  } catch (err) {
    view.note = `node states unavailable (${(err as Error).message.split('\n')[0]}): no worker is serving this task; ` +
      '`nnunet run` (embedded) or `nnunet worker` (cluster) brings one';
  }
  if (status === 'COMPLETED' && !view.result) view.result = (await handle.result()) as TaskResult;
  return view;
}

/** Human summary of a finished task: the winner, its Dice per class and how to predict with it; or the failing node and its error. */
export function outcomeLines(state: TaskState | undefined, result: TaskResult | undefined, failure?: string, paths?: TaskPaths): string[] {
  const lines: string[] = [];
  if (result) {
    lines.push(`task ${result.task} completed${result.wallTimeMs !== undefined ? ` in ${(result.wallTimeMs / 1000).toFixed(1)} s` : ''}`);
    if (result.best) lines.push(...winnerLines(result.best, paths));
    if (result.prediction) lines.push(`test set predicted: ${result.prediction.cases} cases -> ${result.prediction.outputDir}`);
    for (const n of result.notes ?? []) lines.push(`note: ${n}`);
    return lines;
  }
  const failed = state ? firstFailure(state) : undefined;
  if (failed) lines.push(`failed at ${failed.id} (attempt ${failed.attempt}): ${failed.error ?? 'no error message'}`);
  else if (failure) lines.push(`failed: ${failure}`);
  return lines;
}

const isV2 = (best: FindBestOutput): boolean => best.predictCommands.some((c) => c.startsWith('nnUNetv2_'));

function winnerLines(best: FindBestOutput, paths?: TaskPaths): string[] {
  const names = paths ? labelNames(paths.rawDir) : {};
  const perClass = Object.entries(best.winnerDicePerClass)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([label, dice]) => `${label}${names[label] ? ` (${names[label]})` : ''} ${dice.toFixed(4)}`);
  return [
    `best configuration: ${best.winner.name} (mean foreground Dice ${best.winner.meanForegroundDice.toFixed(4)})`,
    `cross-validation Dice per class: ${perClass.join(', ') || 'none'}`,
    // A v2 winner (find-best printed nnUNetv2_ commands) is predicted with those; `nnunet predict` is v1's.
    ...(paths && !isV2(best) ? ['predict with:', ...nnunetPredictCommands(best, paths).map((c) => `  ${c}`), "or with nnU-Net's commands:"] : []),
    ...(isV2(best) ? ['predict with (nnU-Net v2):'] : []),
    ...best.predictCommands.map((c) => `  ${c}`),
  ];
}

/** value -> name from dataset.json; none when it cannot be read (e.g. `status` on another machine). */
function labelNames(rawDir: string): Record<string, string> {
  try {
    return labelsByValue(readDataset(rawDir));
  } catch {
    return {};
  }
}

/**
 * The plans identifier find-best named for configuration `c` (its nnUNet_predict `-p`), when it is not predict's
 * default: 2d and the 3D configurations may use different plans (a non-default GPU memory target).
 */
function plansOption(best: FindBestOutput, c: string): string {
  const command = best.predictCommands.find((line) => line.includes(` -m ${c} `));
  const plans = command?.match(/ -p (\S+)/)?.[1];
  return plans && plans !== PLANS_IDENTIFIER_V21 ? ` --plans ${plans}` : '';
}

/**
 * `nnunet predict` (and `nnunet ensemble` for an ensemble winner) ready to run: the task's imagesTs (when it
 * exists) into RESULTS_FOLDER/predictions/<task>/<winner>, each model with its own plans. predict applies the
 * winner's postprocessing.json.
 */
export function nnunetPredictCommands(best: FindBestOutput, paths: TaskPaths): string[] {
  const testDir = testImagesFolder(paths);
  const input = fs.existsSync(testDir) ? testDir : 'FOLDER_WITH_TEST_CASES';
  const outDir = predictionsFolder(paths, best.winner.name);
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const predict = (c: string, out: string, npz: boolean) =>
    `nnunet predict -i ${q(input)} -o ${q(out)} -t ${q(paths.taskName)} -m ${c}${plansOption(best, c)}${npz ? ' --save-npz' : ''}`;
  const configs = best.winner.configurations;
  if (configs.length === 1) return [predict(configs[0], outDir, false)];
  const parts = configs.map((c) => predictionsFolder(paths, best.winner.name, c));
  const pp = best.predictCommands.find((c) => c.startsWith('nnUNet_ensemble'))?.match(/-pp (\S+)/)?.[1];
  return [
    ...configs.map((c, i) => predict(c, parts[i], true)),
    `nnunet ensemble -f ${parts.map(q).join(' ')} -o ${q(predictionsFolder(paths, best.winner.name, 'ensemble'))}${pp ? ` --postprocessing-file ${q(pp)}` : ''}`,
  ];
}
