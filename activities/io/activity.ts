import type { VerifyInput, VerifyOutput } from '../contract';
import { verifyOrThrow } from './verify';

/**
 * Activity `verifyDataset`: nnU-Net's verify_dataset_integrity over the raw task folder. Reads only; a bad
 * dataset fails at once (non-retryable BadInput) with every problem listed, each naming its case and file.
 */
export async function verifyDataset(input: VerifyInput): Promise<VerifyOutput> {
  return verifyOrThrow(input.paths.rawDir);
}
