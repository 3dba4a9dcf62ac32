/**
 * Python pickles, protocols 0–5: a small unpickler for the values nnU-Net's files hold, and a protocol 4
 * writer (pickle-writer.ts). Why our own and not an npm package: docs/interop.md, "Pickles".
 * Values map to JavaScript as pickle-values.ts says; classes we do not model come back as PyObject.
 */
import { BadInputError } from '../common/errors';
import { writeFileAtomic } from '../common/atomic';
import { readBytesSync } from './read-bytes';
import { arrayFromBuffer, emptyArray, makeDType, makeScalar, NumpyDType, setArrayState } from './pickle-numpy';
import { NumpyArray, PyGlobal, PyObject, PyOrderedDict, PyTuple, type PyValue } from './pickle-values';
import { encodePickle } from './pickle-writer';

export * from './pickle-values';
export { encodePickle } from './pickle-writer';

/** A callable the pickle may name (module.name): receives the REDUCE/NEWOBJ arguments. */
export type PyCallable = (args: PyValue[]) => PyValue;

export interface PickleReadOptions {
  /** Names the source in error messages (a file path, or "file:member"). */
  source?: string;
  /** Resolves persistent ids (torch storages); without it a persistent id is an error. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Extra callables by "module.name", consulted before the built-in ones. */
  globals?: Record<string, PyCallable>;
  /** Where reading starts (a torch legacy file holds several pickles one after another). */
  offset?: number;
}

export interface PickleReadResult {
  value: PyValue;
  /** The offset just after the STOP opcode. */
  end: number;
}

/** Reads one pickle from bytes or from a file path. */
export function readPickle(input: Uint8Array | string, options: PickleReadOptions = {}): PyValue {
  const bytes = typeof input === 'string' ? readBytesSync(input, { what: 'pickle' }) : input;
  const source = options.source ?? (typeof input === 'string' ? input : 'pickle');
  return readPickleAt(bytes, { ...options, source }).value;
}

/** Reads one pickle starting at options.offset and says where it ended. */
export function readPickleAt(bytes: Uint8Array, options: PickleReadOptions = {}): PickleReadResult {
  const source = options.source ?? 'pickle';
  try {
    return new Unpickler(bytes, options).run();
  } catch (err) {
    if (err instanceof BadInputError) throw err;
    throw new BadInputError(`${source}: not a readable pickle (${(err as Error).message}); re-save it with Python's pickle (protocol 0 to 5)`, source);
  }
}

/** writePickle(value) gives the protocol 4 bytes; writePickle(file, value) writes them atomically. */
export function writePickle(value: PyValue): Buffer;
export function writePickle(file: string, value: PyValue): void;
export function writePickle(...args: [PyValue] | [string, PyValue]): Buffer | void {
  if (args.length === 1) return encodePickle(args[0]);
  writeFileAtomic(args[0], encodePickle(args[1]));
}

const BUILTINS: Record<string, PyCallable> = {
  'collections.OrderedDict': (args) => new PyOrderedDict(args[0] ? iterPairs(args[0]) : []),
  'builtins.set': (args) => new Set(args[0] ?? []),
  'builtins.frozenset': (args) => new Set(args[0] ?? []),
  'builtins.list': (args) => [...(args[0] ?? [])],
  'builtins.tuple': (args) => PyTuple.fromItems([...(args[0] ?? [])]),
  'builtins.dict': (args) => new Map(args[0] ? iterPairs(args[0]) : []),
  'builtins.bytearray': (args) => (typeof args[0] === 'string' ? Buffer.from(args[0], 'latin1') : new Uint8Array(args[0] ?? [])),
  'builtins.bytes': (args) => (typeof args[0] === 'string' ? Buffer.from(args[0], 'latin1') : new Uint8Array(args[0] ?? [])),
  '_codecs.encode': (args) => Buffer.from(String(args[0]), args[1] === 'latin1' || args[1] === 'latin-1' ? 'latin1' : 'utf8'),
  'numpy.dtype': makeDType,
  'numpy.core.multiarray._reconstruct': () => emptyArray(),
  'numpy.core.multiarray.scalar': makeScalar,
  'numpy.core.numeric._frombuffer': arrayFromBuffer,
  'collections.defaultdict': () => new Map(),
};
for (const [path, fn] of Object.entries(BUILTINS)) {
  if (path.startsWith('numpy.core.')) BUILTINS[path.replace('numpy.core.', 'numpy._core.')] = fn; // numpy 2
  if (path.startsWith('builtins.')) BUILTINS[path.replace('builtins.', '__builtin__.')] = fn; // Python 2
}

