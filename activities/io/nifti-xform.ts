/**
 * NIfTI voxel-to-world transforms (qform and sform, RAS world) and the rule ITK uses to turn them into an ITK
 * geometry (LPS world). nnU-Net reads images with SimpleITK, so SimpleITK's answer is the reference.
 *
 * ITK's rule (itkNiftiImageIO.cxx, SetImageIOOrientationFromNIfTI, ITK 5.3+ / SimpleITK 2.x):
 * 1. qform_code and sform_code both 0: origin 0, direction identity.
 * 2. prefer sform := qform and sform matrices agree element-wise (3x3 within 1e-5, offsets within 1e-7).
 * 3. When they do not agree, or sform_code > 0: if the sform is invertible and its 3x3, with each column
 *    normalised, is orthonormal (within 1e-4), the sform wins when qform_code = 0, or sform_code = 1
 *    (SCANNER_ANAT), or (both codes > 0) when the two transforms have the same rotation, scales and offset
 *    (within 1e-4); otherwise the qform wins.
 * 4. The chosen matrix M gives origin (-M03, -M13, M23) and direction columns normalise(-M0c, -M1c, M2c).
 * Spacing comes from pixdim[1..3] (where a pixdim is 0 or not finite, from the sform; see spacingOf). Matrices are single precision as in nifti1_io (mat44 of float).
 */
import { BadInputError } from '../common/errors';
import type { Geometry, Mat3, Vec3 } from './geometry';

/** 4x4 matrix, row-major, RAS world. */
export type Mat44 = number[][];

export interface NiftiXformFields {
  qformCode: number;
  sformCode: number;
  quatern: Vec3; // b, c, d
  qoffset: Vec3;
  /** pixdim[0]: its sign is qfac. */
  pixdim0: number;
  /** pixdim[1..3] */
  pixdim: Vec3;
  /** srow_x, srow_y, srow_z */
  srow: [number[], number[], number[]];
  /** xyzt_units: ITK scales spacing and origin to mm for meters (1) and microns (3). */
  xyztUnits: number;
}

/** Millimetres per spatial unit of xyzt_units, as ITK applies it (unknown and mm: 1). */
export function spatialUnitScale(xyztUnits: number): number {
  switch (xyztUnits & 7) {
    case 1: return 1000;
    case 3: return 0.001;
    default: return 1;
  }
}

const f32 = Math.fround;

/** nifti_quatern_to_mat44 (nifti1_io.c), rounded to float as nifti1_io stores it. */
export function quaternToMat44(q: Vec3, offset: Vec3, pixdim: Vec3, qfac: number): Mat44 {
  let [b, c, d] = q;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    a = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= a; c *= a; d *= a;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const xd = pixdim[0] > 0 ? pixdim[0] : 1;
  const yd = pixdim[1] > 0 ? pixdim[1] : 1;
  let zd = pixdim[2] > 0 ? pixdim[2] : 1;
  if (qfac < 0) zd = -zd;
  const m = [
    [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, offset[0]],
    [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, offset[1]],
    [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, offset[2]],
    [0, 0, 0, 1],
  ];
  return m.map((row) => row.map(f32));
}

/** nifti_mat44_to_quatern for an orthonormal rotation R (row-major 3x3): quaternion (b, c, d) and qfac. */
export function rotationToQuatern(R: Mat3): { quatern: Vec3; qfac: 1 | -1 } {
  let [r11, r12, r13, r21, r22, r23, r31, r32, r33] = R;
  const det = r11 * r22 * r33 - r11 * r32 * r23 - r21 * r12 * r33 + r21 * r32 * r13 + r31 * r12 * r23 - r31 * r22 * r13;
  let qfac: 1 | -1 = 1;
  if (det <= 0) {
    qfac = -1;
    r13 = -r13; r23 = -r23; r33 = -r33;
  }
  let a = r11 + r22 + r33 + 1;
  let b: number; let c: number; let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = (0.25 * (r12 + r21)) / b; d = (0.25 * (r13 + r31)) / b; a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = (0.25 * (r12 + r21)) / c; d = (0.25 * (r23 + r32)) / c; a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd); b = (0.25 * (r13 + r31)) / d; c = (0.25 * (r23 + r32)) / d; a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { quatern: [b, c, d], qfac };
}

