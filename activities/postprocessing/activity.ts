import type { PostprocessInput, PostprocessOutput } from '../contract';
import { NotImplementedError } from '../common/errors';

/** Activity `postprocess`: the stage's algorithm lands in its own issue; until then it fails loudly. */
export async function postprocess(_input: PostprocessInput): Promise<PostprocessOutput> {
  throw new NotImplementedError('postprocess');
}
