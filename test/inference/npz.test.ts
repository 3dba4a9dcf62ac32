import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { halfToFloat, readNpz, readNpzArray, writeNpz } from '../../activities/io/npz';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'npz-'));

function numpy(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return 'python3';
  } catch {
    return undefined;
  }
}

test('writeNpz / readNpz round trip, compressed and stored', () => {
  const dir = tmp();
  const softmax = Float32Array.from({ length: 24 }, (_, i) => i / 24);
  for (const compress of [true, false]) {
    const file = path.join(dir, `a${compress}.npz`);
    writeNpz(file, { softmax: { data: softmax, shape: [2, 3, 4], dtype: 'float32' } }, compress);
    const back = readNpzArray(file, 'softmax');
    assert.deepEqual(back.shape, [2, 3, 4]);
    assert.deepEqual(Array.from(back.data), Array.from(softmax));
  }
  assert.throws(() => readNpzArray(path.join(dir, 'atrue.npz'), 'probabilities'), /no array 'probabilities' \(has softmax\)/);
  fs.writeFileSync(path.join(dir, 'bad.npz'), 'not a zip');
  assert.throws(() => readNpz(path.join(dir, 'bad.npz')), /not a readable \.npz/);
});

test('half floats decode exactly', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
});

test('numpy reads our .npz and we read numpy float16 savez_compressed (nnU-Net softmax)', (t) => {
  const py = numpy();
  if (!py) return t.skip('python3 with numpy not available');
  const dir = tmp();
  const ours = path.join(dir, 'ours.npz');
  writeNpz(ours, { softmax: { data: Float32Array.from([0.25, 0.75, 1, 0]), shape: [2, 2], dtype: 'float32' } });
  const sum = execFileSync(py, ['-c', `import numpy as np; a=np.load(${JSON.stringify(ours)})['softmax']; print(a.dtype, a.shape, a.sum())`]).toString().trim();
  assert.equal(sum, 'float32 (2, 2) 2.0');
  const theirs = path.join(dir, 'theirs.npz');
  execFileSync(py, ['-c', `import numpy as np; np.savez_compressed(${JSON.stringify(theirs)}, softmax=np.array([[0.1, 0.9], [0.5, 0.5]], dtype=np.float16))`]);
  const back = readNpzArray(theirs, 'softmax');
  assert.equal(back.dtype, 'float32');
  assert.deepEqual(back.shape, [2, 2]);
  assert.deepEqual(Array.from(back.data), [Math.fround(0.0999755859375), Math.fround(0.89990234375), 0.5, 0.5]);
});