function col(m: Mat44, c: number): Vec3 {
  return [m[0][c], m[1][c], m[2][c]];
}

function norm(v: readonly number[]): number {
  return Math.hypot(...v);
}

function det3(m: Mat44): number {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

function elementwiseSimilar(s: Mat44, q: Mat44): boolean {
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) if (Math.abs(s[r][c] - q[r][c]) > 1e-5) return false;
  let off = 0;
  for (let r = 0; r < 4; r++) off += Math.abs(s[r][3] - q[r][3]);
  let bottom = 0;
  for (let c = 0; c < 4; c++) bottom += Math.abs(s[3][c] - q[3][c]);
  return off <= 1e-7 && bottom <= 1e-7;
}

/** The sform's 3x3 with normalised columns is orthonormal (no shear) and invertible. */
function decomposableWithoutSkew(s: Mat44): boolean {
  if (s[3][0] !== 0 || s[3][1] !== 0 || s[3][2] !== 0 || s[3][3] !== 1 || det3(s) === 0) return false;
  const cols = [0, 1, 2].map((c) => { const v = col(s, c); const n = norm(v); return v.map((x) => x / n); });
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dot = cols[i][0] * cols[j][0] + cols[i][1] * cols[j][1] + cols[i][2] * cols[j][2];
      if (Math.abs(dot - (i === j ? 1 : 0)) > 1e-4) return false;
    }
  }
  return true;
}

/** Same rotation, scales and offset within 1e-4 (ITK compares SVDs; for orthogonal-times-scale matrices this is it). */
function verySimilar(s: Mat44, q: Mat44): boolean {
  for (let c = 0; c < 3; c++) {
    const sc = col(s, c); const qc = col(q, c);
    const ns = norm(sc); const nq = norm(qc);
    if (Math.abs(ns - nq) > 1e-4) return false;
    for (let r = 0; r < 3; r++) if (Math.abs(sc[r] / ns - qc[r] / nq) > 1e-4) return false;
  }
  for (let r = 0; r < 3; r++) if (Math.abs(s[r][3] - q[r][3]) > 1e-4) return false;
  return true;
}

export type XformSource = 'sform' | 'qform' | 'none';

