/**
 * The `fingerprint` activity with method 'v2': nnU-Net v2's DatasetFingerprintExtractor into
 * <preprocessed>/<Dataset>/dataset_fingerprint.json. As v2's extract_fingerprint (without --clean), an existing
 * fingerprint is kept: a retry or a rerun does not draw its 10^8 samples again.
 */
import * as fs from 'node:fs';
import type { FingerprintInput, FingerprintOutput } from '../../contract';
import { datasetFingerprintFile } from '../../io/layout';
import { runFingerprintV2 } from './fingerprint';

export async function fingerprintV2(input: FingerprintInput, onProgress: (done: number, total: number) => void): Promise<FingerprintOutput> {
  const fingerprintFile = datasetFingerprintFile(input.paths.preprocessedDir);
  if (fs.existsSync(fingerprintFile)) {
    const kept = JSON.parse(fs.readFileSync(fingerprintFile, 'utf8')) as { spacings?: unknown[] };
    if (Array.isArray(kept.spacings)) return { fingerprintFile, numCases: kept.spacings.length };
  }
  const fp = await runFingerprintV2(input.paths.rawDir, fingerprintFile, { numProcesses: input.numProcesses, onProgress });
  return { fingerprintFile, numCases: fp.spacings.length };
}
