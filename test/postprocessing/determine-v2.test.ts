/**
 * v2's determine_postprocessing on tiny label maps: two separate boxes (labels 1 and 2) with a stray label-1 voxel
 * in every prediction. Keeping the largest foreground component would delete a box (rejected); keeping the
 * largest label-1 component removes the stray voxel (kept); label 2 does not change (rejected).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeNiftiSync } from '../../activities/io/nifti';
import type { Mat3, Vec3 } from '../../activities/io/geometry';
import { readLabelVolume } from '../../activities/evaluation/label-io';
import { determinePostprocessingV2 } from '../../activities/postprocessing/determine-v2';
import { readPostprocessingPklV2 } from '../../activities/postprocessing/v2-rules';

const S = 8;
const geometry = { spacing: [1, 1, 1] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3 };

function volume(stray: boolean, shift: number): Uint8Array {
  const v = new Uint8Array(S * S * S);
  for (let z = 1; z < 4; z++) for (let y = 1; y < 4; y++) for (let x = 1 + shift; x < 4 + shift; x++) v[(z * S + y) * S + x] = 1;
  for (let z = 5; z < 7; z++) for (let y = 5; y < 7; y++) for (let x = 5; x < 7; x++) v[(z * S + y) * S + x] = 2;
  if (stray) v[(7 * S + 0) * S + 7] = 1;
  return v;
}

test('determine_postprocessing v2: per-label largest component kept where it raises the Dice; pkl, json, postprocessed/', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-ppv2-'));
  try {
    const pred = path.join(root, 'pred'), ref = path.join(root, 'ref');
    fs.mkdirSync(pred); fs.mkdirSync(ref);
    for (let c = 0; c < 3; c++) {
      writeNiftiSync(path.join(ref, `c${c}.nii.gz`), { data: volume(false, c % 2), shape: [S, S, S], dtype: 'uint8', geometry });
      writeNiftiSync(path.join(pred, `c${c}.nii.gz`), { data: volume(true, c % 2), shape: [S, S, S], dtype: 'uint8', geometry });
    }
    const r = await determinePostprocessingV2({ predictionsDir: pred, referenceDir: ref, fileEnding: '.nii.gz', labelsOrRegions: [1, 2] });
    assert.deepEqual(r.kwargs, [{ labels_or_regions: 1 }]);
    assert.ok(r.after > r.before, `${r.before} -> ${r.after}`);
    assert.deepEqual(readPostprocessingPklV2(path.join(pred, 'postprocessing.pkl')), [{ labels: [1] }]);
    const json = JSON.parse(fs.readFileSync(path.join(pred, 'postprocessing.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ['input_folder', 'postprocessed', 'postprocessing_fns', 'postprocessing_kwargs']);
    assert.deepEqual(json.postprocessing_fns, ['remove_all_but_largest_component_from_segmentation']);
    const fixed = await readLabelVolume(path.join(pred, 'postprocessed', 'c0.nii.gz'));
    assert.deepEqual(Array.from(fixed.data as ArrayLike<number>), Array.from(volume(false, 0)));
    assert.ok(!fs.existsSync(path.join(pred, 'postprocessed', 'temp')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
