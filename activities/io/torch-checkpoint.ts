/**
 * torch.save files: read both the zip format (PyTorch ≥ 1.6: <archive>/data.pkl + <archive>/data/<key>
 * storages) and the legacy pickle stream (magic number, protocol, sys_info, the object, storage keys, raw
 * storages); write the zip format that torch 1.13's torch.load reads. Tensors come back as float32 in C order,
 * whatever their storage dtype and strides. Format details: docs/interop.md, "Torch checkpoints".
 */
import * as fs from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { readBytesSync } from './read-bytes';
import { encodePickle, readPickleAt, type PyCallable } from './pickle';
import { halfToFloat } from './npz';
import { PyFloat, PyGlobal, PyObject, PyOrderedDict, PyTuple, toPlain, tuple, type PyValue } from './pickle-values';
import type { PickleEmitter } from './pickle-writer';

export type TorchDType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A tensor as read: its storage dtype, its shape and its values as float32 in C order. */
export interface TensorData {
  dtype: TorchDType;
  shape: number[];
  data: Float32Array;
}

export interface TorchCheckpoint {
  /** The state_dict's tensors by parameter name, in the file's order. */
  stateDict: Map<string, TensorData>;
  /** Every other top-level key (epoch, optimizer_state_dict, amp_grad_scaler, plot_stuff, best_stuff, ...),
   *  as plain values (toPlain); tensors inside stay TorchTensor. */
  meta: Record<string, PyValue>;
}

/** A tensor inside a checkpoint's values; `data` is filled once the storages are read. */
export class TorchTensor implements TensorData {
  data: Float32Array = new Float32Array(0);
  constructor(
    readonly dtype: TorchDType,
    readonly shape: number[],
    readonly stride: number[],
    readonly offset: number,
    readonly storage: StorageRef | undefined,
  ) {}

  static fromData(t: TensorData): TorchTensor {
    const out = new TorchTensor(t.dtype, [...t.shape], contiguousStrides(t.shape), 0, undefined);
    out.data = t.data;
    return out;
  }
}

const STORAGE_DTYPES: Record<string, [TorchDType, number]> = {
  FloatStorage: ['float32', 4], HalfStorage: ['float16', 2], BFloat16Storage: ['bfloat16', 2], DoubleStorage: ['float64', 8],
  LongStorage: ['int64', 8], IntStorage: ['int32', 4], ShortStorage: ['int16', 2], CharStorage: ['int8', 1],
  ByteStorage: ['uint8', 1], BoolStorage: ['bool', 1],
};

/** A storage named by a persistent id: its key, dtype, element count and (once read) its bytes. */
interface StorageRef {
  key: string;
  dtype: TorchDType;
  itemSize: number;
  numel: number;
  bytes?: Uint8Array;
  /** Legacy views: ('storage', type, key, location, size, (view_key, offset, view_size)). */
  view?: { key: string; offset: number; numel: number };
}

export function readTorchCheckpoint(file: string): TorchCheckpoint {
  const bytes = readBytesSync(file, { what: 'torch checkpoint' });
  const value = isZip(bytes) ? readZipFormat(file, bytes) : readLegacyFormat(file, bytes);
  return splitCheckpoint(file, value);
}

function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function corrupt(file: string, why: string): BadInputError {
  return new BadInputError(`${file}: not a readable torch checkpoint (${why}); re-save it with torch.save`, file);
}

// --- zip format

function readZipFormat(file: string, bytes: Uint8Array): PyValue {
  let members: Record<string, Uint8Array>;
  try {
    // only data.pkl and the storages are inflated; anything else in the archive is never read
    members = unzipSync(bytes, { filter: (f) => /^[^/]+\/(data\.pkl|data\/[^/]+)$/.test(f.name) });
  } catch (err) {
    throw corrupt(file, `zip archive unreadable: ${(err as Error).message}`);
  }
  const pklName = Object.keys(members).find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pklName) throw corrupt(file, 'zip archive without <archive>/data.pkl');
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const tensors: TorchTensor[] = [];
  const storages = new Map<string, StorageRef>();
  const { value } = readPickleAt(members[pklName]!, {
    source: `${file}:${pklName}`,
    persistentLoad: (pid) => storageFromPid(file, pid, storages),
    globals: torchGlobals(tensors),
  });
  for (const ref of storages.values()) {
    const member = members[`${prefix}data/${ref.key}`];
    if (!member) throw corrupt(file, `storage ${prefix}data/${ref.key} missing from the archive`);
    ref.bytes = member;
  }
  materialize(file, tensors);
  return value;
}

