/**
 * nnU-Net v2's ensemble_folders (nnUNetv2_ensemble): folders of <case>.npz probabilities (+ <case>.pkl properties,
 * as nnUNetv2_predict --save_probabilities or the fold validation with --npz write them) averaged per case in
 * float32 in folder order, turned into a segmentation as LabelManager.convert_probabilities_to_segmentation does
 * (argmax, or for regions regions_class_order where the averaged sigmoid probability exceeds 0.5) and written
 * with the first folder's properties as <case><file_ending>. Every folder must hold the same .npz files.
 * With saveProbabilities also <case>.npz ('probabilities') and <case>.pkl (the first folder's properties).
 */
import * as fs from 'node:fs';
import { BadInputError } from '../common/errors';
import { datasetJsonFile, v2PredictionFiles } from '../io/layout';
import { geometryOfCaseProperties, type Geometry } from '../io/geometry';
import { writeImageFile, type ReaderWriterName } from '../io/image-formats/registry';
import { readNpzArray, writeNpz } from '../io/npz';
import { readPickle, type PyValue } from '../io/pickle';
import { segmentationOf } from '../inference/v2/export';

export interface EnsembleFoldersV2Input {
  inputDirs: readonly string[];
  outputDir: string;
  fileEnding: string;
  /** dataset.json's regions_class_order for a region model, else undefined. */
  regionsClassOrder?: readonly number[];
  saveProbabilities?: boolean;
  /** dataset.json's overwrite_image_reader_writer class; else the file ending chooses. */
  readerWriter?: ReaderWriterName;
}

function npzCases(dirs: readonly string[]): string[] {
  const perDir = dirs.map((d) => {
    if (!fs.existsSync(d)) throw new BadInputError(`${d}: no such folder`, d);
    return new Set(fs.readdirSync(d).filter((f) => f.endsWith('.npz')).map((f) => f.slice(0, -4)));
  });
  const all = new Set(perDir.flatMap((s) => [...s]));
  perDir.forEach((s, i) => {
    const missing = [...all].filter((c) => !s.has(c));
    if (missing.length > 0) throw new BadInputError(`${dirs[i]}: no ${missing.slice(0, 3).map((c) => `${c}.npz`).join(', ')}; not all folders contain the same files for ensembling (predict with --save_probabilities)`, dirs[i]);
  });
  if (all.size === 0) throw new BadInputError(`${dirs[0]}: no <case>.npz probabilities; predict with --save_probabilities (validation: --npz)`, dirs[0]);
  return [...all].sort();
}

/** average_probabilities: float32 sum in folder order, divided by the count. */
function averaged(files: readonly string[]): { data: Float32Array; shape: number[] } {
  const first = readNpzArray(files[0]!, 'probabilities');
  const sum = Float32Array.from(first.data as ArrayLike<number>);
  for (const f of files.slice(1)) {
    const p = readNpzArray(f, 'probabilities');
    if (p.shape.join() !== first.shape.join()) throw new BadInputError(`${f}: probabilities of shape ${p.shape.join('x')}, ${files[0]} has ${first.shape.join('x')}`, f);
    const d = p.data as ArrayLike<number>;
    for (let i = 0; i < sum.length; i++) sum[i] = Math.fround(sum[i]! + d[i]!);
  }
  for (let i = 0; i < sum.length; i++) sum[i] = Math.fround(sum[i]! / files.length);
  return { data: sum, shape: [...first.shape] };
}

/** The raw image geometry from a v2 properties .pkl (sitk_stuff, or the spacing alone for pictures and tiffs). */
function geometryOf(pkl: string): Geometry {
  const props = readPickle(fs.readFileSync(pkl)) as Record<string, PyValue> | Map<PyValue, PyValue>;
  const get = (o: unknown, k: string): unknown => (o instanceof Map ? o.get(k) : (o as Record<string, unknown> | undefined)?.[k]);
  const nums = (o: unknown, k: string) => Array.from((get(o, k) ?? []) as ArrayLike<unknown>).map(Number);
  const sitk = get(props, 'sitk_stuff');
  return geometryOfCaseProperties({
    ...(sitk === undefined ? {} : { sitk_stuff: { spacing: nums(sitk, 'spacing'), origin: nums(sitk, 'origin'), direction: nums(sitk, 'direction') } }),
    spacing: nums(props, 'spacing'),
  }, pkl);
}

/** merge_files: one case from its probability files (the first one's .pkl gives the geometry) into outputDir. */
export async function mergeCaseV2(probabilityFiles: readonly string[], propertiesFile: string, outputDir: string, caseId: string, input: Omit<EnsembleFoldersV2Input, 'inputDirs' | 'outputDir'>): Promise<void> {
  const avg = averaged(probabilityFiles);
  const heads = avg.shape[0]!;
  const seg = segmentationOf(avg.data, heads, input.regionsClassOrder);
  const out = v2PredictionFiles(outputDir, caseId, input.fileEnding);
  const wide = seg.some((v) => v >= 255);
  await writeImageFile(out.segmentation, { data: wide ? seg : Uint8Array.from(seg), dtype: wide ? 'uint16' : 'uint8', shape: avg.shape.slice(1), geometry: geometryOf(propertiesFile) }, 'seg', input.readerWriter);
  if (input.saveProbabilities) {
    writeNpz(out.probabilities, { probabilities: { data: avg.data, shape: avg.shape, dtype: 'float32' } });
    fs.copyFileSync(propertiesFile, out.properties);
  }
}

export async function ensembleFoldersV2(input: EnsembleFoldersV2Input): Promise<string[]> {
  const cases = npzCases(input.inputDirs);
  fs.mkdirSync(input.outputDir, { recursive: true });
  const ds = datasetJsonFile(input.inputDirs[0]!);
  if (fs.existsSync(ds)) fs.copyFileSync(ds, datasetJsonFile(input.outputDir));
  for (const c of cases) {
    const inputs = input.inputDirs.map((d) => v2PredictionFiles(d, c, input.fileEnding));
    await mergeCaseV2(inputs.map((f) => f.probabilities), inputs[0]!.properties, input.outputDir, c, input);
  }
  return cases;
}
