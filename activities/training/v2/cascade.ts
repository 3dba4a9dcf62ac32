/**
 * nnU-Net v2's cascade in the trainer. A stage with `next_stage` (3d_lowres) exports, for every validation case,
 * its prediction resampled to the next stage's preprocessed grid (perform_actual_validation + resample_and_save)
 * into <model>/predicted_next_stage/<next configuration>/<case>.npz (`seg`, uint8, (z, y, x)). A stage with
 * `previous_stage` (3d_cascade_fullres) reads them from the previous stage's model folder of the same trainer and
 * plans (folder_with_segs_from_previous_stage): as a second seg channel in training, stacked one-hot onto the
 * image in validation. Every case of the split needs one: every fold of the previous stage is trained first (or
 * its fold `all`, whose validation predicts every case).
 */
import * as fs from 'node:fs';
import { BadInputError } from '../../common/errors';
import { resampleLogitsToShape, segmentationOf, type ExportModelV2 } from '../../inference/v2/export';
import {
  dataFolderV2, preprocessedCaseV2Files, segFromPrevStageFile, v2ModelFolder, v2NextStageSegFile, v2PredictedNextStageFolder, v2UnpackedFolder,
} from '../../io/layout';
import { writeNpy } from '../../io/npy';
import { readNpz, writeNpz } from '../../io/npz';
import type { PlansV2 } from '../../planning/v2/experiment';
import { resolveConfiguration } from '../../planning/v2/parameters';
import type { Shape3 } from '../../volume/crop';
import type { FoldSplit } from '../splits';

/** ConfigurationManager.next_stage_names: `next_stage` as a list (v2 accepts one name or several). */
export function nextStageNames(cfg: Record<string, unknown>): string[] {
  const ns = cfg.next_stage;
  if (typeof ns === 'string') return ns ? [ns] : [];
  return Array.isArray(ns) ? ns.map(String) : [];
}

/** ConfigurationManager.previous_stage_name, or undefined for a first stage. */
export function previousStageName(cfg: Record<string, unknown>): string | undefined {
  return typeof cfg.previous_stage === 'string' && cfg.previous_stage ? cfg.previous_stage : undefined;
}

export interface NextStageExportV2 {
  plans: PlansV2;
  /** The exporting stage's model folder (output_folder_base). */
  modelDir: string;
  /** nnUNet_preprocessed/<Dataset>: where each next stage's preprocessed case gives the target shape. */
  preprocessedDir: string;
  model: ExportModelV2;
  heads: number;
  foregroundLabelCount: number;
  log?: (line: string) => void;
}

/** The stage's logits of one case (heads × shape, preprocessed grid) as every next stage's segmentation. */
export function exportForNextStagesV2(x: NextStageExportV2, caseId: string, logits: Float32Array, shape: Shape3): void {
  for (const next of nextStageNames(x.model.configuration)) {
    const spacing = x.model.configuration.spacing as number[];
    if (spacing.length !== 3) throw new BadInputError(`${x.model.source}: a cascade's first stage must be 3D (spacing ${JSON.stringify(spacing)})`, x.model.source);
    if (!x.plans.configurations[next]) throw new BadInputError(`${x.model.source}: next_stage ${next} is not a configuration of the plans`, x.model.source);
    const folder = dataFolderV2(x.preprocessedDir, String(resolveConfiguration(x.plans, next).data_identifier));
    const file = preprocessedCaseV2Files(folder, caseId).npz;
    if (!fs.existsSync(file)) {
      x.log?.(`Predicting next stage ${next} failed for case ${caseId} because the preprocessed file is missing! Run the preprocessing for this configuration first!`);
      continue;
    }
    const d = readNpz(file).data;
    if (!d || d.shape.length !== 4) throw new BadInputError(`${file}: expected 'data' (C, z, y, x); preprocess ${next} again`, file);
    const target = d.shape.slice(1) as unknown as Shape3;
    const out = v2PredictedNextStageFolder(x.modelDir, next);
    fs.mkdirSync(out, { recursive: true });
    const wide = x.foregroundLabelCount >= 255;
    const seg = nextStageSegmentation(logits, x.heads, shape, target, x.model);
    writeNpzSeg(v2NextStageSegFile(out, caseId), wide ? seg : Uint8Array.from(seg), target, wide);
  }
}

