/** A fold's own postprocessing as nnU-Net's validate() writes it: fold_X/postprocessing.json, validation_raw_postprocessed/, MODEL/gt_niftis/. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { postprocessFold } from '../../activities/postprocessing/fold';
import { readPostprocessingRules } from '../../activities/postprocessing/rules';
import { readLabelVolume } from '../../activities/evaluation/label-io';
import { writeNiftiSync } from '../../activities/io/nifti';
import { defaultGeometry } from '../../activities/io/geometry';

const SHAPE = [4, 8, 8];

function writeCase(dir: string, name: string, seg: Uint8Array): void {
  fs.mkdirSync(dir, { recursive: true });
  writeNiftiSync(path.join(dir, name), { data: seg, dtype: 'uint8', shape: SHAPE, geometry: defaultGeometry([1, 1, 1]) });
}

test('postprocessFold decides on the fold alone, writes validation_raw_postprocessed and copies every reference into gt_niftis', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-pp-fold-'));
  try {
    const pre = path.join(root, 'pre');
    const model = path.join(root, 'res', '2d', 'Task099_Toy', 'nnUNetTrainerV2__nnUNetPlansv2.1');
    const foldDir = path.join(model, 'fold_0');
    const ref = new Uint8Array(4 * 8 * 8);
    for (let i = 0; i < 40; i++) ref[i] = 1;
    const pred = ref.slice();
    pred[ref.length - 1] = 1; // a spurious far-away voxel: removing it helps
    writeCase(path.join(pre, 'gt_segmentations'), 'a.nii.gz', ref);
    writeCase(path.join(pre, 'gt_segmentations'), 'b.nii.gz', ref); // another fold's case: copied too, as nnU-Net does
    writeCase(path.join(foldDir, 'validation_raw'), 'a.nii.gz', pred);
    const r = await postprocessFold(foldDir, pre);
    assert.equal(r.postprocessingFile, path.join(foldDir, 'postprocessing.json'));
    assert.deepEqual(readPostprocessingRules(r.postprocessingFile).forWhichClasses, [[1]]);
    const post = await readLabelVolume(path.join(foldDir, 'validation_raw_postprocessed', 'a.nii.gz'));
    assert.equal(post.data[ref.length - 1], 0, 'the fold\'s rule is applied in validation_raw_postprocessed');
    assert.ok(fs.existsSync(path.join(foldDir, 'validation_raw_postprocessed', 'summary.json')));
    assert.deepEqual(fs.readdirSync(path.join(model, 'gt_niftis')).sort(), ['a.nii.gz', 'b.nii.gz']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
