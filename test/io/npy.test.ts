import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { BadInputError } from '../../activities/common/errors';
import { decodeNpy, encodeNpy, readNpy, readNpyHeader, readNpySync, writeNpy } from '../../activities/io/npy';
import { readCaseProperties, writeCaseProperties } from '../../activities/io/properties';
import { DTYPES } from '../../activities/io/volume';
import { defaultGeometry } from '../../activities/io/geometry';
import { rampVolume, tmpDir } from './helpers';

test('npy round trip for every dtype; header is format 1.0, 64-byte aligned', async () => {
  const dir = tmpDir();
  for (const dtype of DTYPES) {
    const { data } = rampVolume(dtype, [2, 3, 4], defaultGeometry());
    const file = path.join(dir, `${dtype}.npy`);
    writeNpy(file, { data, shape: [2, 3, 4], dtype });
    const bytes = fs.readFileSync(file);
    assert.equal(bytes[6], 1);
    assert.equal(bytes[7], 0);
    assert.equal((10 + bytes.readUInt16LE(8)) % 64, 0);
    const back = await readNpy(file);
    assert.equal(back.dtype, dtype);
    assert.deepEqual(back.shape, [2, 3, 4]);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  }
});

test('npy: 1-D and 0-length shapes, big-endian and numpy-written headers', () => {
  const one = decodeNpy(encodeNpy({ data: new Float32Array([1, 2, 3]), shape: [3], dtype: 'float32' }));
  assert.deepEqual(one.shape, [3]);
  const empty = decodeNpy(encodeNpy({ data: new Uint8Array(0), shape: [0, 4], dtype: 'uint8' }));
  assert.deepEqual(empty.shape, [0, 4]);
  const dict = "{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }";
  const header = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(header);
  header.writeUInt16LE(dict.length + 1, 8);
  const be = Buffer.concat([header, Buffer.from(dict + '\n'), Buffer.from([0x01, 0x02, 0xff, 0xfe])]);
  assert.deepEqual(Array.from(decodeNpy(be).data), [258, -2]);
});

test('npy: bad files give BadInputError naming the file', () => {
  const dir = tmpDir();
  const good = encodeNpy({ data: new Float32Array(24), shape: [2, 3, 4], dtype: 'float32' });
  const cases: Array<[string, Buffer, RegExp]> = [
    ['trunc.npy', good.subarray(0, good.length - 8), /truncated/],
    ['magic.npy', Buffer.from('hello world, not numpy'), /magic/],
    ['fortran.npy', Buffer.from(good.toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1'), /Fortran-order/],
    ['complex.npy', Buffer.from(good.toString('latin1').replace("'<f4'", "'<c8'"), 'latin1'), /dtype '<c8'/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    assert.throws(() => readNpySync(file), (e: unknown) => e instanceof BadInputError && pattern.test(e.message) && e.message.includes(file));
  }
});

test('readNpyHeader reads only the header of an open file; bad headers fail as in readNpySync', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'h.npy');
  writeNpy(file, { data: new Int16Array(24), shape: [2, 3, 4], dtype: 'int16' });
  const withHeader = (f: string) => {
    const fd = fs.openSync(f, 'r');
    try { return readNpyHeader(fd, f); } finally { fs.closeSync(fd); }
  };
  assert.deepEqual(withHeader(file), { shape: [2, 3, 4], dtype: 'int16', byteOrder: '<', dataOffset: 128 });
  const magic = path.join(dir, 'magic.npy');
  fs.writeFileSync(magic, 'not numpy');
  assert.throws(() => withHeader(magic), (e: unknown) => e instanceof BadInputError && /magic/.test(e.message) && e.message.includes(magic));
});

test('npy files open in numpy (when python3 with numpy is available)', (t) => {
  const python = process.env.NNUNET_PARITY_PYTHON ?? 'python3';
  if (spawnSync(python, ['-c', 'import numpy']).status !== 0) return t.skip(`${python} has no numpy: skipped`);
  const file = path.join(tmpDir(), 'a.npy');
  writeNpy(file, { data: Int16Array.from({ length: 24 }, (_, i) => i - 12), shape: [2, 3, 4], dtype: 'int16' });
  const r = spawnSync(python, ['-c', `import numpy as np; a = np.load(${JSON.stringify(file)}); print(a.dtype, a.shape, int(a[1, 2, 3]), int(a[0, 0, 0]))`], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'int16 (2, 3, 4) 11 -12');
});

test('case properties round trip as JSON (typed arrays become arrays)', () => {
  const file = path.join(tmpDir(), 'case_001.json');
  writeCaseProperties(file, { original_spacing: [3, 1, 1], classes: Array.from(new Int8Array([0, 1, 2])), crop_bbox: [[0, 4], [1, 5], [2, 6]], extra: new Float32Array([0.5]) });
  const back = readCaseProperties(file);
  assert.deepEqual(back.original_spacing, [3, 1, 1]);
  assert.deepEqual(back.extra, [0.5]);
  fs.writeFileSync(file, '{ torn');
  assert.throws(() => readCaseProperties(file), /corrupt case properties/);
});