/** resample_and_save's segmentation: the logits resampled to the next stage's grid, then argmax (or regions). */
export function nextStageSegmentation(logits: Float32Array, heads: number, shape: Shape3, target: Shape3, model: ExportModelV2): Uint16Array {
  const spacing = model.configuration.spacing as number[];
  // resample_and_save hands the configuration's spacing as both current and target spacing
  const resampled = resampleLogitsToShape(logits, heads, shape, target, spacing, spacing, model);
  return segmentationOf(resampled, heads, model.regionsClassOrder);
}

/** np.savez_compressed(seg=...) as nnUNetDatasetNumpy.save_seg (uint16 from 255 foreground labels on). */
function writeNpzSeg(file: string, seg: Uint8Array | Uint16Array, shape: Shape3, wide: boolean): void {
  writeNpz(file, { seg: wide ? { data: seg as Uint16Array, shape: [...shape], dtype: 'uint16' } : { data: seg as Uint8Array, shape: [...shape], dtype: 'uint8' } });
}

/** Where a cascade stage finds its previous stage's segmentations, and what to run when one is missing. */
export interface PreviousStageV2 {
  /** <results>/<Dataset>/<Trainer>__<Plans>__<previous>/predicted_next_stage/<configuration>. */
  folder: string;
  previous: string;
  /** The split the previous stage was trained with: the fold whose validation predicts a case. */
  splits: readonly FoldSplit[];
  command: (fold: number | 'all') => string;
}

export function previousStageV2(args: { resultsRoot: string; datasetName: string; trainer: string; plansName: string; configuration: string; previous: string; splits: readonly FoldSplit[] }): PreviousStageV2 {
  const model = v2ModelFolder(args.resultsRoot, args.datasetName, args.trainer, args.plansName, args.previous);
  return {
    folder: v2PredictedNextStageFolder(model, args.configuration),
    previous: args.previous,
    splits: args.splits,
    command: (fold) => `nnUNetv2_train ${args.datasetName} ${args.previous} ${fold} -tr ${args.trainer} -p ${args.plansName}`,
  };
}

function missingPreviousStage(p: PreviousStageV2, caseId: string, file: string): BadInputError {
  const fold = p.splits.findIndex((s) => s.val.includes(caseId));
  const which = fold >= 0 ? `train ${p.previous} fold ${fold} first (its validation writes it): ${p.command(fold)}` : `train ${p.previous} first (${p.command('all')} predicts every case)`;
  return new BadInputError(`${file}: the ${p.previous} segmentation of ${caseId} is missing; ${which}`, file);
}

/** The previous stage's segmentation of a case (z, y, x); a clear error naming the fold to train when it is missing. */
export function readPreviousStageSeg(p: PreviousStageV2, caseId: string): { data: ArrayLike<number>; shape: number[]; file: string } {
  const file = v2NextStageSegFile(p.folder, caseId);
  if (!fs.existsSync(file)) throw missingPreviousStage(p, caseId, file);
  const seg = readNpz(file).seg;
  if (!seg || seg.shape.length !== 3) throw new BadInputError(`${file}: expected 'seg' (z, y, x); train ${p.previous} again`, file);
  return { data: seg.data as ArrayLike<number>, shape: seg.shape, file };
}

/**
 * The training loader's copy of the previous stage: <folder>/unpacked_nnunet_ts/<case>_segFromPrevStage.npy (int16,
 * as v2's loader casts it), rewritten only when its .npz is newer. Returns the folder the loader reads.
 */
export function unpackPreviousStageV2(p: PreviousStageV2, caseIds: readonly string[]): string {
  for (const id of caseIds) {
    const file = v2NextStageSegFile(p.folder, id);
    if (!fs.existsSync(file)) throw missingPreviousStage(p, id, file);
  }
  const out = v2UnpackedFolder(p.folder);
  fs.mkdirSync(out, { recursive: true });
  for (const id of caseIds) {
    const npy = segFromPrevStageFile(out, id);
    const src = v2NextStageSegFile(p.folder, id);
    if (fs.existsSync(npy) && fs.existsSync(src) && fs.statSync(npy).mtimeMs >= fs.statSync(src).mtimeMs) continue;
    const seg = readPreviousStageSeg(p, id);
    writeNpy(npy, { data: Int16Array.from(seg.data), shape: seg.shape, dtype: 'int16' });
  }
  return out;
}
