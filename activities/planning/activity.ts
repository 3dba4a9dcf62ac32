import type { PlanInput, PlanOutput } from '../contract';
import { NotImplementedError } from '../common/errors';

/** Activity `plan`: the stage's algorithm lands in its own issue; until then it fails loudly. */
export async function plan(_input: PlanInput): Promise<PlanOutput> {
  throw new NotImplementedError('plan');
}
