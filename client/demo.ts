/**
 * The demo task (901): a tiny synthetic dataset the data layer generates on first use, so `nnunet run --demo`
 * works on a fresh machine without downloads.
 */
import * as path from 'node:path';
import type { Config } from '../config';
import type { TaskPaths } from '../activities/contract';
import { WorkFailedError } from './context';
import { dataRoots } from './task-ref';
import { taskPaths } from '../activities/io/dataset';

export const DEMO_TASK_ID = 901;

interface DemoModule {
  ensureDemoDataset(rawDataBase: string): string | { rawDir: string };
}

/** The data layer's generator, loaded by path so the CLI builds before that module lands. */
function demoModule(): DemoModule | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(__dirname, '..', 'activities', 'io', 'demo')) as DemoModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

export function ensureDemoTask(config: Config, say: (m: string) => void): TaskPaths {
  const mod = demoModule();
  if (!mod || typeof mod.ensureDemoDataset !== 'function') {
    throw new WorkFailedError(`the demo dataset (Task${DEMO_TASK_ID}) is not available yet: its generator (activities/io/demo) has not landed; run with -t TASK on your own data`);
  }
  const out = mod.ensureDemoDataset(config.paths.rawDataBase);
  const rawDir = typeof out === 'string' ? out : out.rawDir;
  say(`demo task: ${rawDir}`);
  return taskPaths(rawDir, dataRoots(config));
}
