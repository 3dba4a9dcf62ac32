/**
 * 3D connected-component labelling and "keep the largest component" (docs/evaluation.md, 'Connected components').
 *
 * nnU-Net labels with scipy.ndimage.label's default structure: face connectivity, i.e. 6 neighbours in 3D
 * (4 in 2D, which is the same thing for a volume with one slice). 18 and 26 are available as options.
 * Labelling is one raster scan plus a breadth-first flood per component with a typed-array ring queue:
 * linear in voxels, no per-voxel allocation. Components are numbered 1..n in the raster order of their first
 * voxel, which is scipy's numbering too.
 */
import type { LabelArray } from '../io/volume';

export type Connectivity = 6 | 18 | 26;
export type Shape3 = readonly [number, number, number];

export interface ComponentLabels {
  /** Component number per voxel (0 outside the region), C order over `shape`. */
  labels: Int32Array;
  count: number;
  /** sizes[k] = voxels in component k (sizes[0] = 0). */
  sizes: number[];
}

/** Neighbour offsets (dz, dy, dx) of a connectivity: 6 faces, 18 faces+edges, 26 faces+edges+corners. */
export function neighbourOffsets(connectivity: Connectivity): Array<[number, number, number]> {
  const maxNonZero = connectivity === 6 ? 1 : connectivity === 18 ? 2 : 3;
  const out: Array<[number, number, number]> = [];
  for (let dz = -1; dz <= 1; dz++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nz = (dz !== 0 ? 1 : 0) + (dy !== 0 ? 1 : 0) + (dx !== 0 ? 1 : 0);
        if (nz > 0 && nz <= maxNonZero) out.push([dz, dy, dx]);
      }
    }
  }
  return out;
}

/** member[v] = 1 for every label value v of `values` (a lookup table over label values). */
export function membership(values: Iterable<number>): Uint8Array {
  const list = [...values];
  const lut = new Uint8Array(Math.max(0, ...list) + 1);
  for (const v of list) if (v >= 0 && Number.isInteger(v)) lut[v] = 1;
  return lut;
}

function checkShape(data: ArrayLike<number>, shape: Shape3): void {
  if (shape[0] * shape[1] * shape[2] !== data.length) {
    throw new RangeError(`shape ${shape.join('x')} does not match ${data.length} voxels`);
  }
}

/**
 * Labels the connected components of the region {i : member[data[i]] === 1}.
 * `out` may pass a reusable buffer of data.length elements (it is overwritten).
 */
export function labelComponents(data: LabelArray, shape: Shape3, member: Uint8Array, connectivity: Connectivity = 6, out?: Int32Array): ComponentLabels {
  checkShape(data, shape);
  const [Z, Y, X] = shape;
  const YX = Y * X;
  const n = data.length;
  const labels = out && out.length === n ? out.fill(0) : new Int32Array(n);
  const offs = neighbourOffsets(connectivity);
  const dz = Int8Array.from(offs, (o) => o[0]);
  const dy = Int8Array.from(offs, (o) => o[1]);
  const dx = Int8Array.from(offs, (o) => o[2]);
  const dIdx = Int32Array.from(offs, (o) => o[0] * YX + o[1] * X + o[2]);
  const k = offs.length;
  let queue: Int32Array = new Int32Array(Math.min(n, 1 << 16));
  const sizes = [0];
  let count = 0;
  for (let seed = 0; seed < n; seed++) {
    if (labels[seed] !== 0 || member[data[seed]] !== 1) continue;
    const id = ++count;
    labels[seed] = id;
    let head = 0;
    let size = 0; // elements in the ring queue
    let tail = 0;
    queue[tail] = seed;
    tail = (tail + 1) % queue.length;
    size = 1;
    let voxels = 0;
    while (size > 0) {
      const i = queue[head];
      head = (head + 1) % queue.length;
      size--;
      voxels++;
      const z = (i / YX) | 0;
      const rem = i - z * YX;
      const y = (rem / X) | 0;
      const x = rem - y * X;
      for (let q = 0; q < k; q++) {
        const nz = z + dz[q];
        const ny = y + dy[q];
        const nx = x + dx[q];
        if (nz < 0 || nz >= Z || ny < 0 || ny >= Y || nx < 0 || nx >= X) continue;
        const j = i + dIdx[q];
        if (labels[j] !== 0 || member[data[j]] !== 1) continue;
        labels[j] = id;
        if (size === queue.length) {
          ({ queue, head, tail } = growRing(queue, head, size));
        }
        queue[tail] = j;
        tail = (tail + 1) % queue.length;
        size++;
      }
    }
    sizes.push(voxels);
  }
  return { labels, count, sizes };
}

