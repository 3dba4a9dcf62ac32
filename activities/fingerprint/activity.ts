import type { FingerprintInput, FingerprintOutput } from '../contract';
import { NotImplementedError } from '../common/errors';

/** Activity `fingerprint`: the stage's algorithm lands in its own issue; until then it fails loudly. */
export async function fingerprint(_input: FingerprintInput): Promise<FingerprintOutput> {
  throw new NotImplementedError('fingerprint');
}
