/**
 * The `findBestConfiguration` and `predictTestSet` activities with method 'v2'.
 * - find-best: v2's find_best_configuration (find-best-v2.ts) over the trained configurations and folds: pooled
 *   cross-validation, every pairwise ensemble, the winner's postprocessing, inference_information.json and
 *   inference_instructions.txt; the candidates returned with their per-label Dice.
 * - the test set: what inference_instructions.txt says to run, on the raw dataset's imagesTs: nnUNetv2_predict per
 *   member (the folds trained), nnUNetv2_ensemble for an ensemble, nnUNetv2_apply_postprocessing with the winner's
 *   postprocessing.pkl (io/layout.ts v2TestSetFolder). A cascade member predicts its previous stage first
 *   (-prev_stage_predictions), which v2's printed instructions leave out. Cases already predicted are kept on a retry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CandidateResult, Configuration, FindBestInput, FindBestOutput, PredictTestSetInput, PredictTestSetOutput } from '../contract';
import { BadInputError } from '../common/errors';
import { readSummaryV2 } from '../evaluation/summary-v2';
import { readDataset } from '../io/dataset';
import { modelPlansFile, testImagesFolder, v2ModelFolder, v2PredictionFiles, v2PreviousStagePart, v2TestSetFolder, v2TrainedFolds } from '../io/layout';
import { rawConfiguration, readPlansV2 } from '../preprocessing/v2/plans';
import { predictFilesV2, rawCasesInFolder } from '../inference/v2/predict-files';
import { loadV2Model } from '../network/v2/model-folder';
import { applyPostprocessingFolderV2 } from '../postprocessing/determine-v2';
import { readPostprocessingPklV2 } from '../postprocessing/v2-rules';
import { winnerPostprocessingFile } from '../postprocessing/v2-activity';
import { ensembleFoldersV2 } from './ensemble-folders-v2';
import { findBestConfigurationV2, type CandidateV2 } from './find-best-v2';

const CHECKPOINT = 'checkpoint_final.pth';

function candidateOf(c: CandidateV2): CandidateResult {
  const summary = readSummaryV2(path.join(c.source, 'summary.json'));
  const dicePerClass = Object.fromEntries(Object.entries(summary.mean).map(([label, m]) => [label, m.Dice]));
  return { name: c.name, configurations: c.members.map((m) => m.configuration as Configuration), meanForegroundDice: c.result, dicePerClass };
}

export async function findBestConfigurationV2Activity(input: FindBestInput): Promise<FindBestOutput> {
  const { paths, trainer } = input;
  const plans = input.plansIdentifier;
  const folds = input.folds.filter((f): f is Exclude<typeof f, 'all'> => f !== 'all');
  const r = await findBestConfigurationV2({
    resultsRoot: paths.resultsDir, datasetName: paths.taskName, datasetNameOrId: paths.taskName, preprocessedDir: paths.preprocessedDir, rawDir: paths.rawDir,
    models: input.configurations.map((configuration) => ({ plans, configuration, trainer })), folds, allowEnsembling: true,
  });
  const candidates = r.candidates.map(candidateOf);
  const winner = candidates.find((c) => c.name === r.best)!;
  return {
    winner, candidates, winnerDicePerClass: winner.dicePerClass ?? {},
    predictCommands: r.instructions.split('\n').filter((l) => l.startsWith('nnUNetv2_')),
  };
}

/** The configuration a cascade stage predicts on (plans.json previous_stage), else undefined. */
function previousStageOf(model: string, configuration: string): string | undefined {
  const file = modelPlansFile(model);
  if (!fs.existsSync(file)) throw new BadInputError(`${file}: missing; train ${configuration} first`, file);
  const previous = rawConfiguration(readPlansV2(file), configuration, file).previous_stage;
  return typeof previous === 'string' && previous !== '' ? previous : undefined;
}

/**
 * nnUNetv2_predict with one trained configuration over the test images. A cascade stage first predicts its
 * previous stage (same trainer, plans and folds) into its own folder and reads it as -prev_stage_predictions.
 */
async function predictMember(input: PredictTestSetInput, configuration: string, outputDir: string, saveProbabilities: boolean): Promise<void> {
  const { paths } = input;
  const model = v2ModelFolder(paths.resultsDir, paths.taskName, input.trainer, input.plansIdentifier, configuration);
  const folds = v2TrainedFolds(model, CHECKPOINT);
  if (folds.length === 0) throw new BadInputError(`${model}: no fold holds ${CHECKPOINT}; train the model first`, model);
  const previous = previousStageOf(model, configuration);
  const previousDir = previous && v2TestSetFolder(paths.resultsDir, paths.taskName, input.winner.name, v2PreviousStagePart(previous));
  if (previous && previousDir) await predictMember(input, previous, previousDir, false);
  const loaded = loadV2Model(model, { folds, checkpointName: CHECKPOINT });
  try {
    const channels = Object.keys(loaded.datasetJson.channel_names ?? loaded.datasetJson.modality ?? {}).length;
    const ending = loaded.datasetJson.file_ending;
    const cases = rawCasesInFolder(testImagesFolder(paths), ending, channels)
      .map((c) => (previousDir ? { ...c, previousStage: v2PredictionFiles(previousDir, c.caseId, ending).segmentation } : c));
    const recordedArgs = { model_folder: model, folds, ...(previousDir ? { prev_stage_predictions: previousDir } : {}) };
    await predictFilesV2(loaded, cases, outputDir, { saveProbabilities, overwrite: false, recordedArgs });
  } finally {
    loaded.dispose();
  }
}

export async function predictTestSetV2(input: PredictTestSetInput): Promise<PredictTestSetOutput> {
  const { paths, winner } = input;
  if (!fs.existsSync(testImagesFolder(paths))) throw new BadInputError(`${testImagesFolder(paths)}: no test images to predict; leave out --predict`, testImagesFolder(paths));
  const folder = (part: string) => v2TestSetFolder(paths.resultsDir, paths.taskName, winner.name, part);
  const single = winner.configurations.length === 1;
  for (const c of winner.configurations) await predictMember(input, c, folder(c), !single);
  const fileEnding = readDataset(paths.rawDir).fileEnding;
  const raw = single ? folder(winner.configurations[0]!) : folder('ensemble');
  if (!single) await ensembleFoldersV2({ inputDirs: winner.configurations.map(folder), outputDir: raw, fileEnding });
  const steps = readPostprocessingPklV2(winnerPostprocessingFile(paths.resultsDir, paths.taskName));
  const outputDir = folder('postprocessed');
  const files = fs.readdirSync(raw).filter((f) => f.endsWith(fileEnding)).sort();
  await applyPostprocessingFolderV2(raw, outputDir, files, steps);
  return { outputDir, cases: files.length };
}
