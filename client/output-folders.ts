/**
 * Before `nnunet run` starts anything on this machine (embedded mode: the workers share this filesystem), check
 * that the folders the pipeline writes can be created and written. A folder that cannot be (a parent is a
 * regular file, a read-only mount, no permission) fails at once, naming the folder, the setting and the fix,
 * instead of failing a stage minutes later.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import { WorkFailedError } from './context';
import { croppedTasksFolder } from '../activities/io/layout';

interface OutputFolder {
  what: string;
  dir: string;
  /** The environment variable / config key that sets it. */
  setting: string;
}

export function outputFolders(config: Config): OutputFolder[] {
  return [
    { what: 'cropped data', dir: croppedTasksFolder(config.paths.rawDataBase), setting: 'nnUNet_raw_data_base (paths.rawDataBase)' },
    { what: 'preprocessed', dir: config.paths.preprocessed, setting: 'nnUNet_preprocessed (paths.preprocessed)' },
    { what: 'results', dir: config.paths.results, setting: 'RESULTS_FOLDER or nnUNet_results (paths.results)' },
  ];
}

/** The nearest existing ancestor of `dir` that is not a folder, if any. */
function fileInTheWay(dir: string): string | undefined {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch {
      st = undefined; // missing, or a file further up (ENOTDIR): look there
    }
    if (st) return st.isDirectory() ? undefined : p;
    if (path.dirname(p) === p) return undefined;
  }
}

/** Why `dir` cannot be written, or undefined when it can (it is created if missing). */
export function whyNotWritable(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.nnunet-write-test-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
    return undefined;
  } catch (err) {
    const blocker = fileInTheWay(dir);
    if (blocker) return `${blocker} is a file, not a folder`;
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (err as Error).message;
  }
}

export type OutputFolderKind = 'cropped data' | 'preprocessed' | 'results';

/** Checks the given output folders (default: all three), naming each that cannot be written and its setting. */
export function assertOutputFoldersWritable(config: Config, kinds?: readonly OutputFolderKind[]): void {
  const wanted = outputFolders(config).filter((f) => !kinds || kinds.includes(f.what as OutputFolderKind));
  const problems = wanted.flatMap(({ what, dir, setting }) => {
    const why = whyNotWritable(dir);
    return why ? [`cannot write the ${what} folder ${dir}: ${why}; set ${setting} to a folder you can write`] : [];
  });
  if (problems.length) throw new WorkFailedError(problems.join('\n'));
}