function growRing(queue: Int32Array, head: number, size: number): { queue: Int32Array; head: number; tail: number } {
  const next = new Int32Array(queue.length * 2);
  for (let s = 0; s < size; s++) next[s] = queue[(head + s) % queue.length];
  return { queue: next, head: 0, tail: size };
}

/** What keep-largest did to one entry (a class or a joint region). */
export interface KeepLargestResult {
  /** Voxels in the kept (largest) component(s); 0 when the region is empty. */
  keptVoxels: number;
  /** Voxels set to background. */
  removedVoxels: number;
  numComponents: number;
}

/** nnU-Net's optional "advanced" mode: only components smaller than a physical size are removed. */
export interface MinObjectSize {
  /** Minimum valid object size in mm³ (components at least this large are kept). */
  size: number;
  /** mm³ per voxel (product of the spacing). */
  voxelVolume: number;
}

/**
 * nnU-Net's remove_all_but_the_largest_connected_component for one entry, in place: every component of the
 * region (voxels whose label is in `classes`) whose size is not the maximum becomes background (0). On ties
 * every component of maximal size survives, as in nnU-Net. With `minSize`, only smaller components go.
 */
export function keepLargestComponent(seg: LabelArray, shape: Shape3, classes: number | readonly number[], connectivity: Connectivity = 6, scratch?: Int32Array, minSize?: MinObjectSize): KeepLargestResult {
  const member = membership(typeof classes === 'number' ? [classes] : classes);
  if (member[0] === 1) throw new RangeError('cannot remove background: label 0 is not a foreground class');
  const { labels, count, sizes } = labelComponents(seg, shape, member, connectivity, scratch);
  let max = 0;
  for (let c = 1; c <= count; c++) if (sizes[c] > max) max = sizes[c];
  const removeLut = new Uint8Array(count + 1);
  let removed = 0;
  let kept = 0;
  for (let c = 1; c <= count; c++) {
    if (sizes[c] !== max && (!minSize || sizes[c] * minSize.voxelVolume < minSize.size)) {
      removeLut[c] = 1;
      removed += sizes[c];
    } else kept += sizes[c];
  }
  if (removed > 0) {
    for (let i = 0; i < seg.length; i++) if (removeLut[labels[i]] === 1) seg[i] = 0;
  }
  return { keptVoxels: kept, removedVoxels: removed, numComponents: count };
}

/**
 * Applies keep-largest for each entry of `forWhichClasses` in order (an int is one class, an array a joint region),
 * in place, as nnU-Net's postprocessing does.
 */
export function removeAllButLargestComponent(seg: LabelArray, shape: Shape3, forWhichClasses: ReadonlyArray<number | readonly number[]>, connectivity: Connectivity = 6): KeepLargestResult[] {
  return removeAllButLargestComponentWithSizes(seg, shape, forWhichClasses, connectivity);
}

/** As removeAllButLargestComponent, with an optional minimum valid object size per entry (nnU-Net's advanced mode). */
export function removeAllButLargestComponentWithSizes(
  seg: LabelArray, shape: Shape3, forWhichClasses: ReadonlyArray<number | readonly number[]>, connectivity: Connectivity = 6,
  minSizeOf?: (entry: number | readonly number[]) => MinObjectSize | undefined,
): KeepLargestResult[] {
  const scratch = forWhichClasses.length > 0 ? new Int32Array(seg.length) : undefined;
  return forWhichClasses.map((entry) => keepLargestComponent(seg, shape, entry, connectivity, scratch, minSizeOf?.(entry)));
}
