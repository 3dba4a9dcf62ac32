/**
 * `-t 4`, `-t 004`, `-t Task004_Hippocampus` or `-t Dataset004_Hippocampus` → the task's folders (TaskPaths).
 * Looks for nnU-Net v1 folders (<raw base>/nnUNet_raw_data/TaskXXX_NAME) and v2 ones (<raw base>/DatasetXXX_NAME).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import type { TaskPaths } from '../activities/contract';
import { UsageError } from './context';

export interface TaskRef {
  /** The numeric id (workflow ids use it: nnunet-task-004). */
  id: number;
  paths: TaskPaths;
}

function listDirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

export function taskPathsFor(config: Config, rawDir: string): TaskPaths {
  const taskName = path.basename(rawDir);
  return {
    taskName,
    rawDir,
    croppedDir: path.join(config.paths.rawDataBase, 'nnUNet_cropped_data', taskName),
    preprocessedDir: path.join(config.paths.preprocessed, taskName),
    resultsDir: path.join(config.paths.results, 'nnUNet'),
  };
}

export function parseTaskId(arg: string): number {
  const m = /^(?:Task|Dataset)?0*(\d{1,3})(?:_.*)?$/.exec(arg.trim());
  if (!m) throw new UsageError(`-t ${arg}: expected a task id (4, 004) or a folder name (Task004_Hippocampus)`);
  return Number(m[1]);
}

export function resolveTask(config: Config, arg: string): TaskRef {
  const id = parseTaskId(arg);
  const prefix = String(id).padStart(3, '0');
  const v1Root = path.join(config.paths.rawDataBase, 'nnUNet_raw_data');
  const candidates = [
    ...listDirs(v1Root).filter((d) => d.startsWith(`Task${prefix}_`)).map((d) => path.join(v1Root, d)),
    ...listDirs(config.paths.rawDataBase).filter((d) => d.startsWith(`Dataset${prefix}_`)).map((d) => path.join(config.paths.rawDataBase, d)),
  ];
  const exact = candidates.filter((c) => path.basename(c) === arg);
  const found = exact.length === 1 ? exact : candidates;
  if (found.length === 0) {
    throw new UsageError(
      `task ${arg}: no Task${prefix}_* folder in ${v1Root} and no Dataset${prefix}_* folder in ${config.paths.rawDataBase}; ` +
        'set nnUNet_raw_data_base (or paths.rawDataBase in --config) to the folder holding your data',
    );
  }
  if (found.length > 1) throw new UsageError(`task ${arg} is ambiguous: ${found.join(', ')}; pass the full folder name`);
  return { id, paths: taskPathsFor(config, found[0]) };
}
