/**
 * nnUNet_ensemble: for every case with a softmax `.npz` in all folders, the mean of the probabilities,
 * argmax (for a region model's sigmoid probabilities: regions_class_order where the mean exceeds 0.5, as v2's
 * convert_probabilities_to_segmentation), the label map on the raw grid (properties from the first folder), then the postprocessing rules of the
 * given postprocessing.json. Folders come from `nnunet predict --save_npz` (or validation with --npz), or from
 * nnU-Net v1's `-z` / `--npz` (.npz + .pkl): the two mix. See docs/interop.md, 'Softmax .npz'.
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { postprocessingFile } from '../io/layout';
import { argmaxClasses, meanProbabilities, type Probabilities } from '../inference/export';
import { segmentationOf } from '../inference/v2/export';
import { propertiesPklFile, readSoftmax, segmentationFile, writeSegmentation, writeSoftmax, type SoftmaxProperties } from '../inference/write-prediction';
import { readPostprocessingRules, type PostprocessingRules } from '../postprocessing/rules';

export interface EnsembleOptions {
  /** postprocessing.json to apply to the ensembled label maps. */
  postprocessingFile?: string;
  /** Also write the averaged softmax (`.npz` + `.json`) into the output folder. */
  saveNpz?: boolean;
  onCase?: (done: number, total: number, caseId: string) => void;
}

export interface EnsembleResult { cases: string[]; outputDir: string }

/** Case ids with a `.npz` in every folder, sorted. */
export function commonCases(folders: readonly string[]): string[] {
  const perFolder = folders.map((dir) => {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new BadInputError(`${dir}: no such folder`, dir);
    return new Set(fs.readdirSync(dir).filter((f) => f.endsWith('.npz')).map((f) => f.slice(0, -4)));
  });
  return [...perFolder[0]].filter((id) => perFolder.every((s) => s.has(id))).sort();
}

/**
 * The label map of averaged probabilities: argmax, or regions_class_order when every input is a region model's;
 * `files` names each input's probabilities for the error when they differ.
 */
export function segmentationOfMean(mean: Probabilities, inputs: ReadonlyArray<{ properties: SoftmaxProperties }>, files: readonly string[]): Uint8Array {
  const orders = inputs.map((i) => JSON.stringify(i.properties.regions_class_order ?? null));
  const odd = orders.findIndex((o) => o !== orders[0]);
  if (odd > 0) {
    throw new BadInputError(`${files[odd]}: a region-based prediction or not (regions_class_order ${orders[odd]}) unlike ${files[0]} (${orders[0]}); ensemble models trained on the same labels`, files[odd]);
  }
  const order = inputs[0]!.properties.regions_class_order;
  return order ? Uint8Array.from(segmentationOf(mean.data, mean.numClasses, order)) : argmaxClasses(mean);
}

export async function ensembleFolders(folders: readonly string[], outputDir: string, opts: EnsembleOptions = {}): Promise<EnsembleResult> {
  if (folders.length < 2) throw new BadInputError(`ensembling needs at least two prediction folders, got ${folders.length}`);
  const cases = commonCases(folders);
  if (cases.length === 0) {
    throw new BadInputError(`${folders.join(', ')}: no case has a softmax .npz in every folder; predict with --save_npz (nnU-Net: -z)`, folders[0]);
  }
  const rules: PostprocessingRules | undefined = opts.postprocessingFile ? readPostprocessingRules(opts.postprocessingFile) : undefined;
  fs.mkdirSync(outputDir, { recursive: true });
  let done = 0;
  for (const id of cases) {
    const inputs = folders.map((dir) => readSoftmax(dir, id));
    const properties = inputs[0].properties;
    const mean = meanProbabilities(inputs.map((i) => i.probabilities));
    if (opts.saveNpz) writeSoftmax(outputDir, id, mean, properties);
    await writeSegmentation(segmentationFile(outputDir, id), segmentationOfMean(mean, inputs, folders.map((d) => propertiesPklFile(d, id))), properties, rules);
    opts.onCase?.(++done, cases.length, id);
  }
  // as nnU-Net's merge(): the rules applied travel with the predictions
  if (opts.postprocessingFile) writeFileAtomic(postprocessingFile(outputDir), fs.readFileSync(opts.postprocessingFile));
  return { cases, outputDir };
}
