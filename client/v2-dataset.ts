/**
 * The dataset `--method v2` runs on (nnunet run, nnunet sweep). nnU-Net v2 reads DatasetXXX_NAME folders with a v2
 * dataset.json (channel_names, name → value labels, file_ending); its planner, trainer and predictor need those
 * fields. A v2 Dataset is used as it is. A v1 Task (the demo is one) is converted once, as
 * nnUNetv2_convert_old_nnUNet_dataset does, to Dataset<same id>_<name> in nnUNet_raw, and that Dataset is used from
 * then on; the v1 Task stays for v1 runs (a task id then names both: each method picks its own kind).
 */
import * as fs from 'node:fs';
import type { Config } from '../config';
import type { TaskPaths } from '../activities/contract';
import { convertOldTaskToV2 } from '../activities/io/convert-v2';
import { datasetJsonFile, rawTaskFolder, taskPathsForV2 } from '../activities/io/layout';
import { dataRoots } from './task-ref';

/** Task004_Hippocampus → Dataset004_Hippocampus (nnUNetv2_convert_old_nnUNet_dataset's usual target name). */
export const datasetNameForTask = (taskName: string): string => (taskName.startsWith('Task') ? `Dataset${taskName.slice('Task'.length)}` : taskName);

/** `paths` (from the task resolver) as v2 runs them: the Dataset folder, converting a v1 Task first; results under nnUNet_results. */
export async function v2DatasetPaths(config: Config, paths: TaskPaths, say: (m: string) => void): Promise<TaskPaths> {
  const roots = dataRoots(config);
  if (paths.taskName.startsWith('Dataset')) return taskPathsForV2(paths.rawDir, roots);
  const name = datasetNameForTask(paths.taskName);
  const rawDir = rawTaskFolder(name, roots);
  if (!fs.existsSync(datasetJsonFile(rawDir))) {
    say(`--method v2: converting the v1 task ${paths.taskName} to ${rawDir} (as nnUNetv2_convert_old_nnUNet_dataset; once)`);
    await convertOldTaskToV2(paths.rawDir, name, config.paths.raw ?? config.paths.rawDataBase);
  }
  return taskPathsForV2(rawDir, roots);
}