// --- legacy pickle-stream format

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function readLegacyFormat(file: string, bytes: Uint8Array): PyValue {
  const source = (what: string): string => `${file} (${what})`;
  const magic = readPickleAt(bytes, { source: source('magic number') });
  if (BigInt(magic.value) !== LEGACY_MAGIC) throw corrupt(file, 'neither a zip archive nor a legacy torch.save stream (magic number)');
  const protocol = readPickleAt(bytes, { offset: magic.end, source: source('protocol version') });
  if (protocol.value !== 1001) throw corrupt(file, `legacy protocol version ${String(protocol.value)}, expected 1001`);
  const sysInfo = readPickleAt(bytes, { offset: protocol.end, source: source('sys_info') });
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) throw corrupt(file, 'saved on a big-endian machine');
  const tensors: TorchTensor[] = [];
  const storages = new Map<string, StorageRef>();
  const main = readPickleAt(bytes, {
    offset: sysInfo.end,
    source: source('object'),
    persistentLoad: (pid) => storageFromPid(file, pid, storages),
    globals: torchGlobals(tensors),
  });
  const keys = readPickleAt(bytes, { offset: main.end, source: source('storage keys') });
  let pos = keys.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys.value as string[]) {
    const ref = storages.get(String(key));
    if (!ref) throw corrupt(file, `storage ${String(key)} listed but never used`);
    if (pos + 8 > bytes.length) throw corrupt(file, `truncated before storage ${ref.key}`);
    const numel = Number(view.getBigInt64(pos, true));
    const length = numel * ref.itemSize;
    if (numel < 0 || pos + 8 + length > bytes.length) throw corrupt(file, `storage ${ref.key} claims ${numel} elements, past the end of the file`);
    ref.numel = numel;
    ref.bytes = bytes.subarray(pos + 8, pos + 8 + length);
    pos += 8 + length;
  }
  resolveViews(file, storages);
  materialize(file, tensors);
  return main.value;
}

function resolveViews(file: string, storages: Map<string, StorageRef>): void {
  for (const ref of storages.values()) {
    if (!ref.view) continue;
    const root = storages.get(ref.view.key);
    if (!root?.bytes) throw corrupt(file, `storage view ${ref.key} of unknown storage ${ref.view.key}`);
    const start = ref.view.offset * ref.itemSize;
    const end = start + ref.view.numel * ref.itemSize;
    if (end > root.bytes.length) throw corrupt(file, `storage view ${ref.key} reaches past storage ${ref.view.key}`);
    ref.bytes = root.bytes.subarray(start, end);
    ref.numel = ref.view.numel;
  }
}

// --- shared: persistent ids, tensor rebuilding, float32 conversion

function storageFromPid(file: string, pid: PyValue, storages: Map<string, StorageRef>): StorageRef {
  const fields = Array.isArray(pid) ? pid : [];
  if (fields[0] !== 'storage' || !(fields[1] instanceof PyGlobal)) throw corrupt(file, `unknown persistent id ${String(fields[0] ?? pid)}`);
  const kind = STORAGE_DTYPES[fields[1].name];
  if (!kind) throw corrupt(file, `unsupported storage type ${fields[1].path}`);
  const key = String(fields[2]);
  const existing = storages.get(key);
  if (existing) return existing;
  const ref: StorageRef = { key, dtype: kind[0], itemSize: kind[1], numel: Number(fields[4]) };
  const view = fields[5];
  if (Array.isArray(view)) {
    ref.view = { key: String(view[0]), offset: Number(view[1]), numel: Number(view[2]) };
    if (!storages.has(ref.view.key)) storages.set(ref.view.key, { key: ref.view.key, dtype: kind[0], itemSize: kind[1], numel: ref.numel });
  }
  storages.set(key, ref);
  return ref;
}

function torchGlobals(tensors: TorchTensor[]): Record<string, PyCallable> {
  const rebuild: PyCallable = ([storage, offset, size, stride]) => {
    const ref = storage as StorageRef;
    const t = new TorchTensor(ref.dtype, Array.from(size as number[], Number), Array.from(stride as number[], Number), Number(offset), ref);
    tensors.push(t);
    return t;
  };
  return {
    'torch._utils._rebuild_tensor_v2': rebuild,
    'torch._utils._rebuild_tensor': rebuild,
    'torch._utils._rebuild_parameter': ([data]) => data,
    'torch._utils._rebuild_parameter_with_state': ([data]) => data,
  };
}

