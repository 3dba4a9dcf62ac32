import type { TrainInput, TrainOutput } from '../contract';
import { NotImplementedError } from '../common/errors';

/** Activity `train`: the stage's algorithm lands in its own issue; until then it fails loudly. */
export async function train(_input: TrainInput): Promise<TrainOutput> {
  throw new NotImplementedError('train');
}
