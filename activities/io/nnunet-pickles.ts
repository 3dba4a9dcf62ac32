/**
 * nnU-Net v1's pickles, read as the JSON we keep (integer dict keys become strings, numpy arrays and tuples
 * become arrays) and written back with the Python types nnU-Net writes (integer keys, numpy arrays, tuples,
 * OrderedDicts), so nnU-Net's code finds what it indexes. The plans' typed reader sits in
 * planning/plans-pkl.ts (planning types are above this stage). See docs/interop.md, "Pickles".
 */
import { BadInputError } from '../common/errors';
import { readPickle, writePickle } from './pickle';
import { NumpyArray, PyOrderedDict, PyTuple, toPlain, type NumpyDTypeName, type PyValue } from './pickle-values';
import type { CaseProperties } from './properties';

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Any nnU-Net pickle as plain JSON values; `what` and `fix` go into the error. */
export function readPickleAsJson(file: string, what: string, fix: string): unknown {
  try {
    return toPlain(readPickle(file));
  } catch (err) {
    if (err instanceof BadInputError) throw new BadInputError(`${err.message} (reading ${what}: ${fix})`, file);
    throw err;
  }
}

function readPickledDict(file: string, what: string, fix: string): JsonObject {
  const value = readPickleAsJson(file, what, fix);
  if (!isObject(value)) throw new BadInputError(`${file}: ${what} must be a dict, found ${Array.isArray(value) ? 'a list' : typeof value}; ${fix}`, file);
  return value;
}

// --- how nnU-Net types each key (paths: dict keys by name, '*' for list items and integer-keyed entries)

type Shape = 'intKeys' | 'orderedIntKeys' | 'tuple' | `${NumpyDTypeName}[]` | 'int64[][]';
type Rules = Record<string, Shape>;

const PLANS_RULES: Rules = {
  modalities: 'intKeys', normalization_schemes: 'orderedIntKeys', use_mask_for_norm: 'orderedIntKeys', plans_per_stage: 'intKeys',
  'plans_per_stage.*.patch_size': 'int64[]', 'plans_per_stage.*.median_patient_size_in_voxels': 'int64[]',
  'plans_per_stage.*.current_spacing': 'float64[]', 'plans_per_stage.*.original_spacing': 'float64[]',
  'original_spacings.*': 'float64[]', 'original_sizes.*': 'tuple',
  'dataset_properties.all_spacings.*': 'float64[]', 'dataset_properties.all_sizes.*': 'tuple',
  'dataset_properties.modalities': 'intKeys', 'dataset_properties.intensityproperties': 'orderedIntKeys',
};

const CASE_RULES: Rules = {
  original_size_of_raw_data: 'int64[]', original_spacing: 'float64[]', itk_origin: 'tuple', itk_spacing: 'tuple', itk_direction: 'tuple',
  classes: 'float32[]', size_after_cropping: 'tuple', size_after_resampling: 'tuple', spacing_after_resampling: 'float64[]',
  use_nonzero_mask_for_norm: 'orderedIntKeys', class_locations: 'intKeys', 'class_locations.*': 'int64[][]',
};

/** JSON → the Python values nnU-Net writes, following `rules`; other dicts stay str-keyed dicts. */
function toPython(value: unknown, rules: Rules, path: string[] = [], ordered = false): PyValue {
  const shape = rules[path.join('.')];
  if (shape === 'tuple') return PyTuple.fromItems((value as unknown[]).map((v, i) => toPython(v, rules, [...path, String(i)])));
  if (shape === 'int64[][]') {
    const rows = value as number[][];
    return new NumpyArray('int64', [rows.length, rows[0]?.length ?? 3], BigInt64Array.from(rows.flat(), (v) => BigInt(v)));
  }
  if (shape?.endsWith('[]')) return numpyVector(shape.slice(0, -2) as NumpyDTypeName, value as number[]);
  if (Array.isArray(value)) return value.map((v) => toPython(v, rules, [...path, '*']));
  if (isObject(value)) {
    const intKeys = shape === 'intKeys' || shape === 'orderedIntKeys';
    const out = shape === 'orderedIntKeys' || ordered ? new PyOrderedDict() : new Map<PyValue, PyValue>();
    for (const [k, v] of Object.entries(value)) out.set(intKeys ? Number(k) : k, toPython(v, rules, [...path, intKeys ? '*' : k]));
    return out;
  }
  return value;
}

function numpyVector(dtype: NumpyDTypeName, values: number[]): NumpyArray {
  const data = dtype === 'int64' ? BigInt64Array.from(values, (v) => BigInt(Math.round(v)))
    : dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return new NumpyArray(dtype, [values.length], data);
}

// --- plans.pkl (either planner)

