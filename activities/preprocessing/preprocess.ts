/**
 * The preprocessing stage for one configuration: every cropped case through preprocessCase, in worker threads,
 * into <preprocessed>/<task>/<data_identifier>_stage<N> (nnUNetData_plans_v2.1_stage0, ..._2D_stage0).
 * Idempotent per case (signature in each case's json); 3d_cascade_fullres shares 3d_fullres's folder.
 * Also copies gt_segmentations/ from the cropped folder into the preprocessed folder, as nnU-Net does.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Configuration, TaskPaths } from '../contract';
import { BadInputError } from '../common/errors';
import { writeFileAtomic, writeJsonAtomic } from '../common/atomic';
import { readCroppedProperties } from '../fingerprint/cropped-store';
import { runPool, siblingModule } from '../common/worker-pool';
import { gtSegmentationsFolder } from '../io/layout';
import { dataFolderOf, loadConfiguration, resolveConfiguration, type ResolvedConfiguration } from '../planning/configuration';
import { stages, type Plans } from '../planning/plans';
import { channelNormalizations } from './normalize';
import type { StageParams } from './pipeline';
import { preprocessCase, preprocessedNpy, type PreprocessCaseInput } from './preprocess-case';

/** Bump when the preprocessed format or algorithm changes: stored cases are then recomputed. */
export const PREPROCESSED_FORMAT_VERSION = 1;

export interface StageSelection { stageIndex: number; dataDir: string; inPlaneOnly: boolean }

/** Which plans stage and folder a configuration uses (v1 default_configuration.py); see planning/configuration.ts. */
export function stageFor(plans: Plans, configuration: Configuration, preprocessedDir: string, plansFile: string): StageSelection {
  const rc = resolveConfiguration(plans, plansFile, configuration, { preprocessedDir });
  return { stageIndex: rc.stageIndex, dataDir: dataFolderOf(rc), inPlaneOnly: rc.inPlaneOnly };
}

/** Case ids the plans were made for (the fingerprint's, sorted as nnU-Net lists the cropped folder). */
export function plannedCaseIds(plans: Plans): string[] {
  return Object.keys(plans.dataset_properties.size_reductions).sort();
}

export interface PreprocessOptions { numProcesses: number; onProgress?: (done: number, total: number) => void }
export interface PreprocessResult { dataDir: string; numCases: number; computedCases: number }

/** The per-stage parameters every case of this configuration is preprocessed with. */
export function stageParamsOf(rc: ResolvedConfiguration): StageParams {
  return stageParams(rc.plans, rc, rc.plansFile);
}

export function stageParams(plans: Plans, sel: Omit<StageSelection, 'dataDir'>, plansFile: string): StageParams {
  const stage = stages(plans)[sel.stageIndex];
  const normalizations = channelNormalizations(plans.normalization_schemes, plans.use_mask_for_norm,
    plans.dataset_properties.intensityproperties as Parameters<typeof channelNormalizations>[2], plansFile);
  return { transposeForward: plans.transpose_forward, targetSpacing: stage.current_spacing, inPlaneOnly: sel.inPlaneOnly, normalizations };
}

function caseInputs(paths: TaskPaths, rc: ResolvedConfiguration): PreprocessCaseInput[] {
  const { plans } = rc;
  const common = {
    ...stageParamsOf(rc),
    croppedDir: paths.croppedDir,
    outDir: dataFolderOf(rc),
    useNonzeroMaskForNorm: plans.use_mask_for_norm,
    allClasses: plans.all_classes,
  };
  return plannedCaseIds(plans).map((caseId) => {
    const cropped = readCroppedProperties(paths.croppedDir, caseId);
    if (!cropped) {
      throw new BadInputError(`${path.join(paths.croppedDir, caseId + '.json')}: cropped case missing; run the fingerprint stage first`, paths.croppedDir);
    }
    const signature = createHash('sha256')
      .update(JSON.stringify({ v: PREPROCESSED_FORMAT_VERSION, cropped: cropped.input_signature, ...common, outDir: undefined }))
      .digest('hex');
    return { caseId, ...common, signature };
  });
}

/** nnU-Net copies the cropped folder's gt_segmentations/ into the preprocessed folder (evaluation reads it there). */
function copyGroundTruth(paths: TaskPaths): void {
  const srcDir = gtSegmentationsFolder(paths.croppedDir);
  if (!fs.existsSync(srcDir)) return;
  for (const name of fs.readdirSync(srcDir)) {
    if (name.startsWith('.tmp-')) continue;
    const src = path.join(srcDir, name);
    const dst = path.join(gtSegmentationsFolder(paths.preprocessedDir), name);
    if (fs.existsSync(dst) && fs.statSync(dst).size === fs.statSync(src).size && fs.statSync(dst).mtimeMs >= fs.statSync(src).mtimeMs) continue;
    writeFileAtomic(dst, fs.readFileSync(src));
  }
}

/** Written last into a stage folder: the signature of every case in it, so a complete stage is skipped at once. */
export const STAGE_MANIFEST = '.nnunet-ts-stage.json';

function stageSignature(inputs: readonly PreprocessCaseInput[]): string {
  return createHash('sha256').update(JSON.stringify(inputs.map((i) => [i.caseId, i.signature]))).digest('hex');
}

function stageIsComplete(dataDir: string, inputs: readonly PreprocessCaseInput[]): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dataDir, STAGE_MANIFEST), 'utf8')) as { signature?: string };
    return m.signature === stageSignature(inputs) && inputs.every((i) => fs.existsSync(preprocessedNpy(dataDir, i.caseId)));
  } catch {
    return false;
  }
}

export async function runPreprocess(paths: TaskPaths, plansFile: string, configuration: Configuration, options: PreprocessOptions): Promise<PreprocessResult> {
  const rc = loadConfiguration(plansFile, configuration, { preprocessedDir: paths.preprocessedDir });
  const dataDir = dataFolderOf(rc);
  const inputs = caseInputs(paths, rc);
  if (stageIsComplete(dataDir, inputs)) return { dataDir: dataDir, numCases: inputs.length, computedCases: 0 };
  fs.mkdirSync(dataDir, { recursive: true });
  let done = 0;
  const results = await runPool(siblingModule(__filename, 'preprocess-case'), preprocessCase, inputs, {
    concurrency: options.numProcesses,
    onResult: () => options.onProgress?.(++done, inputs.length),
  });
  copyGroundTruth(paths);
  writeJsonAtomic(path.join(dataDir, STAGE_MANIFEST), { signature: stageSignature(inputs), cases: inputs.map((i) => i.caseId) });
  return { dataDir: dataDir, numCases: results.length, computedCases: results.filter((r) => !r.reused).length };
}
