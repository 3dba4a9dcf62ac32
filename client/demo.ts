/**
 * The demo tasks, synthetic two-modality datasets the data layer generates on first use, so `nnunet run --demo`
 * works on a fresh machine without downloads: 901 (small cases; plans 2d and 3d_fullres) and, with --large, 902
 * (cases of about 100x416x416, so that planning adds 3d_lowres and the cascade).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import type { Configuration, TaskPaths } from '../activities/contract';
import { demoTaskName, writeDemoDataset } from '../activities/io/demo';
import { taskPaths } from '../activities/io/dataset';
import { dataRoots } from './task-ref';
import { datasetJsonFile, rawTasksFolder } from '../activities/io/layout';

export const DEMO_TASK_ID = 901;
export const DEMO_LARGE_TASK_ID = 902;

/**
 * The demo's training schedule unless --epochs/--iters say otherwise: long enough to show every stage and a
 * falling loss, short enough for a laptop CPU (nnU-Net's 1000 x 250 would take days there).
 */
export const DEMO_SCHEDULE = { epochs: 3, iterationsPerEpoch: 10 } as const;

/**
 * What `--demo --large` changes unless the user set it, so that the cascade runs end to end on a 2-core, 24 GB
 * CPU machine in about an hour (README, "The cascade"). Each default is printed when applied.
 * - the 3D configurations only: the cascade is what this demo is for (its 2d plan, 448x448 x 16, is slow on CPU);
 * - a 4 GB planning target: nnU-Net's 8 GB plan (48x192x192, batch 2) needs about 17 GB in float32 training;
 * - 1 epoch x 4 iterations, and fold validation without mirroring at step 1: a case is ~17 million voxels.
 */
export const DEMO_LARGE = {
  configurations: ['3d_fullres', '3d_lowres', '3d_cascade_fullres'] as Configuration[],
  gpuMemoryTargetGb: 4,
  epochs: 1,
  iterationsPerEpoch: 4,
  validation: { tta: false, stepSize: 1 },
} as const;

/** The demo task's folders; writes the dataset first when it is not there (atomically, so never half-written). */
export async function ensureDemoTask(config: Config, say: (m: string) => void, large = false): Promise<TaskPaths> {
  const opts = { taskId: large ? DEMO_LARGE_TASK_ID : DEMO_TASK_ID, large };
  const rawDir = path.join(rawTasksFolder(config.paths.rawDataBase), demoTaskName(opts));
  if (!fs.existsSync(datasetJsonFile(rawDir))) {
    say(`writing the ${large ? 'large ' : ''}demo dataset to ${rawDir} …${large ? ' (about a minute, 390 MB)' : ''}`);
    await writeDemoDataset(config.paths.rawDataBase, opts);
  }
  return taskPaths(rawDir, dataRoots(config));
}