/** Which transform ITK uses for this header (see the rule at the top of this file). */
export function chooseXform(h: NiftiXformFields): { source: XformSource; matrix?: Mat44 } {
  if (h.qformCode <= 0 && h.sformCode <= 0) return { source: 'none' };
  const qfac = h.pixdim0 < 0 ? -1 : 1;
  const q = h.qformCode > 0
    ? quaternToMat44(h.quatern, h.qoffset, h.pixdim, qfac)
    : [[f32(h.pixdim[0]), 0, 0, 0], [0, f32(h.pixdim[1]), 0, 0], [0, 0, f32(h.pixdim[2]), 0], [0, 0, 0, 1]];
  const s = h.sformCode > 0 ? [...h.srow.map((r) => r.map(f32)), [0, 0, 0, 1]] : [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
  let preferSform = elementwiseSimilar(s, q);
  if (!preferSform || h.sformCode > 0) {
    if (decomposableWithoutSkew(s)) {
      if (h.qformCode <= 0 && h.sformCode > 0) preferSform = true;
      else if (h.sformCode === 1) preferSform = true;
      else if (h.qformCode > 0 && h.sformCode > 0) preferSform = verySimilar(s, q);
    }
  }
  if (preferSform) return { source: 'sform', matrix: s };
  if (h.qformCode > 0) return { source: 'qform', matrix: q };
  throw new BadInputError('no orthonormal orientation: the sform has shear and there is no qform (ITK refuses such files too)');
}

/**
 * One axis' spacing: |pixdim|; where pixdim is 0, NaN or Inf, the length of the sform's column (the sform is
 * the only other place a header states it). Without either the spacing is unknown, and it is refused: a
 * made-up 1 mm would train on wrongly scaled images without a word.
 */
function spacingOf(h: NiftiXformFields, axis: number): number {
  const p = Math.abs(h.pixdim[axis]);
  if (Number.isFinite(p) && p > 0) return p;
  const fromSform = h.sformCode > 0 ? Math.hypot(h.srow[0][axis], h.srow[1][axis], h.srow[2][axis]) : NaN;
  if (Number.isFinite(fromSform) && fromSform > 0) return f32(fromSform);
  throw new BadInputError(
    `pixdim[${axis + 1}] is ${h.pixdim[axis]} and no sform gives that axis' spacing, so the voxel size is unknown; ` +
      'write the real spacing into the header (nibabel: img.header.set_zooms(...); SimpleITK: image.SetSpacing(...)) and save the file again');
}

/**
 * ITK geometry from a NIfTI header. As ITK also does: spacing is |pixdim| and a negative pixdim flips its axis'
 * direction; spacing and origin are scaled to mm when xyzt_units says meters or microns.
 */
export function geometryFromNifti(h: NiftiXformFields): { geometry: Geometry; source: XformSource } {
  const unit = spatialUnitScale(h.xyztUnits);
  const spacing = h.pixdim.map((p, axis) => spacingOf(h, axis) * unit) as Vec3;
  const flip = h.pixdim.map((p) => (p < 0 ? -1 : 1));
  const { source, matrix } = chooseXform(h);
  if (!matrix) return { geometry: { spacing, origin: [0, 0, 0], direction: [flip[0], 0, 0, 0, flip[1], 0, 0, 0, flip[2]] }, source };
  const origin: Vec3 = [(-matrix[0][3] + 0) * unit, (-matrix[1][3] + 0) * unit, matrix[2][3] * unit];
  const direction = [0, 0, 0, 0, 0, 0, 0, 0, 0] as Mat3;
  for (let c = 0; c < 3; c++) {
    const v = [-matrix[0][c], -matrix[1][c], matrix[2][c]];
    const n = norm(v);
    for (let r = 0; r < 3; r++) direction[3 * r + c] = (flip[c] * v[r]) / n + 0; // + 0 turns -0 into 0
  }
  return { geometry: { spacing, origin, direction }, source };
}

/** The NIfTI (RAS) fields that encode an ITK geometry: sform rows and the matching qform. */
export function niftiXformFromGeometry(g: Geometry): { srow: [number[], number[], number[]]; quatern: Vec3; qoffset: Vec3; qfac: 1 | -1 } {
  // LPS -> RAS: negate the first two rows of direction and origin.
  const sign = [-1, -1, 1];
  const rot = g.direction.map((v, i) => v * sign[Math.floor(i / 3)]) as Mat3;
  const srow = [0, 1, 2].map((r) => [
    rot[3 * r] * g.spacing[0], rot[3 * r + 1] * g.spacing[1], rot[3 * r + 2] * g.spacing[2], g.origin[r] * sign[r],
  ]) as [number[], number[], number[]];
  const { quatern, qfac } = rotationToQuatern(orthonormalise(rot));
  return { srow, quatern, qoffset: [srow[0][3], srow[1][3], srow[2][3]], qfac };
}

/** Normalises the columns of a direction matrix (directions read from float headers are unit only to ~1e-7). */
function orthonormalise(m: Mat3): Mat3 {
  const out = [...m] as Mat3;
  for (let c = 0; c < 3; c++) {
    const n = Math.hypot(m[c], m[3 + c], m[6 + c]) || 1;
    for (let r = 0; r < 3; r++) out[3 * r + c] = m[3 * r + c] / n;
  }
  return out;
}
