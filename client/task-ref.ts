/** `-t 4` / `-t Task004_Hippocampus` / `-t path/to/Task004_X` → the task's folders, via the data layer's resolver. */
import type { Config } from '../config';
import type { TaskPaths } from '../activities/contract';
import { BadInputError } from '../activities/common/errors';
import { resolveTask as resolveTaskFolders, type DataRoots } from '../activities/io/dataset';
import { UsageError } from './context';

export const dataRoots = (config: Config): DataRoots => ({
  rawDataBase: config.paths.rawDataBase,
  preprocessed: config.paths.preprocessed,
  results: config.paths.results,
  raw: config.paths.raw,
});

export interface TaskRef {
  /** The task number from the folder name (Task004_X → 4), when it has one. */
  id?: number;
  paths: TaskPaths;
}

/** A task that names no folder is a usage error (exit code 2). */
export function resolveTask(config: Config, spec: string, prefer?: 'Task' | 'Dataset'): TaskRef {
  try {
    const paths = resolveTaskFolders(spec, dataRoots(config), prefer);
    const m = /^(?:Task|Dataset)(\d+)_/.exec(paths.taskName);
    return { id: m ? Number(m[1]) : undefined, paths };
  } catch (err) {
    if (err instanceof BadInputError) throw new UsageError(err.message);
    throw err;
  }
}
