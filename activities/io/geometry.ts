/**
 * Physical geometry of a volume, exactly as SimpleITK reports it: ITK's LPS world, axes in ITK order (x, y, z),
 * `direction` row-major (direction[3 * r + c] = component r of image axis c), as `GetDirection()` returns it.
 * nnU-Net's arrays are in the reverse axis order (z, y, x); `arraySpacing` gives the spacing in that order.
 */
import { BadInputError } from '../common/errors';

export type Vec3 = [number, number, number];
/** Row-major 3x3 matrix; its columns are the unit vectors of the image axes x, y, z in world (LPS) space. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface Geometry {
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function defaultGeometry(spacing: Vec3 = [1, 1, 1]): Geometry {
  return { spacing: [...spacing], origin: [0, 0, 0], direction: [...IDENTITY3] };
}

/** Spacing in nnU-Net's array axis order (z, y, x): the reverse of ITK's, as nnU-Net's `original_spacing`. */
export function arraySpacing(g: Geometry): Vec3 {
  return [g.spacing[2], g.spacing[1], g.spacing[0]];
}

/** Builds a geometry from nnU-Net array-order spacing (z, y, x). */
export function geometryFromArraySpacing(spacingZyx: Vec3, origin: Vec3 = [0, 0, 0], direction: Mat3 = IDENTITY3): Geometry {
  return { spacing: [spacingZyx[2], spacingZyx[1], spacingZyx[0]], origin: [...origin], direction: [...direction] };
}

/**
 * The raw image's geometry from nnU-Net v2's case properties: `sitk_stuff` where the reader records it
 * (SimpleITKIO, NIfTI), else the array-order `spacing` with origin 0 and identity direction, which is all
 * NaturalImage2DIO and Tiff3DIO record. `where` names the file holding the properties for the error.
 */
export function geometryOfCaseProperties(p: { sitk_stuff?: { spacing: readonly number[]; origin: readonly number[]; direction: readonly number[] }; spacing?: readonly number[] }, where: string): Geometry {
  const s = p.sitk_stuff;
  if (s) {
    if (s.spacing.length !== 3 || s.origin.length !== 3 || s.direction.length !== 9) throw new BadInputError(`${where}: sitk_stuff is not 3D (spacing, origin, direction); preprocess again`, where);
    return { spacing: [...s.spacing] as Vec3, origin: [...s.origin] as Vec3, direction: [...s.direction] as Mat3 };
  }
  if (!p.spacing || p.spacing.length !== 3) throw new BadInputError(`${where}: neither sitk_stuff nor a 3D spacing (the raw image geometry the export needs); preprocess again`, where);
  return geometryFromArraySpacing([...p.spacing] as Vec3);
}

/** Tolerances for "same geometry" (nnU-Net compares with np.isclose: rtol 1e-5, atol 1e-8). */
export interface GeometryTolerance { rtol: number; atol: number }
export const NUMPY_ISCLOSE: GeometryTolerance = { rtol: 1e-5, atol: 1e-8 };

function isClose(a: number, b: number, tol: GeometryTolerance): boolean {
  return Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b);
}

function allClose(a: readonly number[], b: readonly number[], tol: GeometryTolerance): boolean {
  return a.length === b.length && a.every((v, i) => isClose(v, b[i], tol));
}

/** Which parts of two geometries differ beyond the tolerance (empty when they match). */
export function geometryDifferences(a: Geometry, b: Geometry, tol: GeometryTolerance = NUMPY_ISCLOSE): Array<keyof Geometry> {
  const out: Array<keyof Geometry> = [];
  if (!allClose(a.spacing, b.spacing, tol)) out.push('spacing');
  if (!allClose(a.origin, b.origin, tol)) out.push('origin');
  if (!allClose(a.direction, b.direction, tol)) out.push('direction');
  return out;
}

/** Axis codes as nibabel's aff2axcodes reports them (RAS world), e.g. "RAS", "LPI"; used for orientation warnings. */
export function axisCodes(g: Geometry): string {
  const pos = ['R', 'A', 'S'];
  const neg = ['L', 'P', 'I'];
  let codes = '';
  for (let c = 0; c < 3; c++) {
    // LPS -> RAS: negate x and y.
    const ras = [-g.direction[c], -g.direction[3 + c], g.direction[6 + c]];
    let best = 0;
    for (let r = 1; r < 3; r++) if (Math.abs(ras[r]) > Math.abs(ras[best])) best = r;
    codes += ras[best] >= 0 ? pos[best] : neg[best];
  }
  return codes;
}
