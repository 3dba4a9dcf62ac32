import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyBinaryOperator, ballRows, BINARY_OPERATORS, randomBinaryOperators } from '../../activities/training/augmentation/morphology';
import { Rng } from '../../activities/training/augmentation/random';

// Vectors from scipy.ndimage binary_{dilation,erosion,closing,opening}(m, ball(r)) with skimage's ball formula
// (np.mgrid[-r:r:(2r+1)*1j] per axis, x²+y²+z² ≤ r²): [number of ones, sum of their flat indices] per operator.
const EXPECTED: Record<string, number[][]> = {
  '1': [[1311, 1415751], [83, 83166], [461, 490647], [173, 173346]],
  '1.6': [[1260, 1344318], [88, 96814], [555, 630813], [181, 181317]],
  '2.5': [[2088, 2272524], [8, 8804], [864, 1023642], [117, 117234]],
  '3.7': [[2148, 2341464], [0, 0], [497, 591059], [0, 0]],
};

function inputMask(): Uint8Array {
  const [Z, Y, X] = [12, 13, 14];
  const m = new Uint8Array(Z * Y * X);
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    const i = (z * Y + y) * X + x;
    m[i] = (i * 7919) % 13 < 3 || (z - 5) ** 2 + (y - 6) ** 2 + (x - 8) ** 2 < 12 ? 1 : 0;
  }
  return m;
}

const summary = (m: Uint8Array) => m.reduce((acc, v, i) => (v ? [acc[0]! + 1, acc[1]! + i] : acc), [0, 0]);

test('binary dilation/erosion/closing/opening with skimage balls equal scipy (odd and even ball sizes)', () => {
  const m = inputMask();
  assert.deepEqual(summary(m), [624, 668856]);
  for (const [r, want] of Object.entries(EXPECTED)) {
    const rows = ballRows(Number(r));
    BINARY_OPERATORS.forEach((op, k) => assert.deepEqual(summary(applyBinaryOperator(op, m, [12, 13, 14], rows)), want[k], `${op} r=${r}`));
  }
});

test('random binary operators keep the one-hot channels exclusive', () => {
  const n = 10 * 10 * 10;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) { data[i] = 7; const lab = i % 10 < 3 ? 1 : i % 10 < 6 ? 2 : 0; if (lab) data[lab * n + i] = 1; }
  const image = { data, channels: 3, shape: [10, 10, 10] };
  for (let s = 0; s < 5; s++) randomBinaryOperators(image, [1, 2], [1, 3], Rng.seeded(s));
  for (let i = 0; i < n; i++) {
    assert.equal(data[i], 7, 'image channel untouched');
    assert.ok(data[n + i]! + data[2 * n + i]! <= 1);
  }
});
