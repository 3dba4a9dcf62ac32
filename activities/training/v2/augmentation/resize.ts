/**
 * torch.nn.functional.interpolate on the CPU, as batchgeneratorsv2 calls it: 'nearest-exact' (SimulateLowResolution's
 * downsampling, DownsampleSegForDSTransform) and 'linear'/'bilinear'/'trilinear' with align_corners=False (the
 * low-resolution upsampling). Index and weight arithmetic in float32 like torch's kernels.
 */
const f = Math.fround;

/** nearest-exact source index per output index: min(floor((o + 0.5)·(in/out)), in − 1). */
export function nearestExactIndices(inSize: number, outSize: number): Int32Array {
  const scale = f(inSize / outSize);
  return Int32Array.from({ length: outSize }, (_, o) => Math.min(Math.floor(f((o + 0.5) * scale)), inSize - 1));
}

/** Linear source indices and weights per output index (area_pixel_compute_source_index, align_corners False). */
function linearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l0: Float32Array; l1: Float32Array } {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), l0 = new Float32Array(outSize), l1 = new Float32Array(outSize);
  const scale = f(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    if (inSize === outSize) { i0[o] = o; i1[o] = o; l0[o] = 1; l1[o] = 0; continue; }
    const real = Math.max(0, f(f(scale * f(o + 0.5)) - 0.5));
    const a = Math.trunc(real);
    i0[o] = a;
    i1[o] = a + (a < inSize - 1 ? 1 : 0);
    l1[o] = Math.min(Math.max(f(real - a), 0), 1);
    l0[o] = f(1 - l1[o]!);
  }
  return { i0, i1, l0, l1 };
}

const as3 = (s: readonly number[]): number[] => (s.length === 3 ? [...s] : s.length === 2 ? [1, ...s] : [1, 1, ...s]);

/** Resizes one volume (1-3 spatial axes, C order) to `outShape` with nearest-exact. */
export function resizeNearestExact(src: Float32Array, shape: readonly number[], outShape: readonly number[]): Float32Array {
  const [Z, Y, X] = as3(shape) as [number, number, number];
  const [oz, oy, ox] = as3(outShape) as [number, number, number];
  const mz = nearestExactIndices(Z, oz), my = nearestExactIndices(Y, oy), mx = nearestExactIndices(X, ox);
  const out = new Float32Array(oz * oy * ox);
  let o = 0;
  for (let z = 0; z < oz; z++) {
    for (let y = 0; y < oy; y++) {
      const row = (mz[z]! * Y + my[y]!) * X;
      for (let x = 0; x < ox; x++) out[o++] = src[row + mx[x]!]!;
    }
  }
  return out;
}

/**
 * Resizes one volume to `outShape` with (bi/tri)linear interpolation, align_corners False: per output voxel
 * Σ over the first axis' taps of weight × (the same over the remaining axes), each product and sum in float32.
 */
export function resizeLinear(src: Float32Array, shape: readonly number[], outShape: readonly number[]): Float32Array {
  const dims = shape.length;
  const [Z, Y, X] = as3(shape) as [number, number, number];
  const [oz, oy, ox] = as3(outShape) as [number, number, number];
  const tz = linearTaps(Z, oz), ty = linearTaps(Y, oy), tx = linearTaps(X, ox);
  const out = new Float32Array(oz * oy * ox);
  const lineX = (row: number, x: number) => f(f(src[row + tx.i0[x]!]! * tx.l0[x]!) + f(src[row + tx.i1[x]!]! * tx.l1[x]!));
  const planeY = (z: number, y: number, x: number) =>
    f(f(lineX((z * Y + ty.i0[y]!) * X, x) * ty.l0[y]!) + f(lineX((z * Y + ty.i1[y]!) * X, x) * ty.l1[y]!));
  let o = 0;
  for (let z = 0; z < oz; z++) {
    for (let y = 0; y < oy; y++) {
      for (let x = 0; x < ox; x++) {
        if (dims === 1) out[o++] = lineX(0, x);
        else if (dims === 2) out[o++] = planeY(0, y, x);
        else out[o++] = f(f(planeY(tz.i0[z]!, y, x) * tz.l0[z]!) + f(planeY(tz.i1[z]!, y, x) * tz.l1[z]!));
      }
    }
  }
  return out;
}
