import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { defaultGeometry } from '../../activities/io/geometry';
import { formatInspectReport, inspectImage } from '../../activities/io/inspect';
import { writeNiftiSync } from '../../activities/io/nifti';
import { rampVolume, sharedDir, tmpDir } from './helpers';
import { tinyLabel } from './tiny-task';

test('inspect: label values for integer label maps, range and NaN count for images', async () => {
  const dir = tmpDir();
  writeNiftiSync(path.join(dir, 'l.nii.gz'), tinyLabel(1));
  const img = rampVolume('float32', [2, 3, 4], { ...defaultGeometry([0.5, 0.5, 3]), origin: [1, 2, 3] });
  img.data[0] = NaN;
  writeNiftiSync(path.join(dir, 'i.nii'), img);
  const l = await inspectImage(path.join(dir, 'l.nii.gz'));
  assert.deepEqual(l.labelValues, [0, 1, 2]);
  assert.equal(l.dtype, 'uint8');
  const i = await inspectImage(path.join(dir, 'i.nii'));
  assert.equal(i.labelValues, undefined);
  assert.equal(i.nanCount, 1);
  assert.deepEqual(i.shape, [2, 3, 4]);
  assert.deepEqual(i.sizeItk, [4, 3, 2]);
  assert.deepEqual(i.arraySpacing, [3, 0.5, 0.5]);
  assert.equal(i.orientation, 'LPS'); // identity direction in ITK's LPS world
  assert.match(formatInspectReport(i), /spacing {5}\(0\.5, 0\.5, 3\) mm x, y, z; array order \(3, 0\.5, 0\.5\)/);
});

test('inspect: orientation codes of the real SCT files agree with nibabel', async (t) => {
  const shared = sharedDir();
  if (!shared) return t.skip('../shared/realdata is absent (real SCT images, not in the repository): orientation check skipped');
  // nibabel.aff2axcodes of each file (computed once with nibabel 5.4).
  const expected: Record<string, string> = { 'sct_mt1.nii.gz': 'LAS', 'sct_t1w.nii.gz': 'RAS', 'sct_t2.nii.gz': 'PSR', 'sct_t2s.nii.gz': 'LAS' };
  for (const [f, codes] of Object.entries(expected)) {
    assert.equal((await inspectImage(path.join(shared, 'realdata', 'SCT_errsm30', 'imagesTr', f))).orientation, codes, f);
  }
});
