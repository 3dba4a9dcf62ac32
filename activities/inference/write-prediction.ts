/**
 * The files of one predicted case, as nnUNet_predict writes them into the output folder:
 * - `<case>.nii.gz`: uint8 label map with the raw image's spacing, origin and direction (postprocessing applied
 *   when rules are given, as nnU-Net does after exporting);
 * - with `--save_npz`: `<case>.npz` (key `softmax`, class-first probabilities on the raw image grid, float32,
 *   background 1 outside the crop box) and `<case>.json` (the case properties; nnU-Net's `<case>.pkl`).
 * The label map is written last, so its presence means the case is complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../common/atomic';
import { writeNifti } from '../io/nifti';
import { readNpzArray, writeNpz } from '../io/npz';
import { BadInputError } from '../common/errors';
import { applyPostprocessing, type PostprocessingRules } from '../postprocessing/rules';
import { geometryOf, type ExportProperties, type Probabilities } from './export';

export const segmentationFile = (dir: string, caseId: string) => path.join(dir, `${caseId}.nii.gz`);
export const softmaxFile = (dir: string, caseId: string) => path.join(dir, `${caseId}.npz`);
export const propertiesFile = (dir: string, caseId: string) => path.join(dir, `${caseId}.json`);

/** Postprocesses (in place) and writes a label map on the raw grid. */
export async function writeSegmentation(file: string, seg: Uint8Array, props: ExportProperties, rules?: PostprocessingRules): Promise<void> {
  const shape = props.original_size_of_raw_data;
  const geometry = geometryOf(props);
  if (rules && rules.forWhichClasses.length > 0) {
    const voxelVolume = geometry.spacing[0] * geometry.spacing[1] * geometry.spacing[2];
    applyPostprocessing(seg, [shape[0], shape[1], shape[2]], rules, voxelVolume);
  }
  await writeNifti(file, { data: seg, shape: [...shape], dtype: 'uint8', geometry });
}

export function writeSoftmax(dir: string, caseId: string, probabilities: Probabilities, props: ExportProperties): void {
  writeNpz(softmaxFile(dir, caseId), { softmax: { data: probabilities.data, shape: [probabilities.numClasses, ...probabilities.shape], dtype: 'float32' } });
  writeJsonAtomic(propertiesFile(dir, caseId), props);
}

/** Reads a case's `.npz` softmax and `.json` properties from a prediction folder (written with --save_npz). */
export function readSoftmax(dir: string, caseId: string): { probabilities: Probabilities; properties: ExportProperties } {
  const propsFile = propertiesFile(dir, caseId);
  if (!fs.existsSync(propsFile)) {
    throw new BadInputError(`${propsFile}: missing; the folder must come from \`nnunet predict --save_npz\` (nnU-Net's .pkl files are not read)`, propsFile);
  }
  const properties = JSON.parse(fs.readFileSync(propsFile, 'utf8')) as ExportProperties;
  const arr = readNpzArray(softmaxFile(dir, caseId), 'softmax');
  const full = properties.original_size_of_raw_data;
  if (arr.shape.length !== 4 || arr.shape.slice(1).some((d, i) => d !== full[i])) {
    throw new BadInputError(`${softmaxFile(dir, caseId)}: softmax shape ${arr.shape.join('x')} does not match the case (K x ${full.join('x')}); re-run predict with --save_npz`, softmaxFile(dir, caseId));
  }
  const data = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data);
  return { probabilities: { data, numClasses: arr.shape[0], shape: [full[0], full[1], full[2]] }, properties };
}
