/**
 * nnUNet_predict for a task: the model folder of a configuration (io/layout.ts), its plans,
 * its folds (default: every fold_N present) and checkpoint, the input folder checked before any work, the
 * cascade's 3d_lowres pass first (into OUT/3d_lowres_predictions unless a lowres folder is given), and the
 * model's postprocessing.json applied (and copied into OUT) when it exists.
 * See docs/inference.md, 'How a case is predicted'.
 */
import * as fs from 'node:fs';
import type { Configuration, Fold, TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import type { ResolvedConfiguration } from '../planning/configuration';
import { readPostprocessingRules, type PostprocessingRules } from '../postprocessing/rules';
import { checkpointFile, DEFAULT_CHECKPOINT, foldFolder, lowresPredictionsFolder, modelFolder, postprocessingFile } from '../io/layout';
import { plansFileFor, resolveModelConfiguration } from './model-configuration';
import { availableFolds, loadModel } from './network-predictor';
import { listInputCases, predictFolder, type InputCase, type PredictFolderResult } from './predict-folder';

export { DEFAULT_CHECKPOINT };

export interface PredictTaskOptions {
  paths: TaskPaths;
  inputDir: string;
  outputDir: string;
  configuration: Configuration;
  trainer: string;
  plansIdentifier: string;
  /** Default: every fold_N of the model folder. */
  folds?: Fold[];
  checkpoint?: string;
  saveNpz?: boolean;
  stepSize?: number;
  tta?: boolean;
  /** 3d_cascade_fullres: existing 3d_lowres predictions (nnU-Net -l). */
  lowresDir?: string;
  overwrite?: boolean;
  /** The input cases as checkPredictTask returned them (each image already read and checked once). */
  cases?: InputCase[];
  onCase?: (configuration: Configuration, done: number, total: number, caseId: string) => void;
}

export interface PredictTaskResult extends PredictFolderResult {
  outputDir: string;
  modelDir: string;
  folds: Fold[];
  postprocessingFile?: string;
  lowres?: PredictTaskResult;
}

export { plansFileFor };

interface Resolved { modelDir: string; resolved: ResolvedConfiguration; folds: Fold[]; cases: InputCase[] }

/** Everything checked before any work: plans, input images, folds. */
async function resolve(opts: PredictTaskOptions, configuration: Configuration): Promise<Resolved> {
  const modelDir = modelFolder(opts.paths, configuration, opts.trainer, opts.plansIdentifier);
  const folds = opts.folds ?? availableFolds(modelDir);
  const checkpoint = opts.checkpoint ?? DEFAULT_CHECKPOINT;
  const resolved = resolveModelConfiguration({ paths: opts.paths, modelDir, configuration, plansIdentifier: opts.plansIdentifier, folds, checkpoint });
  const cases = opts.cases ?? (await listInputCases(opts.inputDir, resolved.plans.num_modalities));
  if (folds.length === 0) throw new BadInputError(`${modelDir}: no trained folds (${foldFolder('', 0)} ... ${foldFolder('', 4)}) for ${configuration}; train it first`, modelDir);
  const missing = folds.map((f) => checkpointFile(foldFolder(modelDir, f), checkpoint)).filter((f) => !fs.existsSync(f));
  if (missing.length) throw new BadInputError(`${missing.join(', ')}: checkpoint missing; train these folds, choose others with -f, or another checkpoint with -chk`, missing[0]);
  return { modelDir, resolved, folds, cases };
}

export async function predictTask(opts: PredictTaskOptions): Promise<PredictTaskResult> {
  const main = await resolve(opts, opts.configuration);
  if (opts.configuration === '3d_cascade_fullres' && !opts.lowresDir) await resolve(opts, '3d_lowres');
  let lowres: PredictTaskResult | undefined;
  let lowresDir = opts.lowresDir;
  if (opts.configuration === '3d_cascade_fullres' && !lowresDir) {
    // nnU-Net's predict_simple runs the lowres model with the same folds (-f) and trainer (-tr) as asked for the cascade.
    lowresDir = lowresPredictionsFolder(opts.outputDir);
    lowres = await predictTask({ ...opts, configuration: '3d_lowres', outputDir: lowresDir, saveNpz: false, lowresDir: undefined });
  }
  const ppFile = postprocessingFile(main.modelDir);
  const postprocessing: PostprocessingRules | undefined = fs.existsSync(ppFile) ? readPostprocessingRules(ppFile) : undefined;
  const model = loadModel(main.modelDir, main.resolved, main.folds, opts.checkpoint ?? DEFAULT_CHECKPOINT, opts.tta ?? true);
  try {
    const r = await predictFolder({
      inputDir: opts.inputDir, outputDir: opts.outputDir, model, cases: main.cases, saveNpz: opts.saveNpz, stepSize: opts.stepSize,
      postprocessing, lowresDir: opts.configuration === '3d_cascade_fullres' ? lowresDir : undefined, overwrite: opts.overwrite,
      onCase: (done, total, id) => opts.onCase?.(opts.configuration, done, total, id),
    });
    if (postprocessing) writeFileAtomic(postprocessingFile(opts.outputDir), fs.readFileSync(ppFile));
    return { ...r, outputDir: opts.outputDir, modelDir: main.modelDir, folds: main.folds, postprocessingFile: postprocessing ? ppFile : undefined, lowres };
  } finally {
    model.dispose();
  }
}

/** Checks a prediction request without predicting (plans, input folder, folds, checkpoints; the cascade's lowres too). */
export async function checkPredictTask(opts: PredictTaskOptions): Promise<InputCase[]> {
  const { cases } = await resolve(opts, opts.configuration);
  if (opts.configuration === '3d_cascade_fullres' && !opts.lowresDir) await resolve({ ...opts, cases }, '3d_lowres');
  return cases;
}
