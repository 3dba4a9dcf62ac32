import { Context } from '@temporalio/activity';
import type { FingerprintInput, FingerprintOutput } from '../contract';
import { runFingerprint } from './fingerprint';
import { fingerprintV2 } from './v2/activity';

/** Heartbeats when running as a Temporal activity; a no-op when called directly (CLI without Temporal, tests). */
function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity
  }
}

/** Activity `fingerprint`: crop every case and write dataset_properties.json (idempotent). */
export async function fingerprint(input: FingerprintInput): Promise<FingerprintOutput> {
  if (input.method === 'v2') return fingerprintV2(input, (done, total) => heartbeat({ done, total }));
  const r = await runFingerprint(input.paths, {
    numProcesses: input.numProcesses,
    onProgress: (done, total) => heartbeat({ done, total }),
  });
  return { fingerprintFile: r.fingerprintFile, numCases: r.numCases };
}
