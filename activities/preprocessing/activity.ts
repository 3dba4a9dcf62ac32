import type { PreprocessInput, PreprocessOutput } from '../contract';
import { NotImplementedError } from '../common/errors';

/** Activity `preprocess`: the stage's algorithm lands in its own issue; until then it fails loudly. */
export async function preprocess(_input: PreprocessInput): Promise<PreprocessOutput> {
  throw new NotImplementedError('preprocess');
}