function materialize(file: string, tensors: TorchTensor[]): void {
  for (const t of tensors) {
    const ref = t.storage!;
    const bytes = ref.bytes;
    if (!bytes) throw corrupt(file, `storage ${ref.key} has no data`);
    const numel = Math.floor(bytes.length / ref.itemSize);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count > 0) {
      let last = t.offset;
      t.shape.forEach((n, i) => (last += (n - 1) * t.stride[i]!));
      if (t.offset < 0 || t.stride.some((s) => s < 0) || last >= Math.min(numel, ref.numel)) {
        throw corrupt(file, `tensor of shape (${t.shape.join(', ')}) with strides (${t.stride.join(', ')}) at offset ${t.offset} needs element ${last} of storage ${ref.key}, which holds ${Math.min(numel, ref.numel)}`);
      }
    }
    t.data = gatherFloat32(bytes, ref.dtype, t.shape, t.stride, t.offset);
    (t as { storage: StorageRef | undefined }).storage = undefined;
  }
}

type ElementReader = (v: DataView, byteOffset: number) => number;
const ELEMENT_READERS: Record<TorchDType, [ElementReader, number]> = {
  float32: [(v, o) => v.getFloat32(o, true), 4],
  float16: [(v, o) => halfToFloat(v.getUint16(o, true)), 2],
  bfloat16: [(v, o) => new Float32Array(new Uint32Array([v.getUint16(o, true) << 16]).buffer)[0]!, 2],
  float64: [(v, o) => v.getFloat64(o, true), 8],
  int64: [(v, o) => Number(v.getBigInt64(o, true)), 8],
  int32: [(v, o) => v.getInt32(o, true), 4],
  int16: [(v, o) => v.getInt16(o, true), 2],
  int8: [(v, o) => v.getInt8(o), 1],
  uint8: [(v, o) => v.getUint8(o), 1],
  bool: [(v, o) => v.getUint8(o), 1],
};

