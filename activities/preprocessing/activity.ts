import { Context } from '@temporalio/activity';
import type { PreprocessInput, PreprocessOutput } from '../contract';
import { runPreprocess } from './preprocess';
import { preprocessV2 } from './v2/activity';

/** Heartbeats when running as a Temporal activity; a no-op when called directly (CLI without Temporal, tests). */
function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity
  }
}

/** Activity `preprocess`: one configuration's preprocessed cases (idempotent per case). */
export async function preprocess(input: PreprocessInput): Promise<PreprocessOutput> {
  if (input.method === 'v2') return preprocessV2(input, (done, total) => heartbeat({ done, total }));
  const r = await runPreprocess(input.paths, input.plansFile, input.configuration, {
    numProcesses: input.numProcesses,
    onProgress: (done, total) => heartbeat({ done, total }),
  });
  return { dataDir: r.dataDir, numCases: r.numCases };
}
