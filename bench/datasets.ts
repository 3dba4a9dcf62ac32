/**
 * The raw datasets the stage benchmarks run on, made once under the bench folder ($NNUNET_BENCH_DIR): the demo
 * task (activities/io/demo.ts, the one `bench backends` plans) and, when ../shared/realdata has it, MSD
 * Hippocampus converted to nnU-Net v1's layout. Each measured run gets fresh cropped/preprocessed folders.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskPaths } from '../activities/contract';
import { convertMsd } from '../activities/io/convert-msd';
import { demoTaskName, writeDemoDataset } from '../activities/io/demo';
import { runFingerprint } from '../activities/fingerprint/fingerprint';
import { plan } from '../activities/planning/activity';
import { benchDir } from './demo-plan';
import { DEMO_TASK_ID } from '../client/demo';
import { rawTasksFolder } from '../activities/io/layout';

const DEMO_LARGE_TASK_ID = 902;
const HIPPOCAMPUS_TASK_ID = 904;

export interface BenchDataset { name: string; rawDir: string }

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

const rawDataBase = (): string => path.join(benchDir(), 'raw');

export async function demoDataset(): Promise<BenchDataset> {
  const rawDir = path.join(rawTasksFolder(rawDataBase()), demoTaskName({ taskId: DEMO_TASK_ID }));
  if (!fs.existsSync(path.join(rawDir, 'dataset.json'))) await writeDemoDataset(rawDataBase(), { taskId: DEMO_TASK_ID });
  return { name: 'demo', rawDir };
}

/** The demo generator's large variant (10 training cases around 100 x 416 x 416, two modalities). */
export async function demoLargeDataset(): Promise<BenchDataset> {
  const opts = { taskId: DEMO_LARGE_TASK_ID, large: true };
  const rawDir = path.join(rawTasksFolder(rawDataBase()), demoTaskName(opts));
  if (!fs.existsSync(path.join(rawDir, 'dataset.json'))) await writeDemoDataset(rawDataBase(), opts);
  return { name: 'demo large', rawDir };
}

/** MSD Task04_Hippocampus from ../shared/realdata, or undefined (with the reason) when it is not there. */
export async function hippocampusDataset(): Promise<BenchDataset | string> {
  const msd = path.join(repoRoot(), '..', 'shared', 'realdata', 'Task04_Hippocampus');
  if (!fs.existsSync(path.join(msd, 'dataset.json'))) return `${msd} not found`;
  const rawDir = path.join(rawTasksFolder(rawDataBase()), `Task${HIPPOCAMPUS_TASK_ID}_Hippocampus`);
  if (!fs.existsSync(path.join(rawDir, 'dataset.json'))) await convertMsd(msd, rawDataBase(), HIPPOCAMPUS_TASK_ID);
  return { name: 'Hippocampus (MSD)', rawDir };
}

/** Fresh cropped/preprocessed folders for one measured run of a dataset under `work`. */
export function freshPaths(rawDir: string, work: string): TaskPaths {
  const taskName = path.basename(rawDir);
  return {
    taskName, rawDir,
    croppedDir: path.join(work, 'cropped', taskName),
    preprocessedDir: path.join(work, 'preprocessed', taskName),
    resultsDir: path.join(work, 'results', 'nnUNet'),
  };
}

/** Fingerprints (in this process) and plans a dataset under a cache folder; returns the 3D/2D plans files. */
export async function plannedDataset(ds: BenchDataset): Promise<{ paths: TaskPaths; plansFiles: { '3d'?: string; '2d'?: string } }> {
  const paths = freshPaths(ds.rawDir, path.join(benchDir(), 'planned'));
  const { fingerprintFile } = await runFingerprint(paths, { numProcesses: 1 });
  const { plansFiles } = await plan({ paths, fingerprintFile });
  return { paths, plansFiles };
}
