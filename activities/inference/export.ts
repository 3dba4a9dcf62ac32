/**
 * From softmax on the preprocessed grid back to the raw image (v1 `save_segmentation_nifti_from_softmax`,
 * with v2's uncropping): transpose back (transpose_backward), resample to the cropped original shape (order 1, the
 * low-resolution axis separately with order 0 when the spacing is anisotropic), embed into the original shape with
 * background probability 1 outside the crop box, argmax to a uint8 label map, and the image's ITK geometry.
 * See docs/inference.md, 'How a case is predicted'.
 */
import type { Geometry, Mat3, Vec3 } from '../io/geometry';
import { transposeChannels, transposedShape } from '../preprocessing/transpose';
import { resampleChannel, separateZAxis, type Shape3 } from '../volume/resample';

/** The case properties export needs (a subset of preprocessing's TestCaseProperties; array order unless itk_*). */
export interface ExportProperties {
  original_size_of_raw_data: number[];
  original_spacing: number[];
  size_after_cropping: number[];
  /** [[z0, z1], [y0, y1], [x0, x1]], half-open. */
  crop_bbox: number[][];
  /** Transposed order (transpose_forward applied), as preprocessing records it. */
  spacing_after_resampling: number[];
  itk_spacing: number[];
  itk_origin: number[];
  itk_direction: number[];
}

/** Class-first probabilities over a 3D grid. */
export interface Probabilities { data: Float32Array; numClasses: number; shape: Shape3 }

const voxels = (s: readonly number[]) => s[0] * s[1] * s[2];
const shape3 = (s: readonly number[]): Shape3 => [s[0], s[1], s[2]];

/** Transposes back and resamples to `size_after_cropping` (the cropped region at the original spacing). */
export function toCroppedOriginal(p: Probabilities, transposeBackward: readonly number[], props: ExportProperties): Probabilities {
  const data = transposeChannels(p.data, p.shape, transposeBackward);
  const shape = shape3(transposedShape(p.shape, transposeBackward));
  const target = shape3(props.size_after_cropping);
  if (shape.every((d, i) => d === target[i])) return { data, numClasses: p.numClasses, shape };
  // spacing_after_resampling is stored transposed; element i of the original order is element backward[i]
  const resampledSpacing = transposeBackward.map((a) => props.spacing_after_resampling[a]);
  const axis = separateZAxis(props.original_spacing, resampledSpacing);
  const n = voxels(shape);
  const m = voxels(target);
  const out = new Float32Array(p.numClasses * m);
  for (let k = 0; k < p.numClasses; k++) {
    out.set(resampleChannel(data.subarray(k * n, (k + 1) * n), shape, target, { isSeg: false, axis, order: 1, orderZ: 0 }), k * m);
  }
  return { data: out, numClasses: p.numClasses, shape: target };
}

/** Embeds cropped probabilities into the original shape; outside the crop box background (class 0) is 1. */
export function uncropProbabilities(p: Probabilities, props: ExportProperties, backgroundOutside = true): Probabilities {
  const full = shape3(props.original_size_of_raw_data);
  const [[z0], [y0], [x0]] = props.crop_bbox;
  if (z0 === 0 && y0 === 0 && x0 === 0 && p.shape.every((d, i) => d === full[i])) return p;
  const n = voxels(full);
  const out = new Float32Array(p.numClasses * n);
  if (backgroundOutside) out.fill(1, 0, n);
  const [cz, cy, cx] = p.shape;
  const cn = voxels(p.shape);
  for (let k = 0; k < p.numClasses; k++) {
    for (let z = 0; z < cz; z++) {
      for (let y = 0; y < cy; y++) {
        const src = k * cn + (z * cy + y) * cx;
        const dst = k * n + ((z + z0) * full[1] + y + y0) * full[2] + x0;
        out.set(p.data.subarray(src, src + cx), dst);
      }
    }
  }
  return { data: out, numClasses: p.numClasses, shape: full };
}

/** The crop box of probabilities on the original shape (the inverse of uncropProbabilities). */
export function cropProbabilities(p: Probabilities, props: ExportProperties): Probabilities {
  const [[z0, z1], [y0, y1], [x0, x1]] = props.crop_bbox;
  const shape: Shape3 = [z1 - z0, y1 - y0, x1 - x0];
  if (shape.every((d, i) => d === p.shape[i])) return p;
  const [, ny, nx] = p.shape;
  const n = voxels(p.shape);
  const m = voxels(shape);
  const out = new Float32Array(p.numClasses * m);
  for (let k = 0; k < p.numClasses; k++) {
    for (let z = 0; z < shape[0]; z++) {
      for (let y = 0; y < shape[1]; y++) {
        const src = k * n + ((z + z0) * ny + y + y0) * nx + x0;
        out.set(p.data.subarray(src, src + shape[2]), k * m + (z * shape[1] + y) * shape[2]);
      }
    }
  }
  return { data: out, numClasses: p.numClasses, shape };
}

/** Argmax over classes (first maximum wins, as numpy). */
export function argmaxClasses(p: Probabilities): Uint8Array {
  if (p.numClasses > 256) throw new RangeError(`${p.numClasses} classes do not fit a uint8 label map`);
  const n = voxels(p.shape);
  const seg = new Uint8Array(n);
  const best = p.data.slice(0, n);
  for (let k = 1; k < p.numClasses; k++) {
    const off = k * n;
    for (let i = 0; i < n; i++) {
      const v = p.data[off + i];
      if (v > best[i]) {
        best[i] = v;
        seg[i] = k;
      }
    }
  }
  return seg;
}

/** Averages several probability maps of the same shape (folds, or configurations when ensembling). */
export function meanProbabilities(maps: readonly Probabilities[]): Probabilities {
  if (maps.length === 0) throw new RangeError('nothing to average');
  const [first] = maps;
  const sum = Float32Array.from(first.data);
  for (const m of maps.slice(1)) {
    if (m.numClasses !== first.numClasses || m.shape.some((d, i) => d !== first.shape[i])) {
      throw new RangeError(`cannot average probabilities of shape ${m.numClasses}x${m.shape.join('x')} with ${first.numClasses}x${first.shape.join('x')}`);
    }
    for (let i = 0; i < sum.length; i++) sum[i] += m.data[i];
  }
  const inv = maps.length;
  for (let i = 0; i < sum.length; i++) sum[i] /= inv;
  return { data: sum, numClasses: first.numClasses, shape: first.shape };
}

export function geometryOf(props: Pick<ExportProperties, 'itk_spacing' | 'itk_origin' | 'itk_direction'>): Geometry {
  return {
    spacing: [...props.itk_spacing] as Vec3,
    origin: [...props.itk_origin] as Vec3,
    direction: [...props.itk_direction] as Mat3,
  };
}
