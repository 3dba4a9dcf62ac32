/**
 * The pickle reader on files Python wrote (every value kind, protocols 0-5: test/fixtures/nnunet-files, made by
 * scripts/parity/make_pickle_fixtures.py), the writer read back by our reader, and by Python's pickle when
 * /usr/bin/python3 with numpy is present (skipped otherwise).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BadInputError } from '../../activities/common/errors';
import {
  encodePickle, NumpyArray, NumpyScalar, PyFloat, PyObject, PyOrderedDict, PyTuple, readPickle, tuple, writePickle,
} from '../../activities/io/pickle';
import { halfToFloat } from '../../activities/io/npz';
import { tmpDir } from './helpers';
import { FIXTURES, PY_COMPARE, pythonLacks, runPython } from './python-check';

const arr = (v: unknown): NumpyArray => {
  assert.ok(v instanceof NumpyArray, `expected a numpy array, got ${String(v)}`);
  return v;
};

for (let protocol = 0; protocol <= 5; protocol++) {
  test(`reads every value kind at protocol ${protocol}`, () => {
    const v = readPickle(path.join(FIXTURES, `values_p${protocol}.pkl`)) as Map<unknown, unknown>;
    assert.ok(v instanceof Map);
    assert.equal(v.get('int'), 7);
    assert.equal(v.get('neg'), -300000);
    assert.equal(v.get('big'), 2n ** 70n);
    assert.equal(v.get('float'), 2.5);
    assert.equal(v.get('whole_float'), 1);
    assert.equal(v.get('str'), 'héllo');
    assert.deepEqual([...(v.get('bytes') as Uint8Array)], [0, 255]);
    assert.equal(v.get('none'), null);
    assert.equal(v.get('bool'), true);
    assert.ok(v.get('tuple') instanceof PyTuple);
    assert.deepEqual([...(v.get('tuple') as unknown[])], [1, 'a']);
    assert.deepEqual(v.get('list'), [1, [2, 3]]);
    assert.deepEqual(v.get('set'), new Set([3]));
    const od = v.get('od');
    assert.ok(od instanceof PyOrderedDict);
    assert.deepEqual([...od], [['b', 1], ['a', 2]]);
    assert.equal(v.get(3), 'int key');

    const f64 = arr(v.get('f64'));
    assert.deepEqual([f64.dtype, f64.shape, [...(f64.data as Float64Array)]], ['float64', [2, 2], [1.5, 2, 3, 4]]);
    assert.ok(arr(v.get('f32')).data instanceof Float32Array);
    assert.deepEqual(arr(v.get('f16')).toNumbers(), [0.5, -2]);
    assert.deepEqual([...(arr(v.get('i64')).data as BigInt64Array)], [1n, -2n]);
    assert.deepEqual(arr(v.get('i64')).toNumbers(), [1, -2]);
    assert.deepEqual(arr(v.get('i32')).toNumbers(), [5]);
    assert.deepEqual(arr(v.get('i16')).toNumbers(), [-7]);
    assert.deepEqual(arr(v.get('u8')).toNumbers(), [255]);
    assert.deepEqual(arr(v.get('b')).toList(), [true, false]);
    const fortran = arr(v.get('fortran'));
    assert.deepEqual([fortran.shape, fortran.toNumbers()], [[2, 3], [0, 1, 2, 3, 4, 5]], 'Fortran order comes back in C order');
    assert.deepEqual(arr(v.get('strs')).toList(), ['case_000', 'x']);
    assert.deepEqual(arr(v.get('objs')).toList(), [1, 2.5, 'z']);
    assert.deepEqual(arr(v.get('big_endian')).toNumbers(), [1, 2]);
    assert.deepEqual(arr(v.get('empty')).shape, [0, 3]);
    assert.equal(v.get('np_f64'), 0.25);
    assert.equal(v.get('np_i64'), 9);
    assert.equal(v.get('np_bool'), true);
  });
}

function sampleValue(): Map<unknown, unknown> {
  return new Map<unknown, unknown>([
    ['int', 7], ['neg', -300000], ['big', 2n ** 70n], ['negbig', -(2n ** 64n)], ['float', 2.5], ['whole', new PyFloat(1)],
    ['str', 'héllo ✓'], ['long_str', 'x'.repeat(300)], ['bytes', Buffer.from([0, 255])], ['none', null], ['bools', [true, false]],
    ['tuple', tuple(1, 'a', tuple())], ['tuple4', tuple(1, 2, 3, 4)], ['list', [1, [2, 3], []]], ['set', new Set([3, 'x'])],
    ['od', new PyOrderedDict([['b', 1], [0, 2]])], [3, 'int key'], ['plain', { a: 1 }],
    ['f64', new NumpyArray('float64', [2, 2], Float64Array.from([1.5, 2, 3, 4]))],
    ['f32', new NumpyArray('float32', [3], Float32Array.from([0, 1, 2]))],
    ['f16', new NumpyArray('float16', [2], Uint16Array.from([0x3800, 0xc000]))],
    ['i64', new NumpyArray('int64', [2], BigInt64Array.from([1n, -2n]))],
    ['i32', new NumpyArray('int32', [1], Int32Array.from([5]))],
    ['i16', new NumpyArray('int16', [1], Int16Array.from([-7]))],
    ['u8', new NumpyArray('uint8', [1], Uint8Array.from([255]))],
    ['bool', new NumpyArray('bool', [2], Uint8Array.from([1, 0]))],
    ['strs', new NumpyArray('str', [2], ['case_000', 'ü'])],
    ['objs', new NumpyArray('object', [3], [1, 2.5, 'z'])],
    ['empty', new NumpyArray('float64', [0, 3], new Float64Array(0))],
    ['np_f64', new NumpyScalar('float64', 0.25)], ['np_i64', new NumpyScalar('int64', 9n)], ['np_bool', new NumpyScalar('bool', true)],
    ['obj', Object.assign(new PyObject('pathlib.PurePosixPath', ['/a']), {})],
  ]);
}

test('the writer round-trips through our reader', () => {
  const bytes = encodePickle(sampleValue());
  assert.deepEqual(writePickle(sampleValue()), bytes, 'writePickle(value) gives the bytes');
  const back = readPickle(bytes) as Map<unknown, unknown>;
  assert.equal(back.get('big'), 2n ** 70n);
  assert.equal(back.get('negbig'), -(2n ** 64n));
  assert.equal(back.get('long_str'), 'x'.repeat(300));
  assert.ok(back.get('tuple') instanceof PyTuple && back.get('tuple4') instanceof PyTuple);
  assert.ok(back.get('od') instanceof PyOrderedDict);
  assert.deepEqual([...(back.get('od') as Map<unknown, unknown>)], [['b', 1], [0, 2]]);
  assert.deepEqual(back.get('plain'), new Map([['a', 1]]));
  assert.deepEqual(arr(back.get('f16')).toNumbers(), [0.5, -2]);
  assert.deepEqual(arr(back.get('strs')).toList(), ['case_000', 'ü']);
  assert.deepEqual(arr(back.get('objs')).toList(), [1, 2.5, 'z']);
  assert.deepEqual(arr(back.get('empty')).shape, [0, 3]);
  assert.equal(back.get('np_i64'), 9);
  const obj = back.get('obj') as PyObject;
  assert.deepEqual([obj.__class__, obj.args], ['pathlib.PurePosixPath', ['/a']]);
});

test('float16 bits decode like numpy', () => {
  assert.deepEqual([0x3c00, 0xc000, 0x0001, 0x7c00, 0xfc00].map(halfToFloat), [1, -2, 2 ** -24, Infinity, -Infinity]);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('bad pickles are BadInput naming the file', () => {
  const dir = tmpDir('nnunet-pickle-');
  const truncated = path.join(dir, 'truncated.pkl');
  const whole = fs.readFileSync(path.join(FIXTURES, 'values_p4.pkl'));
  fs.writeFileSync(truncated, whole.subarray(0, whole.length - 40));
  assert.throws(() => readPickle(truncated), (e: Error) => e instanceof BadInputError && e.message.startsWith(`${truncated}: not a readable pickle`));
  const garbage = path.join(dir, 'garbage.pkl');
  fs.writeFileSync(garbage, 'hello world');
  assert.throws(() => readPickle(garbage), (e: Error) => e instanceof BadInputError && e.message.includes(garbage));
  assert.throws(() => readPickle(path.join(dir, 'missing.pkl')), (e: Error) => e instanceof BadInputError && /cannot read pickle \(ENOENT\)/.test(e.message));
  // a numpy array whose shape promises more elements than its raw data holds: shape (2,) patched to (3,)
  const good = encodePickle(new NumpyArray('float64', [2], Float64Array.from([1, 2])));
  const at = good.indexOf(Buffer.from([0x4b, 0x02, 0x85]));
  const patched = Buffer.from(good);
  patched[at + 1] = 3;
  assert.throws(() => readPickle(patched, { source: 'patched.pkl' }), (e: Error) => e instanceof BadInputError && /patched\.pkl: .*needs 24 bytes, has 16/.test(e.message));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Python reads what we write back to equal values with the same types', (t) => {
  const why = pythonLacks(['numpy']);
  if (why) return t.skip(why);
  const dir = tmpDir('nnunet-pickle-');
  const ours = path.join(dir, 'ours.pkl');
  writePickle(ours, sampleValue());
  const out = runPython(`${PY_COMPARE}
import pickle, sys, collections, pathlib
v = pickle.load(open(sys.argv[1], 'rb'))
expected = {
  'int': 7, 'neg': -300000, 'big': 2**70, 'negbig': -2**64, 'float': 2.5, 'whole': 1.0, 'str': 'héllo ✓', 'long_str': 'x' * 300,
  'bytes': b'\\x00\\xff', 'none': None, 'bools': [True, False], 'tuple': (1, 'a', ()), 'tuple4': (1, 2, 3, 4), 'list': [1, [2, 3], []],
  'set': {3, 'x'}, 'od': collections.OrderedDict([('b', 1), (0, 2)]), 3: 'int key', 'plain': {'a': 1},
  'f64': np.array([[1.5, 2], [3, 4]]), 'f32': np.arange(3, dtype=np.float32), 'f16': np.array([0.5, -2], np.float16),
  'i64': np.array([1, -2], np.int64), 'i32': np.array([5], np.int32), 'i16': np.array([-7], np.int16), 'u8': np.array([255], np.uint8),
  'bool': np.array([True, False]), 'strs': np.array(['case_000', 'ü']), 'objs': np.array([1, 2.5, 'z'], dtype=object),
  'empty': np.zeros((0, 3)), 'np_f64': np.float64(0.25), 'np_i64': np.int64(9), 'np_bool': np.bool_(True), 'obj': pathlib.PurePosixPath('/a'),
}
diffs = same(expected, v)
assert type(v['whole']) is float and type(v['np_f64']) is np.float64 and type(v['np_i64']) is np.int64
assert v['f16'].dtype == np.float16 and v['objs'].dtype == object and v['strs'].dtype.kind == 'U'
print('\\n'.join(diffs) if diffs else 'OK')
`, [ours]);
  assert.equal(out.trim(), 'OK');
  fs.rmSync(dir, { recursive: true, force: true });
});