/** Walks the tensor's strides in C order and converts every element to float32. */
function gatherFloat32(bytes: Uint8Array, dtype: TorchDType, shape: number[], stride: number[], offset: number): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  if (count === 0) return out;
  if (dtype === 'float32' && stride.every((s, i) => s === contiguousStrides(shape)[i])) {
    // the common case, contiguous float32: one copy (the copy also aligns the bytes for Float32Array)
    out.set(new Float32Array(new Uint8Array(bytes.subarray(offset * 4, (offset + count) * 4)).buffer));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [read, size] = ELEMENT_READERS[dtype];
  const idx = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let i = 0; i < count; i++) {
    out[i] = read(view, src * size);
    for (let a = shape.length - 1; a >= 0; a--) {
      src += stride[a]!;
      if (++idx[a]! < shape[a]!) break;
      src -= stride[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** nnU-Net's checkpoint dict → state_dict tensors + the rest; a bare state_dict is accepted too. */
function splitCheckpoint(file: string, value: PyValue): TorchCheckpoint {
  if (!(value instanceof Map)) throw corrupt(file, `top level is a ${value?.constructor?.name ?? typeof value}, not a dict`);
  const bare = [...value.values()].every((v) => v instanceof TorchTensor) && value.size > 0;
  // nnU-Net v1 saves the weights under 'state_dict', nnU-Net v2 under 'network_weights'
  const key = value.has('state_dict') || !value.has('network_weights') ? 'state_dict' : 'network_weights';
  const sd = bare ? value : value.get(key);
  if (!(sd instanceof Map)) throw corrupt(file, `no 'state_dict' or 'network_weights' (keys: ${[...value.keys()].map(String).join(', ')})`);
  const stateDict = new Map<string, TensorData>();
  for (const [name, t] of sd) {
    if (!(t instanceof TorchTensor)) throw corrupt(file, `state_dict entry '${String(name)}' is not a tensor`);
    stateDict.set(String(name), { dtype: t.dtype, shape: t.shape, data: t.data });
  }
  const meta: Record<string, PyValue> = {};
  if (!bare) for (const [k, v] of value) if (k !== key) meta[String(k)] = plainKeepingTensors(v);
  return { stateDict, meta };
}

function plainKeepingTensors(v: PyValue): PyValue {
  if (v instanceof TorchTensor) return v;
  if (v instanceof Map) {
    const out: Record<string, PyValue> = {};
    for (const [k, x] of v) out[String(k)] = plainKeepingTensors(x);
    return out;
  }
  if (Array.isArray(v)) return Array.from(v, plainKeepingTensors);
  if (v instanceof PyObject) return v;
  return toPlain(v);
}

// --- writer

export interface TorchCheckpointContent {
  /** float32 tensors, C order; written as an OrderedDict under 'state_dict'. */
  stateDict: Map<string, TensorData> | Record<string, TensorData>;
  /** The top-level key of the state_dict: 'state_dict' (nnU-Net v1, default) or 'network_weights' (v2). */
  stateKey?: string;
  /** Other top-level keys (epoch, plot_stuff, ...): Python values as pickle-values.ts describes. */
  extra?: Record<string, PyValue>;
}

/** Loss history of a finished training, for the keys nnU-Net's load_checkpoint unpacks. */
export interface NnunetTrainingHistory {
  epoch: number;
  trainLosses: number[];
  valLosses: number[];
  evalMetrics: number[];
}

/**
 * The keys besides state_dict that nnU-Net v1's load_checkpoint_ram reads unconditionally: `epoch` and
 * `plot_stuff` (train losses, val losses, val losses in train mode, eval metrics), plus empty optimizer and
 * scheduler states, which it skips when they are None.
 */
export function nnunetCheckpointExtra(h: NnunetTrainingHistory): Record<string, PyValue> {
  const floats = (xs: number[]) => xs.map((x) => new PyFloat(x));
  return {
    epoch: h.epoch,
    optimizer_state_dict: null,
    lr_scheduler_state_dict: null,
    plot_stuff: tuple(floats(h.trainLosses), floats(h.valLosses), [], floats(h.evalMetrics)),
  };
}

/** Writes a torch.save zip-format file; torch.load gives {..extra, state_dict: OrderedDict of tensors}. */
export function writeTorchCheckpoint(file: string, content: TorchCheckpointContent): void {
  writeFileAtomic(file, encodeTorchCheckpoint(content));
}

export function encodeTorchCheckpoint(content: TorchCheckpointContent): Uint8Array {
  const entries = content.stateDict instanceof Map ? [...content.stateDict] : Object.entries(content.stateDict);
  const sd = new PyOrderedDict();
  for (const [name, t] of entries) {
    if (t.dtype !== 'float32' || !(t.data instanceof Float32Array)) throw new TypeError(`state_dict '${name}': only float32 tensors are written (got ${t.dtype})`);
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new RangeError(`state_dict '${name}': ${t.data.length} values for shape (${t.shape.join(', ')})`);
    sd.set(name, TorchTensor.fromData(t));
  }
  const top = new Map<PyValue, PyValue>(Object.entries(content.extra ?? {}));
  top.set(content.stateKey ?? 'state_dict', sd);
  const storages: Float32Array[] = [];
  // tensors over the same array share one storage, as torch.save writes a module's aliased parameters
  const storageKeys = new Map<Float32Array, number>();
  const pickle = encodePickle(top, (value, out) => {
    if (!(value instanceof TorchTensor)) return false;
    let key = storageKeys.get(value.data);
    if (key === undefined) {
      key = storages.length;
      storageKeys.set(value.data, key);
      storages.push(value.data);
    }
    writeTensor(out, value, key);
    return true;
  });
  const members: Record<string, Uint8Array> = { 'archive/data.pkl': pickle };
  storages.forEach((data, key) => (members[`archive/data/${key}`] = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))));
  members['archive/version'] = Buffer.from('3\n');
  return zipSync(members, { level: 0 });
}

/** _rebuild_tensor_v2(persistent storage, offset, size, stride, requires_grad, backward_hooks) */
function writeTensor(out: PickleEmitter, t: TorchTensor, key: number): void {
  out.global('torch._utils', '_rebuild_tensor_v2');
  out.op(0x28); // MARK
  out.write(tuple('storage', new PyGlobal('torch', 'FloatStorage'), String(key), 'cpu', t.data.length));
  out.op(0x51); // BINPERSID
  out.write(0);
  out.write(PyTuple.fromItems(t.shape));
  out.write(PyTuple.fromItems(contiguousStrides(t.shape)));
  out.write(false);
  out.write(new PyOrderedDict());
  out.op(0x74, 0x52); // TUPLE REDUCE
}

/** True when the file starts like a torch.save file of either format (for friendlier errors upstream). */
export function looksLikeTorchCheckpoint(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, 0);
    fs.closeSync(fd);
    return isZip(head) || (head[0] === 0x80 && head[2] === 0x8a);
  } catch {
    return false;
  }
}
