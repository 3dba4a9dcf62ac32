import type { VerifyInput, VerifyOutput } from '../contract';
import { NotImplementedError } from '../common/errors';

/** Activity `verifyDataset`: the stage's algorithm lands in its own issue; until then it fails loudly. */
export async function verifyDataset(_input: VerifyInput): Promise<VerifyOutput> {
  throw new NotImplementedError('verifyDataset');
}
