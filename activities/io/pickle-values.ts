/**
 * The JavaScript shapes of Python values read from and written to pickles (see docs/interop.md, "Pickles").
 * str → string, bytes → Uint8Array, int → number (bigint beyond 2^53), float → number, bool → boolean,
 * None → null, list → array, tuple → PyTuple, dict → Map, OrderedDict → PyOrderedDict, set → Set,
 * numpy array → NumpyArray, numpy scalar → its plain value, any other class → PyObject.
 */

import { halfToFloat } from './npz';

/** Any value a pickle can hold (see the mapping above). */
export type PyValue = any;

/** A Python tuple: an array that the writer pickles as a tuple. */
export class PyTuple extends Array<PyValue> {
  static fromItems(items: readonly PyValue[]): PyTuple {
    const t = new PyTuple();
    for (const item of items) t.push(item);
    return t;
  }
}

export const tuple = (...items: PyValue[]): PyTuple => PyTuple.fromItems(items);

/** collections.OrderedDict (a Map keeps insertion order too; the class only tells the writer which to write). */
export class PyOrderedDict extends Map<PyValue, PyValue> {}

/** A float the writer must pickle as a float even when its value is whole (1.0 rather than 1). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A numpy scalar to write (numpy.float64(2.5) and the like); the reader gives plain values instead. */
export class NumpyScalar {
  constructor(readonly dtype: NumpyDTypeName, readonly value: number | bigint | boolean) {}
}

/** An instance of a class this reader does not model: its class path, constructor arguments and state. */
export class PyObject {
  state: PyValue = undefined;
  listItems: PyValue[] = [];
  dictItems = new Map<PyValue, PyValue>();
  constructor(readonly __class__: string, readonly args: PyValue[]) {}
}

/** A reference to a Python global (module.name) on the unpickler's stack, before it is called. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

export type NumpyDTypeName =
  | 'float64' | 'float32' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8'
  | 'uint64' | 'uint32' | 'uint16' | 'uint8' | 'bool' | 'str' | 'bytes' | 'object';

/** Data of a numpy array by dtype: float16 keeps its raw bits (see halfToFloat in npz.ts), str/object hold values. */
export type NumpyData =
  | Float64Array | Float32Array | Uint16Array | BigInt64Array | BigUint64Array | Int32Array | Int16Array | Int8Array
  | Uint32Array | Uint8Array | PyValue[];

/** A numpy ndarray, always in C order (Fortran-ordered input is transposed on read). */
export class NumpyArray {
  constructor(
    public dtype: NumpyDTypeName,
    public shape: number[],
    public data: NumpyData,
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** The elements as plain numbers (int64 values beyond 2^53 lose precision; strings are refused). */
  toNumbers(): number[] {
    if (this.dtype === 'float16') return Array.from(this.data as Uint16Array, halfToFloat);
    return Array.from(this.data as ArrayLike<number | bigint | boolean>, (v) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint' || typeof v === 'boolean') return Number(v);
      throw new TypeError(`numpy ${this.dtype} array holds a ${typeof v}, not a number`);
    });
  }

  /** Nested JavaScript arrays, like numpy's tolist(). */
  toList(): PyValue {
    const flat: PyValue[] = this.dtype === 'str' || this.dtype === 'object' || this.dtype === 'bytes'
      ? (this.data as PyValue[])
      : this.dtype === 'bool' ? Array.from(this.data as Uint8Array, (v) => v !== 0) : this.toNumbers();
    if (this.shape.length === 0) return flat[0];
    const nest = (axis: number, offset: number): PyValue[] => {
      const n = this.shape[axis]!;
      if (axis === this.shape.length - 1) return flat.slice(offset, offset + n);
      const stride = this.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: n }, (_, i) => nest(axis + 1, offset + i * stride));
    };
    return nest(0, 0);
  }
}

/**
 * Python values → JSON-like JavaScript: dicts become objects (keys as strings), tuples and sets arrays,
 * numpy arrays nested lists, bigints numbers. For nnU-Net's pickles whose JSON twins we keep.
 */
export function toPlain(value: PyValue): PyValue {
  if (value instanceof NumpyArray) return value.toList();
  if (value instanceof Map) {
    const out: Record<string, PyValue> = {};
    for (const [k, v] of value) out[String(k)] = toPlain(v);
    return out;
  }
  if (value instanceof Set) return [...value].map(toPlain);
  if (Array.isArray(value)) return Array.from(value, toPlain);
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof PyFloat || value instanceof NumpyScalar) return toPlain(value.value);
  return value;
}
