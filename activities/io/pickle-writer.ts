/**
 * A protocol 4 pickler for the value kinds pickle-values.ts describes, so Python's pickle.load gives back
 * equal values: numpy arrays as numpy arrays, tuples as tuples, OrderedDicts as OrderedDicts. No memo is
 * written (shared references are written twice; cycles are refused).
 */
import { dtypeCode, encodeElements } from './pickle-numpy';
import { NumpyArray, NumpyScalar, PyFloat, PyGlobal, PyObject, PyOrderedDict, PyTuple, type PyValue } from './pickle-values';

/** Extension hook: lets torch-checkpoint.ts write tensors (a persistent id and a REDUCE) through this writer. */
export interface PickleEmitter {
  write(value: PyValue): void;
  global(module: string, name: string): void;
  /** Raw opcode bytes. */
  op(...bytes: number[]): void;
}
export type CustomWriter = (value: PyValue, out: PickleEmitter) => boolean;

export function encodePickle(value: PyValue, custom?: CustomWriter): Buffer {
  const w = new Pickler(custom);
  w.op(0x80, 4); // PROTO 4
  w.write(value);
  w.op(0x2e); // STOP
  return w.finish();
}

class Pickler implements PickleEmitter {
  private chunks: Buffer[] = [];
  private active = new Set<object>();
  constructor(private readonly custom?: CustomWriter) {}

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }

  op(...bytes: number[]): void {
    this.chunks.push(Buffer.from(bytes));
  }

  private raw(b: Uint8Array): void {
    this.chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  private u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    this.chunks.push(b);
  }

  global(module: string, name: string): void {
    this.op(0x63); // GLOBAL
    this.chunks.push(Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }

  write(value: PyValue): void {
    if (this.custom?.(value, this)) return;
    if (value === null || value === undefined) return this.op(0x4e);
    if (value === true) return this.op(0x88);
    if (value === false) return this.op(0x89);
    if (typeof value === 'number') return Number.isInteger(value) ? this.int(value) : this.float(value);
    if (typeof value === 'bigint') return this.bigint(value);
    if (typeof value === 'string') return this.str(value);
    if (value instanceof PyFloat) return this.float(value.value);
    if (value instanceof Uint8Array) return this.bytes(value);
    if (typeof value !== 'object') throw new TypeError(`cannot pickle a ${typeof value}`);
    if (this.active.has(value)) throw new TypeError('cannot pickle a value that contains itself');
    this.active.add(value);
    try {
      this.compound(value);
    } finally {
      this.active.delete(value);
    }
  }

  private compound(value: object): void {
    if (value instanceof NumpyArray) return this.ndarray(value);
    if (value instanceof NumpyScalar) return this.scalar(value);
    if (value instanceof PyTuple) return this.tuple([...value]);
    if (Array.isArray(value)) return this.list(value);
    if (value instanceof PyOrderedDict) return this.orderedDict(value);
    if (value instanceof Map) return this.dict(value);
    if (value instanceof Set) return this.set(value);
    if (value instanceof PyObject) return this.object(value);
    if (value instanceof PyGlobal) return this.global(value.module, value.name);
    if (ArrayBuffer.isView(value)) throw new TypeError('cannot pickle a typed array: wrap it in a NumpyArray');
    // a plain object: a dict with string keys
    return this.dict(new Map(Object.entries(value)));
  }

  private int(n: number): void {
    if (n >= 0 && n < 256) return this.op(0x4b, n); // BININT1
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8); // BININT2
    if (n >= -0x80000000 && n <= 0x7fffffff) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(n, 1);
      return this.raw(b);
    }
    this.bigint(BigInt(n));
  }

  private bigint(v: bigint): void {
    const bytes: number[] = [];
    let x = v;
    // two's complement, little endian, shortest form that keeps the sign bit right
    for (;;) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
      const signBit = (bytes[bytes.length - 1]! & 0x80) !== 0;
      if ((x === 0n && !signBit) || (x === -1n && signBit)) break;
    }
    this.op(0x8a, bytes.length, ...bytes); // LONG1
  }

  private float(v: number): void {
    const b = Buffer.alloc(9);
    b[0] = 0x47; // BINFLOAT
    b.writeDoubleBE(v, 1);
    this.raw(b);
  }

  private str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) this.op(0x8c, b.length); // SHORT_BINUNICODE
    else {
      this.op(0x58); // BINUNICODE
      this.u32(b.length);
    }
    this.raw(b);
  }

  private bytes(b: Uint8Array): void {
    if (b.length < 256) this.op(0x43, b.length); // SHORT_BINBYTES
    else {
      this.op(0x42); // BINBYTES
      this.u32(b.length);
    }
    this.raw(b);
  }

  private tuple(items: PyValue[]): void {
    if (items.length === 0) return this.op(0x29); // EMPTY_TUPLE
    if (items.length <= 3) {
      items.forEach((i) => this.write(i));
      return this.op(0x84 + items.length); // TUPLE1..3
    }
    this.op(0x28); // MARK
    items.forEach((i) => this.write(i));
    this.op(0x74); // TUPLE
  }

  private list(items: PyValue[]): void {
    this.op(0x5d); // EMPTY_LIST
    if (items.length === 0) return;
    this.op(0x28);
    items.forEach((i) => this.write(i));
    this.op(0x65); // APPENDS
  }

  private items(map: Map<PyValue, PyValue>): void {
    if (map.size === 0) return;
    this.op(0x28);
    for (const [k, v] of map) {
      this.write(k);
      this.write(v);
    }
    this.op(0x75); // SETITEMS
  }

  private dict(map: Map<PyValue, PyValue>): void {
    this.op(0x7d); // EMPTY_DICT
    this.items(map);
  }

  private orderedDict(map: PyOrderedDict): void {
    this.global('collections', 'OrderedDict');
    this.op(0x29, 0x52); // () REDUCE
    this.items(map);
  }

  private set(s: Set<PyValue>): void {
    this.op(0x8f); // EMPTY_SET
    if (s.size === 0) return;
    this.op(0x28);
    for (const v of s) this.write(v);
    this.op(0x90); // ADDITEMS
  }

  private object(o: PyObject): void {
    const [module, name] = splitPath(o.__class__);
    this.global(module, name);
    this.tuple(o.args);
    this.op(0x52); // REDUCE
    if (o.listItems.length) {
      this.op(0x28);
      o.listItems.forEach((i) => this.write(i));
      this.op(0x65);
    }
    this.items(o.dictItems);
    if (o.state !== undefined) {
      this.write(o.state);
      this.op(0x62); // BUILD
    }
  }

  private dtype(code: string, order: string, itemSize: number, isObject: boolean): void {
    this.global('numpy', 'dtype');
    this.tuple([code, false, true]);
    this.op(0x52);
    const flexible = /^[US]/.test(code);
    this.tuple([3, order, null, null, null, flexible ? itemSize : -1, flexible ? (code[0] === 'U' ? 4 : 1) : -1, isObject ? 63 : flexible ? 8 : 0]);
    this.op(0x62); // BUILD
  }

  private ndarray(a: NumpyArray): void {
    if (a.data.length !== a.size) throw new RangeError(`numpy array data length ${a.data.length} does not match shape (${a.shape.join(', ')})`);
    const { code, itemSize, order } = dtypeCode(a);
    this.global('numpy.core.multiarray', '_reconstruct');
    this.global('numpy', 'ndarray');
    this.tuple([0]);
    this.bytes(Buffer.from('b', 'latin1'));
    this.op(0x87, 0x52); // TUPLE3 REDUCE
    this.op(0x28); // MARK (state tuple)
    this.int(1);
    this.tuple(a.shape);
    this.dtype(code, order, itemSize, a.dtype === 'object');
    this.op(0x89); // not Fortran
    if (a.dtype === 'object') this.list([...(a.data as PyValue[])]);
    else this.bytes(encodeElements(a, itemSize));
    this.op(0x74, 0x62); // TUPLE BUILD
  }

  private scalar(s: NumpyScalar): void {
    const arr = new NumpyArray(s.dtype, [1], [s.value]);
    const { code, itemSize, order } = dtypeCode(arr);
    this.global('numpy.core.multiarray', 'scalar');
    this.dtype(code, order, itemSize, false);
    this.bytes(encodeElements(arr, itemSize));
    this.op(0x86, 0x52); // TUPLE2 REDUCE
  }
}

function splitPath(path: string): [string, string] {
  const dot = path.lastIndexOf('.');
  if (dot <= 0) throw new TypeError(`class path '${path}' needs a module`);
  return [path.slice(0, dot), path.slice(dot + 1)];
}
