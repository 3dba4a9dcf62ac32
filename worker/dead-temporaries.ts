/**
 * Before a step runs, the temporaries that a killed attempt left in the task's folders are removed: a kill -9
 * during an atomic write leaves `.tmp-*` files and folders (a half-written array, a half-built validation folder)
 * that nothing else would ever delete. Only names of ours whose writer on this host is gone are touched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskPaths } from '../activities/contract';
import { removeDeadTemporaries } from '../activities/common/atomic';

function isTaskPaths(p: unknown): p is TaskPaths {
  const t = p as Partial<TaskPaths> | undefined;
  return typeof t?.taskName === 'string' && typeof t.croppedDir === 'string' && typeof t.preprocessedDir === 'string' && typeof t.resultsDir === 'string';
}

/** The task's own folders: cropped and preprocessed data, and `<results>/<configuration or ensembles>/<task>`. */
export function taskFolders(paths: TaskPaths): string[] {
  let groups: string[] = [];
  try {
    groups = fs.readdirSync(paths.resultsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    /* no results yet */
  }
  return [paths.croppedDir, paths.preprocessedDir, ...groups.map((g) => path.join(paths.resultsDir, g, paths.taskName))];
}

/** Removes what killed attempts left in the folders of the task an activity input names; returns the paths. */
export function removeLeftoversFor(input: unknown): string[] {
  const paths = (input as { paths?: unknown } | undefined)?.paths;
  return isTaskPaths(paths) ? removeDeadTemporaries(taskFolders(paths)) : [];
}
