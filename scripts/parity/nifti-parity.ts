/**
 * Parity of our NIfTI reader with SimpleITK (nnU-Net's reader) and nibabel, on real files. A one-off check, not
 * a runtime dependency: it needs a python with nibabel, SimpleITK and numpy (`pip install nibabel SimpleITK`).
 *   npx tsx scripts/parity/nifti-parity.ts [--python PY] FILE...
 * Prints per-file maximum absolute differences and exits 1 when any exceeds 1e-5.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readNiftiSync } from '../../activities/io/nifti';

export interface ParityRow {
  file: string;
  shapeMatches: boolean;
  /** max |ours - SimpleITK| over spacing, origin, direction */
  sitkSpacing: number;
  sitkOrigin: number;
  sitkDirection: number;
  /** |sum(ours) - sum(SimpleITK)| relative to |sum| */
  sumRelative: number;
  /** max |ours - nibabel| over the RAS affine (nibabel prefers the sform whenever sform_code > 0, ITK not always) */
  nibabelAffine: number;
  xformSource: string;
}

export function pythonHasReferenceReaders(python: string): boolean {
  const r = spawnSync(python, ['-c', 'import nibabel, SimpleITK, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

interface Reference {
  sitk: { spacing: number[]; origin: number[]; direction: number[]; array_shape: number[]; sum: number };
  nibabel: { affine: number[][] };
}

/** The python side lives in the source tree (scripts/parity), also when this file runs compiled from dist/. */
function referenceScript(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const f = path.join(dir, 'scripts', 'parity', 'nifti_geometry.py');
    if (fs.existsSync(f) && !dir.split(path.sep).includes('dist')) return f;
    if (path.dirname(dir) === dir) throw new Error('scripts/parity/nifti_geometry.py not found');
  }
}

export function compareWithReference(files: string[], python: string): ParityRow[] {
  const script = referenceScript();
  const r = spawnSync(python, [script, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  const ref = JSON.parse(r.stdout) as Record<string, Reference>;
  return files.map((file) => {
    const v = readNiftiSync(file);
    const s = ref[file].sitk;
    const g = v.geometry;
    let sum = 0;
    for (let i = 0; i < v.data.length; i++) sum += v.data[i];
    // Our RAS affine: diag(-1,-1,1) · [direction · diag(spacing) | origin]
    const sign = [-1, -1, 1];
    const ours = [0, 1, 2].flatMap((r) => [
      sign[r] * g.direction[3 * r] * g.spacing[0], sign[r] * g.direction[3 * r + 1] * g.spacing[1],
      sign[r] * g.direction[3 * r + 2] * g.spacing[2], sign[r] * g.origin[r],
    ]);
    const nib = ref[file].nibabel.affine.slice(0, 3).flat();
    return {
      file,
      shapeMatches: JSON.stringify(v.shape) === JSON.stringify(s.array_shape),
      sitkSpacing: maxAbsDiff(g.spacing, s.spacing.slice(0, 3)),
      sitkOrigin: maxAbsDiff(g.origin, s.origin.slice(0, 3)),
      sitkDirection: maxAbsDiff(g.direction, s.direction.length === 9 ? s.direction : [0, 1, 2].flatMap((r) => s.direction.slice(4 * r, 4 * r + 3))),
      sumRelative: Math.abs(sum - s.sum) / Math.max(1, Math.abs(s.sum)),
      nibabelAffine: maxAbsDiff(ours, nib),
      xformSource: v.nifti.xformSource,
    };
  });
}

function main(): void {
  const args = process.argv.slice(2);
  let python = 'python3';
  const pi = args.indexOf('--python');
  if (pi >= 0) { python = args[pi + 1]; args.splice(pi, 2); }
  if (!pythonHasReferenceReaders(python)) {
    console.error(`${python} lacks nibabel/SimpleITK/numpy: pip install nibabel SimpleITK`);
    process.exit(2);
  }
  const rows = compareWithReference(args.map((f) => path.resolve(f)), python);
  console.table(rows.map((r) => ({ ...r, file: path.basename(path.dirname(r.file)) + '/' + path.basename(r.file) })));
  const bad = rows.filter((r) => !r.shapeMatches || Math.max(r.sitkSpacing, r.sitkOrigin, r.sitkDirection, r.sumRelative) > 1e-5);
  process.exit(bad.length ? 1 : 0);
}

if (require.main === module) main();
