/**
 * The demo task (901): a small synthetic two-modality dataset the data layer generates on first use, so
 * `nnunet run --demo` works on a fresh machine without downloads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import type { TaskPaths } from '../activities/contract';
import { demoTaskName, writeDemoDataset } from '../activities/io/demo';
import { taskPaths } from '../activities/io/dataset';
import { dataRoots } from './task-ref';

export const DEMO_TASK_ID = 901;

/**
 * The demo's training schedule unless --epochs/--iters say otherwise: long enough to show every stage and a
 * falling loss, short enough for a laptop CPU (nnU-Net's 1000 x 250 would take days there).
 */
export const DEMO_SCHEDULE = { epochs: 3, iterationsPerEpoch: 10 } as const;

/** The demo task's folders; writes the dataset first when it is not there (atomically, so never half-written). */
export async function ensureDemoTask(config: Config, say: (m: string) => void): Promise<TaskPaths> {
  const rawDir = path.join(config.paths.rawDataBase, 'nnUNet_raw_data', demoTaskName({ taskId: DEMO_TASK_ID }));
  if (!fs.existsSync(path.join(rawDir, 'dataset.json'))) {
    say(`writing the demo dataset to ${rawDir} …`);
    await writeDemoDataset(config.paths.rawDataBase, { taskId: DEMO_TASK_ID });
  }
  return taskPaths(rawDir, dataRoots(config));
}
