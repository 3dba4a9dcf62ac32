/**
 * numpy inside pickles: dtypes (numpy.dtype + __setstate__), arrays (numpy.core.multiarray._reconstruct +
 * __setstate__, or numpy.core.numeric._frombuffer under protocol 5) and scalars (numpy.core.multiarray.scalar).
 * Decoding into NumpyArray (C order, native typed arrays) and encoding back to the raw bytes numpy expects.
 */
import { NumpyArray, type NumpyData, type NumpyDTypeName, type PyValue } from './pickle-values';

/** A numpy dtype under construction: numpy.dtype('f8', False, True) and then __setstate__. */
export class NumpyDType {
  byteOrder = '<';
  itemSize: number;
  constructor(readonly code: string) {
    const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(code);
    this.itemSize = m?.[3] ? Number(m[3]) : 0;
    if (m?.[1]) this.byteOrder = m[1];
  }

  /** (version, byteorder, subdescr, names, fields, elsize, alignment, flags) */
  setState(state: PyValue[]): void {
    if (typeof state[1] === 'string') this.byteOrder = state[1];
    if (typeof state[5] === 'number' && state[5] > 0) this.itemSize = state[5];
    if (state[3] !== null && state[3] !== undefined) throw new TypeError(`structured numpy dtypes are not supported (fields ${String(state[3])})`);
  }

  get kind(): string {
    return /([a-zA-Z])\d*$/.exec(this.code)?.[1] ?? '';
  }

  get name(): NumpyDTypeName {
    const kind = this.kind;
    const size = this.kind === 'U' || this.kind === 'S' || this.kind === 'O' || this.kind === 'b' ? 0 : this.itemSize;
    const byKind: Record<string, NumpyDTypeName | undefined> = {
      f8: 'float64', f4: 'float32', f2: 'float16', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8',
      u8: 'uint64', u4: 'uint32', u2: 'uint16', u1: 'uint8', b0: 'bool', U0: 'str', S0: 'bytes', O0: 'object',
    };
    const name = byKind[`${kind}${size}`];
    if (!name) throw new TypeError(`unsupported numpy dtype '${this.code}'`);
    return name;
  }

  get littleEndian(): boolean {
    return this.byteOrder !== '>';
  }
}

/** numpy.dtype(code, align, copy) */
export function makeDType(args: PyValue[]): NumpyDType {
  return new NumpyDType(String(args[0]));
}

/** What _reconstruct returns: an empty array that __setstate__ fills in place. */
export function emptyArray(): NumpyArray {
  return new NumpyArray('float64', [0], new Float64Array(0));
}

/** ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata)) on the placeholder. */
export function setArrayState(target: NumpyArray, state: PyValue[]): void {
  const [shape, dtype, isFortran, raw] = state.length === 5 ? state.slice(1) : state;
  if (!(dtype instanceof NumpyDType)) throw new TypeError('numpy array state without a dtype');
  fillArray(target, dtype, Array.from(shape as number[], Number), Boolean(isFortran), raw);
}

/** numpy.core.numeric._frombuffer(buffer, dtype, shape, order) (pickle protocol 5). */
export function arrayFromBuffer(args: PyValue[]): NumpyArray {
  const [buffer, dtype, shape, order] = args;
  const out = emptyArray();
  fillArray(out, dtype as NumpyDType, Array.from(shape as number[], Number), order === 'F', buffer);
  return out;
}

/** numpy.core.multiarray.scalar(dtype, bytes) → the plain value (number, bigint, boolean or string). */
export function makeScalar(args: PyValue[]): PyValue {
  const [dtype, raw] = args as [NumpyDType, PyValue];
  if (dtype.kind === 'O') return raw;
  const arr = emptyArray();
  fillArray(arr, dtype, [], false, raw);
  return arr.toList();
}

function fillArray(target: NumpyArray, dtype: NumpyDType, shape: number[], isFortran: boolean, raw: PyValue): void {
  const count = shape.reduce((a, b) => a * b, 1);
  const name = dtype.name;
  let data: NumpyData;
  if (name === 'object') {
    if (!Array.isArray(raw) || raw.length !== count) throw new TypeError(`numpy object array: expected a list of ${count} items`);
    data = [...raw];
  } else {
    const bytes = toBytes(raw);
    if (bytes.length !== count * dtype.itemSize) {
      throw new RangeError(`numpy ${dtype.code} array of shape (${shape.join(', ')}) needs ${count * dtype.itemSize} bytes, has ${bytes.length}`);
    }
    data = decodeElements(bytes, dtype, count);
  }
  target.dtype = name;
  target.shape = shape;
  target.data = isFortran && shape.length > 1 ? fortranToC(data, shape) : data;
}

function toBytes(raw: PyValue): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') return Buffer.from(raw, 'latin1'); // protocol 0/2 from Python 2 writes str
  throw new TypeError(`numpy raw data must be bytes, got ${typeof raw}`);
}