function iterPairs(source: PyValue): [PyValue, PyValue][] {
  if (source instanceof Map) return [...source];
  return [...source].map((pair: PyValue[]) => [pair[0], pair[1]]);
}

class Unpickler {
  private pos: number;
  private stack: PyValue[] = [];
  private metastack: PyValue[][] = [];
  private memo = new Map<number, PyValue>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly options: PickleReadOptions) {
    this.pos = options.offset ?? 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PickleReadResult {
    for (;;) {
      const op = this.u8();
      if (op === 0x2e /* STOP */) return { value: this.pop(), end: this.pos };
      this.step(op);
    }
  }

  // --- reading primitives, every one bounded by the buffer
  private need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) throw new RangeError(`truncated at byte ${this.pos} (needs ${n} more)`);
  }
  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  private take(n: number | bigint): Uint8Array {
    const len = Number(n);
    this.need(len);
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  private le(n: 1 | 2 | 4 | 8): number {
    this.need(n);
    const v = n === 1 ? this.view.getUint8(this.pos) : n === 2 ? this.view.getUint16(this.pos, true)
      : n === 4 ? this.view.getUint32(this.pos, true) : Number(this.view.getBigUint64(this.pos, true));
    this.pos += n;
    return v;
  }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new RangeError(`unterminated line at byte ${this.pos}`);
    const s = Buffer.from(this.bytes.subarray(this.pos, end)).toString('latin1');
    this.pos = end + 1;
    return s;
  }
  private utf8(n: number): string {
    return Buffer.from(this.take(n)).toString('utf8');
  }

  // --- stack
  private push(v: PyValue): void {
    this.stack.push(v);
  }
  private pop(): PyValue {
    if (this.stack.length === 0) throw new RangeError('stack underflow');
    return this.stack.pop();
  }
  private top(): PyValue {
    if (this.stack.length === 0) throw new RangeError('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): PyValue[] {
    const items = this.stack;
    const prev = this.metastack.pop();
    if (!prev) throw new RangeError('MARK expected');
    this.stack = prev;
    return items;
  }

  private step(op: number): void {
    switch (op) {
      case 0x80: this.u8(); return; // PROTO
      case 0x95: this.take(8); return; // FRAME: frames are only a hint for buffered readers
      case 0x28: this.metastack.push(this.stack); this.stack = []; return; // MARK
      case 0x30: this.pop(); return; // POP
      case 0x31: this.popMark(); return; // POP_MARK
      case 0x32: this.push(this.top()); return; // DUP
      case 0x4e: this.push(null); return; // NONE
      case 0x88: this.push(true); return; // NEWTRUE
      case 0x89: this.push(false); return; // NEWFALSE
      case 0x49: this.push(parseIntLine(this.line())); return; // INT
      case 0x4c: this.push(parseLongLine(this.line())); return; // LONG
      case 0x46: this.push(parseFloat(this.line())); return; // FLOAT
      case 0x4a: this.need(4); this.push(this.view.getInt32(this.pos, true)); this.pos += 4; return; // BININT
      case 0x4b: this.push(this.le(1)); return; // BININT1
      case 0x4d: this.push(this.le(2)); return; // BININT2
      case 0x8a: this.push(decodeLong(this.take(this.le(1)))); return; // LONG1
      case 0x8b: this.push(decodeLong(this.take(this.le(4)))); return; // LONG4
      case 0x47: this.need(8); this.push(this.view.getFloat64(this.pos, false)); this.pos += 8; return; // BINFLOAT
      case 0x53: this.push(parseStringLiteral(this.line())); return; // STRING
      case 0x54: this.push(Buffer.from(this.take(this.le(4))).toString('latin1')); return; // BINSTRING
      case 0x55: this.push(Buffer.from(this.take(this.le(1))).toString('latin1')); return; // SHORT_BINSTRING
      case 0x56: this.push(decodeRawUnicodeEscape(this.line())); return; // UNICODE
      case 0x58: this.push(this.utf8(this.le(4))); return; // BINUNICODE
      case 0x8c: this.push(this.utf8(this.le(1))); return; // SHORT_BINUNICODE
      case 0x8d: this.push(this.utf8(this.le(8))); return; // BINUNICODE8
      case 0x42: this.push(Buffer.from(this.take(this.le(4)))); return; // BINBYTES
      case 0x43: this.push(Buffer.from(this.take(this.le(1)))); return; // SHORT_BINBYTES
      case 0x8e: this.push(Buffer.from(this.take(this.le(8)))); return; // BINBYTES8
      case 0x96: this.push(Buffer.from(this.take(this.le(8)))); return; // BYTEARRAY8
      case 0x97: throw new RangeError('out-of-band buffers (NEXT_BUFFER) are not supported');
      case 0x98: return; // READONLY_BUFFER
      case 0x29: this.push(new PyTuple()); return; // EMPTY_TUPLE
      case 0x74: this.push(PyTuple.fromItems(this.popMark())); return; // TUPLE
      case 0x85: this.push(PyTuple.fromItems([this.pop()])); return; // TUPLE1
      case 0x86: { const b = this.pop(); const a = this.pop(); this.push(PyTuple.fromItems([a, b])); return; } // TUPLE2
      case 0x87: { const c = this.pop(); const b = this.pop(); const a = this.pop(); this.push(PyTuple.fromItems([a, b, c])); return; }
      case 0x5d: this.push([]); return; // EMPTY_LIST
      case 0x6c: this.push(this.popMark()); return; // LIST
      case 0x61: { const v = this.pop(); appendTo(this.top(), [v]); return; } // APPEND
      case 0x65: { const items = this.popMark(); appendTo(this.top(), items); return; } // APPENDS
      case 0x7d: this.push(new Map()); return; // EMPTY_DICT
      case 0x64: { const items = this.popMark(); const d = new Map(); for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]); this.push(d); return; } // DICT
      case 0x73: { const v = this.pop(); const k = this.pop(); setItems(this.top(), [k, v]); return; } // SETITEM
      case 0x75: { const items = this.popMark(); setItems(this.top(), items); return; } // SETITEMS
      case 0x8f: this.push(new Set()); return; // EMPTY_SET
      case 0x90: { const items = this.popMark(); const s = this.top() as Set<PyValue>; for (const i of items) s.add(i); return; } // ADDITEMS
      case 0x91: this.push(new Set(this.popMark())); return; // FROZENSET
      case 0x70: this.memo.set(parseIntLine(this.line()) as number, this.top()); return; // PUT
      case 0x71: this.memo.set(this.le(1), this.top()); return; // BINPUT
      case 0x72: this.memo.set(this.le(4), this.top()); return; // LONG_BINPUT
      case 0x94: this.memo.set(this.memo.size, this.top()); return; // MEMOIZE
      case 0x67: this.push(this.getMemo(parseIntLine(this.line()) as number)); return; // GET
      case 0x68: this.push(this.getMemo(this.le(1))); return; // BINGET
      case 0x6a: this.push(this.getMemo(this.le(4))); return; // LONG_BINGET
      case 0x63: { const module = this.line(); const name = this.line(); this.push(new PyGlobal(module, name)); return; } // GLOBAL
      case 0x93: { const name = this.pop(); const module = this.pop(); this.push(new PyGlobal(String(module), String(name))); return; } // STACK_GLOBAL
      case 0x52: { const args = this.pop(); const fn = this.pop(); this.push(this.call(fn, [...args])); return; } // REDUCE
      case 0x81: { const args = this.pop(); const cls = this.pop(); this.push(this.call(cls, [...args])); return; } // NEWOBJ
      case 0x92: { this.pop(); const args = this.pop(); const cls = this.pop(); this.push(this.call(cls, [...args])); return; } // NEWOBJ_EX
      case 0x69: { const module = this.line(); const name = this.line(); const args = this.popMark(); this.push(this.call(new PyGlobal(module, name), args)); return; } // INST
      case 0x6f: { const [cls, ...args] = this.popMark(); this.push(this.call(cls, args)); return; } // OBJ
      case 0x62: { const state = this.pop(); build(this.top(), state); return; } // BUILD
      case 0x50: this.push(this.persistent(this.line())); return; // PERSID
      case 0x51: this.push(this.persistent(this.pop())); return; // BINPERSID
      case 0x82: case 0x83: case 0x84: throw new RangeError('extension registry opcodes (EXT1/2/4) are not supported');
      default: throw new RangeError(`unknown opcode 0x${op.toString(16)} at byte ${this.pos - 1}`);
    }
  }

  private getMemo(key: number): PyValue {
    if (!this.memo.has(key)) throw new RangeError(`memo key ${key} missing`);
    return this.memo.get(key);
  }

  private persistent(pid: PyValue): PyValue {
    if (!this.options.persistentLoad) throw new RangeError('persistent id found but this file kind has none');
    return this.options.persistentLoad(pid);
  }

  private call(fn: PyValue, args: PyValue[]): PyValue {
    if (!(fn instanceof PyGlobal)) throw new TypeError(`cannot call a ${describe(fn)}`);
    const impl = this.options.globals?.[fn.path] ?? BUILTINS[fn.path];
    if (impl) return impl(args);
    if (fn.path === 'copy_reg._reconstructor' || fn.path === 'copyreg._reconstructor') {
      const cls = args[0] instanceof PyGlobal ? args[0].path : String(args[0]);
      return new PyObject(cls, args.slice(1));
    }
    return new PyObject(fn.path, args);
  }
}

