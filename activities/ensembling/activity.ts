/**
 * Activity `findBestConfiguration`: scores every trained configuration and pairwise ensemble on the
 * pooled cross-validation results and returns the winner and the commands to predict with it. Postprocessing is
 * decided afterwards by the `postprocess` activity on the winner (ensembled_raw or cv_niftis_raw written here).
 * Idempotent: consolidated and ensembled folders are reused when complete.
 * See docs/inference.md, 'How find-best chooses'.
 */
import type { FindBestInput, FindBestOutput } from '../contract';
import { findBest } from './find-best';

export async function findBestConfiguration(input: FindBestInput): Promise<FindBestOutput> {
  const r = await findBest(input);
  const strip = ({ name, configurations, meanForegroundDice, dicePerClass }: FindBestOutput['winner']) => ({ name, configurations, meanForegroundDice, dicePerClass });
  return { winner: strip(r.winner), candidates: r.candidates.map(strip), winnerDicePerClass: r.winnerDicePerClass, predictCommands: r.predictCommands };
}
