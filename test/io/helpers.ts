/** Shared helpers for the io tests: temporary folders, the ../shared data folder, tiny volumes. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../config';
import type { Geometry } from '../../activities/io/geometry';
import { allocate, type DType, type Volume } from '../../activities/io/volume';

/** ../shared beside the checkout, or undefined (tests then skip with a message). */
export function sharedDir(): string | undefined {
  const dir = path.resolve(repoRoot(), '..', 'shared');
  return fs.existsSync(dir) ? dir : undefined;
}

export function tmpDir(prefix = 'nnunet-io-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An oblique, permuted geometry (rotation about an oblique axis, one flipped axis), ITK convention. */
export function obliqueGeometry(): Geometry {
  const a = 0.3;
  const c = Math.cos(a);
  const s = Math.sin(a);
  // Rotation about z, then swap x/y and flip z: columns stay orthonormal.
  return {
    spacing: [0.8, 1.25, 3.5],
    origin: [12.5, -40.25, 7.125],
    direction: [-s, c, 0, c, s, 0, 0, 0, -1],
  };
}

/** A tiny volume of the given dtype whose values vary over the whole grid (and cover negatives where they fit). */
export function rampVolume<D extends DType>(dtype: D, shape: number[], geometry: Geometry): Volume<D> {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = allocate(dtype, n);
  const signed = dtype.startsWith('int') || dtype.startsWith('float');
  for (let i = 0; i < n; i++) data[i] = dtype.startsWith('float') ? (i - n / 2) * 0.37 : signed ? (i % 200) - 100 : i % 250;
  return { data, shape, dtype, geometry };
}