function describe(v: PyValue): string {
  return v === null ? 'None' : v?.constructor?.name ?? typeof v;
}

function appendTo(target: PyValue, items: PyValue[]): void {
  if (Array.isArray(target)) target.push(...items);
  else if (target instanceof PyObject) target.listItems.push(...items);
  else throw new TypeError(`cannot append to a ${describe(target)}`);
}

function setItems(target: PyValue, items: PyValue[]): void {
  const map = target instanceof Map ? target : target instanceof PyObject ? target.dictItems : undefined;
  if (!map) throw new TypeError(`cannot set items on a ${describe(target)}`);
  for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i], items[i + 1]);
}

function build(target: PyValue, state: PyValue): void {
  if (target instanceof NumpyArray) setArrayState(target, state);
  else if (target instanceof NumpyDType) target.setState(state);
  else if (target instanceof PyObject) target.state = state;
  else if (target instanceof Map || Array.isArray(target) || target instanceof Set) {
    // the state of a dict/list/set subclass holds instance attributes, not items (a torch state_dict's
    // _metadata): dropped, as no nnU-Net file needs them
  } else throw new TypeError(`cannot set the state of a ${describe(target)}`);
}

/** Python int from protocol 0 text ("I01\n" is True, "I00\n" False). */
function parseIntLine(s: string): PyValue {
  if (s === '01') return true;
  if (s === '00') return false;
  return narrow(BigInt(s));
}

function parseLongLine(s: string): PyValue {
  return narrow(BigInt(s.endsWith('L') ? s.slice(0, -1) : s));
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Two's complement little-endian integer (LONG1/LONG4). */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return narrow(v);
}

/** Protocol 0 STRING: a Python repr literal in quotes with backslash escapes. */
function parseStringLiteral(s: string): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) throw new RangeError(`bad STRING literal ${s.slice(0, 40)}`);
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[e] ?? `\\${e}`;
  });
}

/** Protocol 0 UNICODE: raw-unicode-escape (only \uXXXX and \UXXXXXXXX are escapes). */
function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4?: string, u8?: string) => String.fromCodePoint(parseInt((u4 ?? u8)!, 16)));
}
