// Reads test/fixtures/bgv2/*.json (scripts/parity/make_bgv2_fixtures.py: batchgeneratorsv2's own outputs).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as assert from 'node:assert/strict';
import { repoRoot } from '../../../config';
import type { Channels } from '../../../activities/training/augmentation/spatial';

export interface StoredArray { shape: number[]; dtype: 'float32' | 'int16'; b64: string }

export function loadBgv2<T>(name: 'spatial' | 'intensity' | 'targets'): T {
  return JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'bgv2', `${name}.json`), 'utf8')) as T;
}

/** The stored array as float32 values (int16 labels widened). */
export function values(a: StoredArray): Float32Array {
  const bytes = Buffer.from(a.b64, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = a.shape.reduce((x, y) => x * y, 1);
  return Float32Array.from({ length: n }, (_, i) => (a.dtype === 'int16' ? view.getInt16(2 * i, true) : view.getFloat32(4 * i, true)));
}

/** A channel-first stored array (C, ...spatial) as Channels (a fresh copy). */
export function channels(a: StoredArray): Channels {
  return { data: values(a), channels: a.shape[0]!, shape: a.shape.slice(1) };
}

/** Largest absolute difference; asserts equal lengths. */
export function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>, what: string): number {
  assert.equal(got.length, want.length, `${what}: length`);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

export function mismatches(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) n++;
  return n;
}
