/**
 * The small rules behind v2 on every format and v1 models in the v2 tree: the raw geometry from v2's case
 * properties (sitk_stuff, else the spacing alone), the converted dataset.json of a Task that is already v2's,
 * v2's checkpoint names for a moved v1 model, and the v2 loader's refusal of such a folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError } from '../../activities/common/errors';
import { geometryOfCaseProperties } from '../../activities/io/geometry';
import { datasetJsonFromV1, v2DatasetJsonOf } from '../../activities/io/convert-v2';
import { v1ModelMarkerFile } from '../../activities/io/layout';
import { readV1ModelMarker, type V1ModelMarker } from '../../activities/io/move-to-v2';
import { v1CheckpointName } from '../../activities/inference/v1-in-v2';
import { loadV2Model } from '../../activities/network/v2/model-folder';

test('geometryOfCaseProperties: sitk_stuff as recorded, else the array-order spacing with origin 0 and identity', () => {
  const sitk = { spacing: [0.8, 0.9, 3], origin: [-10.5, 4.25, 30], direction: [0.94, -0.34, 0, 0.34, 0.94, 0, 0, 0, 1] };
  assert.deepEqual(geometryOfCaseProperties({ sitk_stuff: sitk, spacing: [3, 0.9, 0.8] }, 'p.json'), sitk);
  assert.deepEqual(geometryOfCaseProperties({ spacing: [999, 1, 1] }, 'p.json'), { spacing: [1, 1, 999], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] });
  assert.throws(() => geometryOfCaseProperties({}, 'p.json'), (e: Error) => e instanceof BadInputError && /p\.json: neither sitk_stuff nor a 3D spacing/.test(e.message));
  assert.throws(() => geometryOfCaseProperties({ sitk_stuff: { spacing: [1, 1], origin: [0, 0], direction: [1, 0, 0, 1] } }, 'p.json'), BadInputError);
});

test('convert_old keeps a dataset.json that is already v2\'s (and its file_ending); a v1 one is rewritten', () => {
  const v2 = { channel_names: { 0: 'gray' }, labels: { background: 0, organ: 1 }, numTraining: 5, file_ending: '.png', name: 'Demo2dPng' };
  assert.equal(v2DatasetJsonOf(v2), v2);
  const v1 = { modality: { 0: 'CT' }, labels: { 0: 'background', 1: 'organ' }, training: [], test: [], tensorImageSize: '3D', numTest: 0, numTraining: 0 };
  assert.deepEqual(v2DatasetJsonOf(v1), datasetJsonFromV1(v1));
  assert.equal(v2DatasetJsonOf(v1).file_ending, '.nii.gz');
});

test('a moved v1 model: v2 checkpoint names map onto v1\'s; the v2 loader refuses it naming why', () => {
  assert.equal(v1CheckpointName('checkpoint_final.pth', 'M'), 'model_final_checkpoint');
  assert.equal(v1CheckpointName('checkpoint_best.pth', 'M'), 'model_best');
  assert.equal(v1CheckpointName('checkpoint_latest.pth', 'M'), 'model_latest');
  assert.throws(() => v1CheckpointName('my.pth', 'M'), (e: Error) => e instanceof BadInputError && /nnU-Net v1 model; its checkpoints are model_final_checkpoint/.test(e.message));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v1-in-v2-'));
  try {
    assert.equal(readV1ModelMarker(dir), undefined);
    const marker: V1ModelMarker = {
      method: 'nnU-Net v1', network: 'Generic_UNet', task: 'Task004_Hippocampus', configuration: '2d', trainer: 'nnUNetTrainerV2', plans_identifier: 'nnUNetPlansv2.1', source: '/v1',
    };
    fs.writeFileSync(v1ModelMarkerFile(dir), JSON.stringify(marker));
    assert.deepEqual(readV1ModelMarker(dir), marker);
    assert.throws(() => loadV2Model(dir), (e: Error) => e instanceof BadInputError && /an nnU-Net v1 model \(Generic_UNet, nnUNetTrainerV2\).*nnunetv2 cannot load it either/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
