/**
 * The demo task's plans, made by the real pipeline (demo generator -> fingerprint -> planner), so the U-Net
 * benchmark trains exactly the network `nnunet run --demo` would. The result is cached as JSON next to the
 * generated data (a rerun costs nothing); the benchmark's child processes read that file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../activities/common/atomic';
import { taskPaths } from '../activities/io/dataset';
import { demoTaskName, writeDemoDataset } from '../activities/io/demo';
import { runFingerprint } from '../activities/fingerprint/fingerprint';
import { planTask } from '../activities/planning/activity';
import { stages } from '../activities/planning/plans';
import type { Plans, StagePlan } from '../activities/planning/plans';
import { DEMO_TASK_ID } from '../client/demo';
import { rawTasksFolder } from '../activities/io/layout';


/** What a U-Net workload needs from one configuration's plan. */
export interface BenchStage {
  configuration: '3d_fullres' | '2d';
  batchSize: number;
  patchSize: number[];
  poolOpKernelSizes: number[][];
  convKernelSizes: number[][];
  inChannels: number;
  /** Including background. */
  numClasses: number;
  batchDice: boolean;
}

export interface BenchPlans {
  source: string;
  unet3d: BenchStage;
  unet2d: BenchStage;
}

/** Where the demo task and the cached plans live: $NNUNET_BENCH_DIR or <tmp>/nnunet-ts-bench. */
export function benchDir(): string {
  return process.env.NNUNET_BENCH_DIR ?? path.join(os.tmpdir(), 'nnunet-ts-bench');
}

export const benchPlansFile = (): string => path.join(benchDir(), 'demo-plans.json');

function toBenchStage(plans: Plans, stage: StagePlan, configuration: BenchStage['configuration']): BenchStage {
  return {
    configuration,
    batchSize: stage.batch_size,
    patchSize: stage.patch_size,
    poolOpKernelSizes: stage.pool_op_kernel_sizes,
    convKernelSizes: stage.conv_kernel_sizes,
    inChannels: plans.num_modalities,
    numClasses: plans.num_classes + 1,
    // batchDiceFor(): 2d always, 3d_fullres only with a cascade (the demo has none).
    batchDice: configuration === '2d',
  };
}

/** Generates the demo task, fingerprints and plans it (once), and returns the 3d_fullres and 2d stages. */
export async function demoBenchPlans(): Promise<BenchPlans> {
  const cached = benchPlansFile();
  if (fs.existsSync(cached)) return JSON.parse(fs.readFileSync(cached, 'utf8')) as BenchPlans;
  const root = benchDir();
  const rawDataBase = path.join(root, 'raw');
  const rawDir = path.join(rawTasksFolder(rawDataBase), demoTaskName({ taskId: DEMO_TASK_ID }));
  if (!fs.existsSync(path.join(rawDir, 'dataset.json'))) await writeDemoDataset(rawDataBase, { taskId: DEMO_TASK_ID });
  const paths = taskPaths(rawDir, { rawDataBase, preprocessed: path.join(root, 'preprocessed'), results: path.join(root, 'results') });
  const { fingerprintFile } = await runFingerprint(paths, { numProcesses: 1 });
  const planned = planTask({ paths, fingerprintFile });
  const of = (kind: '3d' | '2d'): Plans => {
    const p = planned.find((x) => x.plans.plans_kind === kind)?.plans;
    if (!p) throw new Error(`the demo task produced no ${kind} plans`);
    return p;
  };
  const p3 = of('3d');
  const p2 = of('2d');
  const result: BenchPlans = {
    source: `demo task ${paths.taskName} (nnunet-ts demo generator -> fingerprint -> ${p3.planner_name} / ${p2.planner_name})`,
    unet3d: toBenchStage(p3, stages(p3).at(-1)!, '3d_fullres'),
    unet2d: toBenchStage(p2, stages(p2).at(-1)!, '2d'),
  };
  writeJsonAtomic(cached, result);
  return result;
}
