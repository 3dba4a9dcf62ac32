/**
 * Our reader against SimpleITK (nnU-Net's reader) and nibabel, on the real files and on crafted headers that take
 * each branch of ITK's qform/sform rule. Runs only where a python with nibabel + SimpleITK is available
 * (NNUNET_PARITY_PYTHON, default python3); skipped otherwise.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { encodeNifti1, writeNiftiSync } from '../../activities/io/nifti';
import { compareWithReference, pythonHasReferenceReaders } from '../../scripts/parity/nifti-parity';
import { obliqueGeometry, rampVolume, sharedDir, tmpDir } from './helpers';

const python = process.env.NNUNET_PARITY_PYTHON ?? 'python3';

function craftedFiles(): string[] {
  const dir = tmpDir('nnunet-parity-');
  const vol = rampVolume('int16', [3, 4, 5], obliqueGeometry());
  const files: string[] = [];
  const add = (name: string, patch: (b: Buffer) => void) => {
    const b = encodeNifti1(vol);
    patch(b);
    const f = path.join(dir, name);
    fs.writeFileSync(f, b);
    files.push(f);
  };
  const ours = path.join(dir, 'written_by_us.nii.gz');
  writeNiftiSync(ours, vol);
  files.push(ours);
  add('qform_only.nii', (b) => { b.writeInt16LE(0, 254); b.fill(0, 280, 328); });
  add('sform_only.nii', (b) => { b.writeInt16LE(0, 252); b.fill(0, 256, 280); });
  add('sform1_shifted.nii', (b) => b.writeFloatLE(b.readFloatLE(292) + 10, 292));
  add('sform2_shifted.nii', (b) => { b.writeFloatLE(b.readFloatLE(292) + 10, 292); b.writeInt16LE(2, 254); });
  add('sform2_same.nii', (b) => b.writeInt16LE(2, 254));
  add('no_xform.nii', (b) => { b.writeInt16LE(0, 252); b.writeInt16LE(0, 254); });
  add('sform_sheared.nii', (b) => b.writeFloatLE(b.readFloatLE(280) + 0.5, 284));
  add('scaled.nii', (b) => { b.writeFloatLE(0.5, 112); b.writeFloatLE(3, 116); });
  add('units_meter.nii', (b) => { b[123] = 1; });
  add('units_micron.nii', (b) => { b[123] = 3 | 8; });
  add('negative_pixdim.nii', (b) => b.writeFloatLE(-b.readFloatLE(80), 80));
  add('negative_pixdim_qform.nii', (b) => { b.writeFloatLE(-b.readFloatLE(84), 84); b.writeInt16LE(0, 254); });
  return files;
}

test('geometry and voxels match SimpleITK; affine matches nibabel', (t) => {
  if (!pythonHasReferenceReaders(python)) return t.skip(`${python} lacks nibabel/SimpleITK (set NNUNET_PARITY_PYTHON): parity skipped`);
  const files = craftedFiles();
  const shared = sharedDir();
  if (shared) {
    for (const sub of ['SCT_errsm30/imagesTr', 'SCT_errsm30/labelsTr', 'Task04_Hippocampus/imagesTr']) {
      const dir = path.join(shared, 'realdata', sub);
      files.push(...fs.readdirSync(dir).slice(0, 4).map((f) => path.join(dir, f)));
    }
  }
  const rows = compareWithReference(files, python);
  for (const r of rows) {
    const name = path.basename(r.file);
    assert.ok(r.shapeMatches, `${name}: shape`);
    assert.ok(r.sitkSpacing <= 1e-6, `${name}: spacing ${r.sitkSpacing}`);
    assert.ok(r.sitkOrigin <= 1e-5, `${name}: origin ${r.sitkOrigin}`);
    assert.ok(r.sitkDirection <= 1e-6, `${name}: direction ${r.sitkDirection}`);
    assert.ok(r.sumRelative <= 1e-6, `${name}: voxel sum ${r.sumRelative}`);
    // nibabel always prefers a coded sform (ITK not for a shifted aligned-anat or a sheared one) and ignores units.
    if (!/sform2_shifted|sform_sheared|no_xform|units|negative/.test(name)) assert.ok(r.nibabelAffine <= 1e-4, `${name}: nibabel affine ${r.nibabelAffine}`);
  }
});
