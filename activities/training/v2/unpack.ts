/**
 * nnU-Net v2's unpack_dataset for our loader: each preprocessed <case>.npz (`data` (C, z, y, x) float32, `seg`
 * (1, z, y, x) int8/int16) and its <case>.json (properties with v2's class_locations, coordinates (0, z, y, x))
 * become the v1 training layout PatchDataLoader reads: <case>.npy float32 (C+1, z, y, x), seg last, and
 * <case>.json whose class_locations hold (z, y, x). A case is unpacked again only when its .npz is newer.
 */
import * as fs from 'node:fs';
import { writeJsonAtomic } from '../../common/atomic';
import { BadInputError } from '../../common/errors';
import { preprocessedCaseV2Files, unpackedCaseV2Files, v2UnpackedFolder } from '../../io/layout';
import { writeNpy } from '../../io/npy';
import { readNpz } from '../../io/npz';

/** Case ids of a v2 data folder (<case>.npz with its .json), sorted as v2's dataset identifiers. */
export function preprocessedCasesV2(dataFolder: string): string[] {
  if (!fs.existsSync(dataFolder)) throw new BadInputError(`${dataFolder}: no preprocessed data; run nnUNetv2_preprocess (or nnunet preprocess --method v2) first`, dataFolder);
  const ids = fs.readdirSync(dataFolder).filter((f) => f.endsWith('.npz')).map((f) => f.slice(0, -4)).sort();
  if (ids.length === 0) throw new BadInputError(`${dataFolder}: no preprocessed cases (.npz); run nnUNetv2_preprocess again`, dataFolder);
  return ids;
}

/**
 * v2's class_locations {"1": [[0, z, y, x], ...]} → the loader's {"1": [[z, y, x], ...]}; region keys ("1,2,3") and
 * the ignore label's annotated-voxels key ("-1,0,1,2") are kept (dataloader.ts samples them as v2 does).
 */
function v1ClassLocations(raw: unknown, file: string): Record<string, number[][]> {
  if (raw === null || typeof raw !== 'object') throw new BadInputError(`${file}: no class_locations; preprocess the dataset again`, file);
  const out: Record<string, number[][]> = {};
  for (const [key, list] of Object.entries(raw as Record<string, number[][]>)) {
    if (!Array.isArray(list)) throw new BadInputError(`${file}: class_locations["${key}"] is not a list; preprocess again`, file);
    out[key] = list.map((c) => c.slice(-3));
  }
  return out;
}

function unpackCase(dataFolder: string, out: string, id: string): void {
  const files = preprocessedCaseV2Files(dataFolder, id);
  const target = unpackedCaseV2Files(out, id);
  const npy = target.npy;
  if (fs.existsSync(npy) && fs.statSync(npy).mtimeMs >= fs.statSync(files.npz).mtimeMs) return;
  const arrays = readNpz(files.npz);
  const data = arrays.data, seg = arrays.seg;
  if (!data || !seg || data.shape.length !== 4 || seg.shape.length !== 4) {
    throw new BadInputError(`${files.npz}: expected 'data' (C, z, y, x) and 'seg' (1, z, y, x); preprocess again`, files.npz);
  }
  const stacked = new Float32Array(data.data.length + seg.data.length);
  stacked.set(data.data as ArrayLike<number>);
  stacked.set(Float32Array.from(seg.data as ArrayLike<number>), data.data.length);
  let props: { class_locations?: unknown };
  try {
    props = JSON.parse(fs.readFileSync(files.properties, 'utf8'));
  } catch (err) {
    throw new BadInputError(`${files.properties}: cannot read the case properties (${(err as Error).message}); preprocess again`, files.properties);
  }
  writeJsonAtomic(target.properties, { ...props, class_locations: v1ClassLocations(props.class_locations, files.properties) });
  writeNpy(npy, { data: stacked, shape: [data.shape[0]! + 1, ...data.shape.slice(1)], dtype: 'float32' });
}

/** Unpacks every case of a v2 data folder; returns the folder the training loader reads. */
export function unpackDatasetV2(dataFolder: string, caseIds: readonly string[]): string {
  const out = v2UnpackedFolder(dataFolder);
  fs.mkdirSync(out, { recursive: true });
  for (const id of caseIds) unpackCase(dataFolder, out, id);
  return out;
}
