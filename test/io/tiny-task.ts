/** A tiny valid task folder (2 channels, labels 0..2, 4x5x6 voxels) for the dataset and verify tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeNiftiSync } from '../../activities/io/nifti';
import { obliqueGeometry, rampVolume } from './helpers';

export interface TinyTaskOptions { format: 'v1' | 'v2'; cases: number; test?: number }

export const TINY_SHAPE = [4, 5, 6];

export function tinyLabel(seed: number) {
  const v = rampVolume('uint8', TINY_SHAPE, obliqueGeometry());
  for (let i = 0; i < v.data.length; i++) v.data[i] = (i + seed) % 3;
  return v;
}

export function writeTinyTask(parent: string, opts: TinyTaskOptions): string {
  const dir = path.join(parent, opts.format === 'v1' ? 'Task901_Tiny' : 'Dataset901_Tiny');
  for (const sub of ['imagesTr', 'labelsTr', 'imagesTs']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const ids = Array.from({ length: opts.cases }, (_, i) => `case_${String(i).padStart(3, '0')}`);
  const testIds = Array.from({ length: opts.test ?? 0 }, (_, i) => `test_${String(i).padStart(3, '0')}`);
  for (const [i, id] of ids.entries()) {
    writeNiftiSync(path.join(dir, 'imagesTr', `${id}_0000.nii.gz`), rampVolume('int16', TINY_SHAPE, obliqueGeometry()));
    writeNiftiSync(path.join(dir, 'imagesTr', `${id}_0001.nii.gz`), rampVolume('float32', TINY_SHAPE, obliqueGeometry()));
    writeNiftiSync(path.join(dir, 'labelsTr', `${id}.nii.gz`), tinyLabel(i));
  }
  for (const id of testIds) {
    writeNiftiSync(path.join(dir, 'imagesTs', `${id}_0000.nii.gz`), rampVolume('int16', TINY_SHAPE, obliqueGeometry()));
    writeNiftiSync(path.join(dir, 'imagesTs', `${id}_0001.nii.gz`), rampVolume('float32', TINY_SHAPE, obliqueGeometry()));
  }
  const json = opts.format === 'v1'
    ? {
        name: 'Tiny', tensorImageSize: '4D', modality: { 0: 'CT', 1: 'MRI' }, labels: { 0: 'background', 1: 'a', 2: 'b' },
        numTraining: ids.length, numTest: testIds.length,
        training: ids.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
        test: testIds.map((id) => `./imagesTs/${id}.nii.gz`),
      }
    : { name: 'Tiny', channel_names: { 0: 'CT', 1: 'MRI' }, labels: { background: 0, a: 1, b: 2 }, numTraining: ids.length, file_ending: '.nii.gz' };
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(json, null, 1));
  return dir;
}
