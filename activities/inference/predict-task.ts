/**
 * nnUNet_predict for a task: the model folder of a configuration (io/layout.ts), its plans,
 * its folds (default: every fold_N present) and checkpoint, the input folder checked before any work, the
 * cascade's 3d_lowres pass first (into OUT/3d_lowres_predictions unless a lowres folder is given), and the
 * model's postprocessing.json applied (and copied into OUT) when it exists.
 * See docs/inference.md, 'How a case is predicted'.
 */
import * as fs from 'node:fs';
import { CONFIGURATIONS, type Configuration, type Fold, type TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import type { ResolvedConfiguration } from '../planning/configuration';
import { readPostprocessingRules, type PostprocessingRules } from '../postprocessing/rules';
import { checkpointFile, DEFAULT_CHECKPOINT, foldFolder, lowresPredictionsFolder, modelFolder, postprocessingFile } from '../io/layout';
import { ownModelConfiguration, plansFileFor, resolveModelConfiguration } from './model-configuration';
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
export type { PredictFolderResult };

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
  const r = await predictWithModelFolder(main.modelDir, main.resolved, main.folds, main.cases, {
    ...opts, lowresDir: opts.configuration === '3d_cascade_fullres' ? lowresDir : undefined,
    onCase: (done, total, id) => opts.onCase?.(opts.configuration, done, total, id),
  });
  return { ...r, outputDir: opts.outputDir, modelDir: main.modelDir, folds: main.folds, lowres };
}

type FolderRunOptions = Pick<PredictTaskOptions, 'inputDir' | 'outputDir' | 'checkpoint' | 'saveNpz' | 'stepSize' | 'tta' | 'lowresDir' | 'overwrite'> & {
  onCase?: (done: number, total: number, caseId: string) => void;
};

/** One model folder over the cases, its postprocessing.json applied (and copied into OUT) when it exists. */
async function predictWithModelFolder(modelDir: string, resolved: ResolvedConfiguration, folds: Fold[], cases: InputCase[], opts: FolderRunOptions): Promise<PredictFolderResult & { postprocessingFile?: string }> {
  const ppFile = postprocessingFile(modelDir);
  const postprocessing: PostprocessingRules | undefined = fs.existsSync(ppFile) ? readPostprocessingRules(ppFile) : undefined;
  const model = loadModel(modelDir, resolved, folds, opts.checkpoint ?? DEFAULT_CHECKPOINT, opts.tta ?? true);
  try {
    const r = await predictFolder({
      inputDir: opts.inputDir, outputDir: opts.outputDir, model, cases, saveNpz: opts.saveNpz, stepSize: opts.stepSize,
      postprocessing, lowresDir: opts.lowresDir, overwrite: opts.overwrite, onCase: opts.onCase,
    });
    if (postprocessing) writeFileAtomic(postprocessingFile(opts.outputDir), fs.readFileSync(ppFile));
    return { ...r, postprocessingFile: postprocessing ? ppFile : undefined };
  } finally {
    model.dispose();
  }
}

export interface PredictModelFolderV1Options extends FolderRunOptions {
  modelDir: string;
  configuration: string;
  plansIdentifier: string;
  folds: Fold[];
}

/**
 * A v1 model folder on its own (no task folders around it, e.g. one moved into the v2 tree): its own plans, the
 * given folds and checkpoint; a cascade needs its 3d_lowres predictions given.
 */
export async function predictModelFolderV1(o: PredictModelFolderV1Options): Promise<PredictFolderResult> {
  if (!(CONFIGURATIONS as readonly string[]).includes(o.configuration)) throw new BadInputError(`${o.modelDir}: configuration ${o.configuration} is not one of v1's (${CONFIGURATIONS.join(', ')})`, o.modelDir);
  const configuration = o.configuration as Configuration;
  const checkpoint = o.checkpoint ?? DEFAULT_CHECKPOINT;
  const missing = o.folds.map((f) => checkpointFile(foldFolder(o.modelDir, f), checkpoint)).filter((f) => !fs.existsSync(f));
  if (o.folds.length === 0 || missing.length) throw new BadInputError(`${missing.join(', ') || o.modelDir}: checkpoint missing; choose the folds the model has with -f, or another checkpoint with -chk`, missing[0] ?? o.modelDir);
  const resolved = ownModelConfiguration({ modelDir: o.modelDir, configuration, plansIdentifier: o.plansIdentifier, folds: o.folds, checkpoint });
  if (!resolved) throw new BadInputError(`${o.modelDir}: no plans (plans.json, a checkpoint's .model.pkl or plans.pkl); move the model again`, o.modelDir);
  if (configuration === '3d_cascade_fullres' && !o.lowresDir) {
    throw new BadInputError(`${o.modelDir}: a 3d_cascade_fullres model needs the 3d_lowres predictions; predict 3d_lowres first and pass them with -prev_stage_predictions`, o.modelDir);
  }
  const cases = await listInputCases(o.inputDir, resolved.plans.num_modalities);
  return predictWithModelFolder(o.modelDir, resolved, o.folds, cases, { ...o, checkpoint });
}

/** Checks a prediction request without predicting (plans, input folder, folds, checkpoints; the cascade's lowres too). */
export async function checkPredictTask(opts: PredictTaskOptions): Promise<InputCase[]> {
  const { cases } = await resolve(opts, opts.configuration);
  if (opts.configuration === '3d_cascade_fullres' && !opts.lowresDir) await resolve({ ...opts, cases }, '3d_lowres');
  return cases;
}
