/**
 * Activity `findBestConfiguration`: scores every trained configuration and pairwise ensemble on the
 * pooled cross-validation results and returns the winner and the commands to predict with it. Postprocessing is
 * decided afterwards by the `postprocess` activity on the winner (ensembled_raw or cv_niftis_raw written here).
 * Idempotent: consolidated and ensembled folders are reused when complete.
 * See docs/inference.md, 'How find-best chooses'.
 */
import type { FindBestInput, FindBestOutput, PredictTestSetInput, PredictTestSetOutput, WorkerSettings } from '../contract';
import { initBackend } from '../network/backend';
import { findBest } from './find-best';
import { predictTestSet as predictTestSetWith } from './predict-test-set';
import { findBestConfigurationV2Activity, predictTestSetV2 } from './v2-activity';

export async function findBestConfiguration(input: FindBestInput): Promise<FindBestOutput> {
  if (input.method === 'v2') return findBestConfigurationV2Activity(input);
  const r = await findBest(input);
  const strip = ({ name, configurations, meanForegroundDice, dicePerClass }: FindBestOutput['winner']) => ({ name, configurations, meanForegroundDice, dicePerClass });
  return { winner: strip(r.winner), candidates: r.candidates.map(strip), winnerDicePerClass: r.winnerDicePerClass, predictCommands: r.predictCommands };
}

/** Activity `predictTestSet`: the task's imagesTs predicted as find-best's printed commands would (on the GPU queue). */
export async function predictTestSet(input: PredictTestSetInput, settings: WorkerSettings = {}): Promise<PredictTestSetOutput> {
  await initBackend({ preference: settings.backend });
  return input.method === 'v2' ? predictTestSetV2(input) : predictTestSetWith(input);
}