/** plans.pkl as nnU-Net's plans dict in JSON form (planning/plans-pkl.ts adds our typed view). */
export function readPlansPklJson(file: string): JsonObject {
  const plans = readPickledDict(file, 'nnU-Net plans', 'point at a plans file nnU-Net v1 wrote (nnUNetPlansv2.1_plans_3D.pkl / _2D.pkl)');
  if (!isObject(plans.plans_per_stage) || !Array.isArray(plans.transpose_forward)) {
    throw new BadInputError(`${file}: not an nnU-Net plans file (plans_per_stage / transpose_forward missing); point at nnUNetPlans*_plans_3D.pkl or _2D.pkl`, file);
  }
  return plans;
}

/** nnU-Net's plans dict (JSON form) → the Python values nnU-Net's planner pickles. */
export function plansToPython(plans: JsonObject): PyValue {
  return toPython(plans, PLANS_RULES);
}

export function writePlansPklJson(file: string, plans: JsonObject): void {
  writePickle(file, plansToPython(plans));
}

// --- splits_final.pkl

/** One fold of splits_final.pkl: nnU-Net's OrderedDict {train, val} of case ids. */
export interface PickledFold {
  train: string[];
  val: string[];
}

export function readSplitsPkl(file: string): PickledFold[] {
  const fix = 'write it as a list of {"train": case ids, "val": case ids} (nnU-Net\'s splits_final.pkl) or delete it to use the default split';
  const value = readPickleAsJson(file, 'splits', fix);
  const ok = Array.isArray(value) && value.length > 0 && value.every((f) =>
    isObject(f) && Array.isArray(f.train) && Array.isArray(f.val) && [...f.train, ...f.val].every((id) => typeof id === 'string'));
  if (!ok) throw new BadInputError(`${file}: not an nnU-Net splits file; ${fix}`, file);
  return (value as PickledFold[]).map((f) => ({ train: [...f.train], val: [...f.val] }));
}

/** Writes splits as nnU-Net does: a list of OrderedDict{'train', 'val'} of numpy str arrays. */
export function writeSplitsPkl(file: string, splits: readonly PickledFold[]): void {
  const strArray = (ids: string[]) => new NumpyArray('str', [ids.length], [...ids]);
  writePickle(file, splits.map((f) => new PyOrderedDict([['train', strArray(f.train)], ['val', strArray(f.val)]])));
}

// --- dataset_properties.pkl and the per-case .pkl

/** dataset_properties.pkl as JSON (planning/fingerprint.ts validates it as a fingerprint). */
export function readDatasetPropertiesPkl(file: string): JsonObject {
  return readPickledDict(file, 'dataset properties', 'point at the dataset_properties.pkl nnU-Net v1 wrote, or run `nnunet fingerprint`');
}

export function writeDatasetPropertiesPkl(file: string, props: JsonObject): void {
  const rules: Rules = Object.fromEntries(Object.entries(PLANS_RULES)
    .filter(([k]) => k.startsWith('dataset_properties.')).map(([k, v]) => [k.slice('dataset_properties.'.length), v]));
  writePickle(file, toPython(props, rules));
}

/** A case's properties (CASE.pkl beside CASE.npz) in our CaseProperties form. */
export function readCasePropertiesPkl(file: string): CaseProperties {
  return readPickledDict(file, 'case properties', 'point at the .pkl nnU-Net v1 wrote beside the case, or re-run preprocessing') as CaseProperties;
}

/** Writes case properties with nnU-Net's types (numpy arrays, tuples, integer keys), as an OrderedDict. */
export function writeCasePropertiesPkl(file: string, props: CaseProperties): void {
  writePickle(file, toPython(JSON.parse(JSON.stringify(props)), CASE_RULES, [], true));
}

// --- the .model.pkl beside a checkpoint

/** model_*.model.pkl: the trainer's init args, class name, class repr and the plans it trained with. */
export interface ModelPkl {
  /** (plans_file, fold, output_folder, dataset_directory, batch_dice, stage, unpack_data, deterministic, fp16) */
  init: unknown[];
  name: string;
  className: string;
  plans: JsonObject;
}

export function readModelPkl(file: string): ModelPkl {
  const info = readPickledDict(file, 'model info', 'point at the model_*.model.pkl nnU-Net v1 wrote beside the checkpoint');
  if (typeof info.name !== 'string' || !isObject(info.plans) || !Array.isArray(info.init)) {
    throw new BadInputError(`${file}: not an nnU-Net .model.pkl (needs 'init', 'name' and 'plans'; has ${Object.keys(info).join(', ')})`, file);
  }
  return { init: info.init, name: info.name, className: typeof info.class === 'string' ? info.class : '', plans: info.plans };
}

/** The class repr nnU-Net stores; trainers outside nnunet.training.network_training keep `className`. */
export function trainerClassRepr(name: string): string {
  return `<class 'nnunet.training.network_training.${name}.${name}'>`;
}

export function writeModelPkl(file: string, info: { init: readonly unknown[]; name: string; className?: string; plans: JsonObject }): void {
  const out = new PyOrderedDict();
  out.set('init', PyTuple.fromItems([...info.init]));
  out.set('name', info.name);
  out.set('class', info.className ?? trainerClassRepr(info.name));
  out.set('plans', plansToPython(info.plans));
  writePickle(file, out);
}
