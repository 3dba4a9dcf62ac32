import type { FindBestInput, FindBestOutput } from '../contract';
import { NotImplementedError } from '../common/errors';

/** Activity `findBestConfiguration`: the stage's algorithm lands in its own issue; until then it fails loudly. */
export async function findBestConfiguration(_input: FindBestInput): Promise<FindBestOutput> {
  throw new NotImplementedError('findBestConfiguration');
}
