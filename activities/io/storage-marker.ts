/**
 * Shared storage between the machines of one run. The client that starts (or attaches to) a task writes a marker
 * into the task's results folder; every activity checks that it sees the marker before it touches anything. A
 * worker on a machine without the shared filesystem (or with it mounted elsewhere) would otherwise create empty
 * folders of its own and fail later, obscurely, or worse, write results nobody finds. Missing, the step fails
 * retryably: Temporal hands the retry to any worker of the queue, so one that sees the storage takes it over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { TaskPaths } from '../contract';
import { writeJsonAtomic } from '../common/atomic';
import { storageMarkerFile } from './layout';

/** What the marker records: who wrote it and the folders the run uses (for the operator comparing mounts). */
export interface StorageMarker {
  taskName: string;
  writtenBy: string;
  writtenAt: string;
  folders: Pick<TaskPaths, 'rawDir' | 'preprocessedDir' | 'resultsDir'>;
}

/** The step's worker does not see the run's storage; retryable, so another worker takes the step. */
export class StorageNotVisibleError extends Error {
  override readonly name = 'StorageNotVisible';
}

/** Writes (or refreshes) the task's marker; the client calls it before starting the task's workflow. */
export function writeStorageMarker(paths: TaskPaths, writtenBy = os.hostname()): string {
  const file = storageMarkerFile(paths);
  const marker: StorageMarker = {
    taskName: paths.taskName, writtenBy, writtenAt: new Date().toISOString(),
    folders: { rawDir: paths.rawDir, preprocessedDir: paths.preprocessedDir, resultsDir: paths.resultsDir },
  };
  writeJsonAtomic(file, marker);
  return file;
}

/** Throws StorageNotVisibleError, naming the file and the fix, unless this machine sees the task's marker. */
export function requireSharedStorage(paths: TaskPaths, host = os.hostname()): void {
  const file = storageMarkerFile(paths);
  if (fs.existsSync(file)) return;
  throw new StorageNotVisibleError(
    `worker on ${host} cannot see the storage of task ${paths.taskName}: ${file} does not exist here. ` +
    'The client that started the task wrote it, so this machine\'s RESULTS_FOLDER is not the folder the run uses ' +
    '(no shared filesystem, a wrong mount, or a different path). Mount the same shared storage at the same paths ' +
    '(nnUNet_raw_data_base, nnUNet_preprocessed, RESULTS_FOLDER) on every worker (docs/deploy.md). This attempt ' +
    'fails without touching anything and the step is retried, so a worker that sees the storage takes it; a task ' +
    'started before markers existed gets one when its `nnunet run` command is run again (it attaches).');
}

/** The TaskPaths of an activity input (`{ paths }`), if it has them. */
export function taskPathsOf(input: unknown): TaskPaths | undefined {
  const paths = (input as { paths?: Partial<TaskPaths> } | undefined)?.paths;
  return paths && typeof paths.taskName === 'string' && typeof paths.resultsDir === 'string' && paths.resultsDir !== '' ? (paths as TaskPaths) : undefined;
}
