/**
 * The files of one predicted case, as nnUNet_predict writes them into the output folder:
 * - `<case>.nii.gz`: uint8 label map with the raw image's spacing, origin and direction (postprocessing applied
 *   when rules are given, as nnU-Net does after exporting);
 * - with `--save_npz`, as nnU-Net v1 writes them so that its ensembling reads ours and ours reads its:
 *   `<case>.npz` (key `softmax`, float16, class-first probabilities on the cropped grid at the original spacing,
 *   axes in the image's array order), `<case>.pkl` (the case properties, pickled with nnU-Net's types) and
 *   `<case>.json` (the same properties as JSON, ours).
 * Reading accepts nnU-Net's folders (.npz + .pkl) and ours, including older ones whose float32 softmax covers the
 * whole image. The label map is written last, so its presence means the case is complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../common/atomic';
import { writeNifti } from '../io/nifti';
import { readNpzArray, writeNpz } from '../io/npz';
import { readCasePropertiesPkl, writeCasePropertiesPkl } from '../io/nnunet-pickles';
import { BadInputError } from '../common/errors';
import { applyPostprocessing, type PostprocessingRules } from '../postprocessing/rules';
import { cropProbabilities, geometryOf, uncropProbabilities, type ExportProperties, type Probabilities } from './export';

export const segmentationFile = (dir: string, caseId: string) => path.join(dir, `${caseId}.nii.gz`);
export const softmaxFile = (dir: string, caseId: string) => path.join(dir, `${caseId}.npz`);
export const propertiesFile = (dir: string, caseId: string) => path.join(dir, `${caseId}.json`);
/** nnU-Net's twin of propertiesFile. */
export const propertiesPklFile = (dir: string, caseId: string) => path.join(dir, `${caseId}.pkl`);

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

/** `probabilities` on the raw grid; stored cropped and as float16, with the properties as .pkl and .json. */
export function writeSoftmax(dir: string, caseId: string, probabilities: Probabilities, props: ExportProperties): void {
  const cropped = cropProbabilities(probabilities, props);
  writeNpz(softmaxFile(dir, caseId), { softmax: { data: cropped.data, shape: [cropped.numClasses, ...cropped.shape], dtype: 'float16' } });
  writeCasePropertiesPkl(propertiesPklFile(dir, caseId), { ...props });
  writeJsonAtomic(propertiesFile(dir, caseId), props);
}

/** Properties of stored probabilities; a region model's say so with its regions_class_order (sigmoid per region). */
export type SoftmaxProperties = ExportProperties & { regions_class_order?: number[] };

/** The case properties of a softmax: our .json, else nnU-Net's .pkl. */
function readSoftmaxProperties(dir: string, caseId: string): SoftmaxProperties {
  const json = propertiesFile(dir, caseId);
  if (fs.existsSync(json)) return JSON.parse(fs.readFileSync(json, 'utf8')) as SoftmaxProperties;
  const pkl = propertiesPklFile(dir, caseId);
  if (!fs.existsSync(pkl)) {
    throw new BadInputError(`${pkl}: missing (nor is there a ${path.basename(json)}); the folder must come from \`nnunet predict --save_npz\` or nnU-Net's -z / --npz, which write one beside each .npz`, pkl);
  }
  const props = readCasePropertiesPkl(pkl);
  const order = props.regions_class_order;
  if (order !== undefined && order !== null) props.regions_class_order = Array.from(order as ArrayLike<number>, Number);
  else delete props.regions_class_order;
  const missing = ['original_size_of_raw_data', 'size_after_cropping', 'crop_bbox', 'itk_spacing', 'itk_origin', 'itk_direction'].filter((k) => props[k] === undefined);
  if (missing.length) throw new BadInputError(`${pkl}: not nnU-Net case properties (no ${missing.join(', ')}); point at the .pkl nnU-Net wrote beside the .npz`, pkl);
  return props as unknown as SoftmaxProperties;
}

/**
 * Reads a case's softmax and properties from a prediction folder (ours or nnU-Net's), as probabilities on the raw
 * image grid (background 1 outside the crop box; for a region model's sigmoids, every region 0 there).
 */
export function readSoftmax(dir: string, caseId: string): { probabilities: Probabilities; properties: SoftmaxProperties } {
  const properties = readSoftmaxProperties(dir, caseId);
  const file = softmaxFile(dir, caseId);
  const arr = readNpzArray(file, 'softmax');
  const full = properties.original_size_of_raw_data;
  const cropped = properties.size_after_cropping;
  const spatial = arr.shape.slice(1);
  const matches = (s: readonly number[]) => arr.shape.length === 4 && spatial.every((d, i) => d === s[i]);
  const data = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data);
  const numClasses = arr.shape[0];
  if (matches(full)) return { probabilities: { data, numClasses, shape: [full[0], full[1], full[2]] }, properties };
  if (!matches(cropped)) {
    throw new BadInputError(`${file}: softmax shape ${arr.shape.join('x')} matches neither the cropped case (K x ${cropped.join('x')}) nor the image (K x ${full.join('x')}); re-run predict with --save_npz`, file);
  }
  const probabilities = uncropProbabilities({ data, numClasses, shape: [cropped[0], cropped[1], cropped[2]] }, properties, !properties.regions_class_order);
  return { probabilities, properties };
}
