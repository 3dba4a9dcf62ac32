/**
 * What `nnunet inspect FILE` reports about an image (NIfTI, or any format of the image registry): geometry as
 * SimpleITK sees it, datatype, values, and for NIfTI its header's transform fields.
 */
import { arraySpacing, axisCodes, type Geometry, type Vec3 } from './geometry';
import type { NiftiInfo } from './nifti';
import { readImageFile, readerWriterFor } from './image-formats/registry';
import { distinctValues, isIntegerDtype, valueRange, type DType, type Volume } from './volume';

export interface InspectReport {
  file: string;
  /** nnU-Net array order: (z, y, x) or (c, z, y, x). */
  shape: number[];
  /** NIfTI / ITK order: (x, y, z[, c]). */
  sizeItk: number[];
  dtype: DType;
  geometry: Geometry;
  /** Spacing in array order (z, y, x), as nnU-Net's original_spacing. */
  arraySpacing: Vec3;
  /** nibabel-style orientation codes, e.g. "RAS", "LPS". */
  orientation: string;
  /** The reader/writer that read it (nnU-Net v2's class name, or NIfTI). */
  reader: string;
  /** NIfTI files only. */
  nifti?: NiftiInfo;
  min: number;
  max: number;
  nanCount: number;
  infCount: number;
  /** Distinct values of integer images with at most 32 of them (label maps). */
  labelValues?: number[];
}

export const MAX_LABEL_VALUES = 32;

export async function inspectImage(file: string): Promise<InspectReport> {
  const v: Volume & { nifti?: NiftiInfo } = await readImageFile(file);
  const r = valueRange(v.data);
  const labels = isIntegerDtype(v.dtype) ? distinctValues(v.data, MAX_LABEL_VALUES) : undefined;
  return {
    file, shape: v.shape, sizeItk: [...v.shape].reverse(), dtype: v.dtype, geometry: v.geometry,
    arraySpacing: arraySpacing(v.geometry), orientation: axisCodes(v.geometry), reader: readerWriterFor(file).name, nifti: v.nifti,
    min: r.min, max: r.max, nanCount: r.nan, infCount: r.inf, labelValues: labels,
  };
}

function niftiDatatype(n: NiftiInfo, dtype: DType): string {
  return `${n.fileDatatype !== dtype ? ` (stored as ${n.fileDatatype}, scl_slope ${n.sclSlope}, scl_inter ${n.sclInter})` : ''}, NIfTI-${n.version}`;
}

export function formatInspectReport(r: InspectReport): string {
  const f = (xs: readonly number[]) => xs.map((x) => +x.toPrecision(7)).join(', ');
  const d = r.geometry.direction;
  const lines = [
    r.file,
    `  shape       (${f(r.shape)}) array order (${r.shape.length === 4 ? 'c, ' : ''}z, y, x); ITK size (${f(r.sizeItk)})`,
    `  datatype    ${r.dtype}${r.nifti ? niftiDatatype(r.nifti, r.dtype) : `, read by ${r.reader}`}`,
    `  spacing     (${f(r.geometry.spacing)}) mm x, y, z; array order (${f(r.arraySpacing)})`,
    `  origin      (${f(r.geometry.origin)}) mm, LPS`,
    `  direction   (${f(d.slice(0, 3))}) (${f(d.slice(3, 6))}) (${f(d.slice(6, 9))})  orientation ${r.orientation}`,
    ...(r.nifti ? [`  transform   ${r.nifti.xformSource} (qform_code ${r.nifti.qformCode}, sform_code ${r.nifti.sformCode})`] : []),
    `  values      ${r.min} .. ${r.max}${r.nanCount || r.infCount ? `  (${r.nanCount} NaN, ${r.infCount} Inf)` : ''}`,
  ];
  if (r.labelValues) lines.push(`  labels      ${r.labelValues.join(', ')}`);
  return lines.join('\n');
}