type Reader = (view: DataView, offset: number, little: boolean) => number | bigint;
const READERS: Partial<Record<NumpyDTypeName, [Reader, new (n: number) => NumpyData]>> = {
  float64: [(v, o, l) => v.getFloat64(o, l), Float64Array],
  float32: [(v, o, l) => v.getFloat32(o, l), Float32Array],
  float16: [(v, o, l) => v.getUint16(o, l), Uint16Array],
  int64: [(v, o, l) => v.getBigInt64(o, l), BigInt64Array],
  uint64: [(v, o, l) => v.getBigUint64(o, l), BigUint64Array],
  int32: [(v, o, l) => v.getInt32(o, l), Int32Array],
  uint32: [(v, o, l) => v.getUint32(o, l), Uint32Array],
  int16: [(v, o, l) => v.getInt16(o, l), Int16Array],
  uint16: [(v, o, l) => v.getUint16(o, l), Uint16Array],
  int8: [(v, o) => v.getInt8(o), Int8Array],
  uint8: [(v, o) => v.getUint8(o), Uint8Array],
  bool: [(v, o) => v.getUint8(o), Uint8Array],
};

function decodeElements(bytes: Uint8Array, dtype: NumpyDType, count: number): NumpyData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dtype.itemSize;
  if (dtype.name === 'str') {
    // numpy 'U' is UTF-32 with trailing NULs trimmed on access
    return Array.from({ length: count }, (_, i) => {
      let s = '';
      for (let c = 0; c < size / 4; c++) {
        const cp = view.getUint32(i * size + c * 4, dtype.littleEndian);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
      return s;
    });
  }
  if (dtype.name === 'bytes') {
    return Array.from({ length: count }, (_, i) => {
      const item = bytes.subarray(i * size, (i + 1) * size);
      let end = item.length;
      while (end > 0 && item[end - 1] === 0) end--;
      return Buffer.from(item.subarray(0, end)).toString('latin1');
    });
  }
  const [read, Ctor] = READERS[dtype.name]!;
  const out = new Ctor(count) as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < count; i++) out[i] = read(view, i * size, dtype.littleEndian);
  return out as unknown as NumpyData;
}

/** Reorders Fortran-ordered (first axis fastest) elements into C order. */
function fortranToC(data: NumpyData, shape: number[]): NumpyData {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = (Array.isArray(data) ? new Array(n) : new (data.constructor as new (n: number) => NumpyData)(n)) as { [i: number]: unknown };
  const src = data as unknown as { [i: number]: unknown };
  const fStrides = shape.map((_, axis) => shape.slice(0, axis).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let a = 0; a < shape.length; a++) f += idx[a]! * fStrides[a]!;
    out[c] = src[f];
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out as unknown as NumpyData;
}

/** numpy's dtype code, item size and byte-order mark for a dtype we write. */
export function dtypeCode(arr: { dtype: NumpyDTypeName; data: NumpyData }): { code: string; itemSize: number; order: string } {
  const fixed: Partial<Record<NumpyDTypeName, [string, number]>> = {
    float64: ['f8', 8], float32: ['f4', 4], float16: ['f2', 2], int64: ['i8', 8], uint64: ['u8', 8], int32: ['i4', 4],
    uint32: ['u4', 4], int16: ['i2', 2], uint16: ['u2', 2], int8: ['i1', 1], uint8: ['u1', 1], bool: ['b1', 1],
  };
  const hit = fixed[arr.dtype];
  if (hit) return { code: hit[0], itemSize: hit[1], order: hit[1] === 1 ? '|' : '<' };
  if (arr.dtype === 'object') return { code: 'O8', itemSize: 8, order: '|' };
  const longest = Math.max(1, ...(arr.data as string[]).map((s) => [...String(s)].length));
  if (arr.dtype === 'str') return { code: `U${longest}`, itemSize: 4 * longest, order: '<' };
  return { code: `S${longest}`, itemSize: longest, order: '|' };
}

/** The little-endian raw bytes numpy's __setstate__ takes for a non-object array. */
export function encodeElements(arr: { dtype: NumpyDTypeName; data: NumpyData }, itemSize: number): Uint8Array {
  const n = arr.data.length;
  const out = new Uint8Array(n * itemSize);
  const view = new DataView(out.buffer);
  const src = arr.data as ArrayLike<PyValue>;
  for (let i = 0; i < n; i++) {
    const v = src[i];
    const o = i * itemSize;
    switch (arr.dtype) {
      case 'float64': view.setFloat64(o, Number(v), true); break;
      case 'float32': view.setFloat32(o, Number(v), true); break;
      case 'float16': case 'uint16': view.setUint16(o, Number(v), true); break;
      case 'int64': view.setBigInt64(o, BigInt(v), true); break;
      case 'uint64': view.setBigUint64(o, BigInt(v), true); break;
      case 'int32': view.setInt32(o, Number(v), true); break;
      case 'uint32': view.setUint32(o, Number(v), true); break;
      case 'int16': view.setInt16(o, Number(v), true); break;
      case 'int8': view.setInt8(o, Number(v)); break;
      case 'uint8': case 'bool': view.setUint8(o, v ? Number(v) : 0); break;
      case 'str': [...String(v)].forEach((ch, c) => view.setUint32(o + 4 * c, ch.codePointAt(0)!, true)); break;
      case 'bytes': out.set(Buffer.from(String(v), 'latin1'), o); break;
      default: throw new TypeError(`cannot encode numpy ${arr.dtype}`);
    }
  }
  return out;
}
