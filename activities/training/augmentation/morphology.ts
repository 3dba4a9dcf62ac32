/**
 * The cascade's extra augmentation (nnU-Net's ApplyRandomBinaryOperatorTransform): with p 0.4 per
 * sample, every one-hot previous-stage channel (shuffled) gets one of binary dilation / erosion / closing /
 * opening (scipy.ndimage, border 0) with skimage's ball(r), r ~ U(1, 8); voxels a channel gains are cleared in
 * the other channels. The ball follows skimage exactly, including a non-integer radius: int(2r + 1) grid points
 * per axis at linspace(-r, r), kept where x² + y² + z² ≤ r²; scipy centres it at index size // 2.
 * Each ball is a list of rows (dz, dy, x-interval), and a row is answered in O(1) from per-row prefix counts.
 * See docs/augmentation.md, 'Decisions'.
 */
import type { Rng } from './random';
import type { Channels } from './spatial';

/** One row of a structuring element: displacement (dz, dy) and the displacements dx in [x0, x1]. */
export interface StrelRow { dz: number; dy: number; x0: number; x1: number }

/** Rows of skimage's ball(radius) as scipy's binary_erosion places it (displacement = index − size // 2). */
export function ballRows(radius: number): StrelRow[] {
  const m = Math.trunc(2 * radius + 1);
  const step = m > 1 ? (2 * radius) / (m - 1) : 0;
  const coord = (k: number) => k * step + -radius;
  const c = m >> 1;
  const rows: StrelRow[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let x0 = -1;
      let x1 = -1;
      for (let l = 0; l < m; l++) {
        const tz = coord(i), ty = coord(j), tx = coord(l);
        if (tx * tx + ty * ty + tz * tz <= radius * radius) { if (x0 < 0) x0 = l; x1 = l; }
      }
      if (x0 >= 0) rows.push({ dz: i - c, dy: j - c, x0: x0 - c, x1: x1 - c });
    }
  }
  return rows;
}

/** The reflected element, which scipy's binary_dilation uses. */
function reflect(rows: readonly StrelRow[]): StrelRow[] {
  return rows.map((r) => ({ dz: -r.dz, dy: -r.dy, x0: -r.x1, x1: -r.x0 }));
}

/** Prefix counts of every x-row: p[row * (X + 1) + x] = number of ones in [0, x). */
function rowPrefix(mask: Uint8Array, shape: readonly [number, number, number]): Int32Array {
  const [Z, Y, X] = shape;
  const p = new Int32Array(Z * Y * (X + 1));
  for (let r = 0; r < Z * Y; r++) {
    const base = r * (X + 1);
    for (let x = 0; x < X; x++) p[base + x + 1] = p[base + x]! + mask[r * X + x]!;
  }
  return p;
}

/** scipy binary_dilation (border 0): 1 where any element offset lands on a 1. */
export function binaryDilation(mask: Uint8Array, shape: readonly [number, number, number], rows: readonly StrelRow[]): Uint8Array {
  const [Z, Y, X] = shape;
  const p = rowPrefix(mask, shape);
  const out = new Uint8Array(mask.length);
  for (const { dz, dy, x0, x1 } of reflect(rows)) {
    for (let z = Math.max(0, -dz); z < Math.min(Z, Z - dz); z++) {
      for (let y = Math.max(0, -dy); y < Math.min(Y, Y - dy); y++) {
        const src = ((z + dz) * Y + (y + dy)) * (X + 1);
        const o = (z * Y + y) * X;
        for (let x = 0; x < X; x++) {
          if (out[o + x]) continue;
          const lo = Math.max(0, x + x0);
          const hi = Math.min(X, x + x1 + 1);
          if (hi > lo && p[src + hi]! - p[src + lo]! > 0) out[o + x] = 1;
        }
      }
    }
  }
  return out;
}

/** scipy binary_erosion (border 0): 1 where every element offset lands on a 1 inside the volume. */
export function binaryErosion(mask: Uint8Array, shape: readonly [number, number, number], rows: readonly StrelRow[]): Uint8Array {
  const [Z, Y, X] = shape;
  const p = rowPrefix(mask, shape);
  const out = mask.slice();
  for (const { dz, dy, x0, x1 } of rows) {
    const width = x1 - x0 + 1;
    for (let z = 0; z < Z; z++) {
      for (let y = 0; y < Y; y++) {
        const o = (z * Y + y) * X;
        const zz = z + dz, yy = y + dy;
        if (zz < 0 || zz >= Z || yy < 0 || yy >= Y) { out.fill(0, o, o + X); continue; }
        const src = (zz * Y + yy) * (X + 1);
        for (let x = 0; x < X; x++) {
          if (!out[o + x]) continue;
          const lo = x + x0, hi = x + x1 + 1;
          if (lo < 0 || hi > X || p[src + hi]! - p[src + lo]! !== width) out[o + x] = 0;
        }
      }
    }
  }
  return out;
}

export const BINARY_OPERATORS = ['dilation', 'erosion', 'closing', 'opening'] as const;
export type BinaryOperator = (typeof BINARY_OPERATORS)[number];

export function applyBinaryOperator(op: BinaryOperator, mask: Uint8Array, shape: readonly [number, number, number], rows: readonly StrelRow[]): Uint8Array {
  switch (op) {
    case 'dilation': return binaryDilation(mask, shape, rows);
    case 'erosion': return binaryErosion(mask, shape, rows);
    case 'closing': return binaryErosion(binaryDilation(mask, shape, rows), shape, rows);
    case 'opening': return binaryDilation(binaryErosion(mask, shape, rows), shape, rows);
  }
}

/**
 * ApplyRandomBinaryOperatorTransform on one sample's image: `channels` are the one-hot previous-stage channels.
 * The caller draws the per-sample probability (0.4).
 */
export function randomBinaryOperators(image: Channels, channels: readonly number[], radiusRange: readonly [number, number], rng: Rng, pPerLabel = 1): void {
  const shape = (image.shape.length === 3 ? image.shape : [1, ...image.shape]) as [number, number, number];
  const n = shape[0] * shape[1] * shape[2];
  const order = [...channels];
  rng.shuffle(order);
  for (const c of order) {
    if (!(rng.random() < pPerLabel)) continue; // p_per_label (nnUNetTrainerV2CascadeFullRes: 1)
    const op = BINARY_OPERATORS[rng.randint(0, BINARY_OPERATORS.length)]!;
    const rows = ballRows(rng.uniform(radiusRange[0], radiusRange[1]));
    const view = image.data.subarray(c * n, (c + 1) * n);
    const before = Uint8Array.from(view, (v) => (v !== 0 ? 1 : 0));
    const after = applyBinaryOperator(op, before, shape, rows);
    for (let i = 0; i < n; i++) {
      view[i] = after[i]!;
      if (after[i]! > before[i]!) for (const other of channels) if (other !== c) image.data[other * n + i] = 0;
    }
  }
}
