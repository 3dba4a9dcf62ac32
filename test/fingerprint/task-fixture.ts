/**
 * A tiny crafted nnU-Net v1 task on disk: 3 cases, 2 channels, labels 0/1/2, zero borders to crop.
 * Shared by the fingerprint and preprocessing tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeNiftiSync } from '../../activities/io/nifti';
import { geometryFromArraySpacing, type Vec3 } from '../../activities/io/geometry';
import type { TaskPaths } from '../../activities/contract';

export const FIXTURE_SHAPE = [6, 7, 8] as const;
/** Array-order spacings per case. */
export const FIXTURE_SPACINGS: Vec3[] = [[3, 1, 0.8], [3.2, 0.9, 0.8], [2.8, 1.1, 0.9]];
/** Nonzero box per case: [z0, z1), [y0, y1), [x0, x1). */
export const FIXTURE_BOXES = [
  [[1, 5], [1, 6], [2, 7]],
  [[0, 6], [2, 7], [1, 8]],
  [[1, 6], [0, 5], [0, 6]],
] as const;

export const idx3 = (shape: readonly number[], z: number, y: number, x: number) => (z * shape[1] + y) * shape[2] + x;

export interface FixtureCase { id: string; channels: Float32Array[]; label: Uint8Array }

/** Deterministic voxel values inside the box (never 0), labels in a sub-box, one label outside the mask. */
export function fixtureCases(): FixtureCase[] {
  const s = FIXTURE_SHAPE;
  const n = s[0] * s[1] * s[2];
  return FIXTURE_BOXES.map((box, k) => {
    const ch0 = new Float32Array(n);
    const ch1 = new Float32Array(n);
    const label = new Uint8Array(n);
    for (let z = box[0][0]; z < box[0][1]; z++) for (let y = box[1][0]; y < box[1][1]; y++) for (let x = box[2][0]; x < box[2][1]; x++) {
      const i = idx3(s, z, y, x);
      ch0[i] = 100 + 7 * z - 3 * y + 11 * x + 13 * k + ((i * 37) % 17);
      if ((z + y + x) % 4 !== 0) ch1[i] = -50 + ((i * 29) % 23) + k; // channel 1 has its own zeros; ch0 covers the box
      if (z > box[0][0] && y > box[1][0] && x > box[2][0] + 1) label[i] = (x + k) % 3 === 0 ? 2 : 1;
    }
    return { id: `case_${k}`, channels: [ch0, ch1], label };
  });
}

export interface Fixture { paths: TaskPaths; root: string; cases: FixtureCase[] }

export function writeFixtureTask(
  modalities: Record<string, string> = { '0': 'CT', '1': 'T2' }, spacings: Vec3[] = FIXTURE_SPACINGS,
): Fixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-fp-'));
  const rawDir = path.join(root, 'nnUNet_raw_data', 'Task901_Tiny');
  fs.mkdirSync(path.join(rawDir, 'imagesTr'), { recursive: true });
  fs.mkdirSync(path.join(rawDir, 'labelsTr'), { recursive: true });
  const cases = fixtureCases();
  const shape = [...FIXTURE_SHAPE];
  cases.forEach((c, k) => {
    const geometry = geometryFromArraySpacing(spacings[k], [1, 2, 3]);
    c.channels.forEach((data, ch) => writeNiftiSync(path.join(rawDir, 'imagesTr', `${c.id}_${String(ch).padStart(4, '0')}.nii.gz`), { data, shape, dtype: 'float32', geometry }));
    writeNiftiSync(path.join(rawDir, 'labelsTr', `${c.id}.nii.gz`), { data: c.label, shape, dtype: 'uint8', geometry });
  });
  fs.writeFileSync(path.join(rawDir, 'dataset.json'), JSON.stringify({
    name: 'Tiny', modality: modalities, labels: { '0': 'background', '1': 'a', '2': 'b' },
    numTraining: cases.length, numTest: 0, test: [],
    training: [...cases].reverse().map((c) => ({ image: `./imagesTr/${c.id}.nii.gz`, label: `./labelsTr/${c.id}.nii.gz` })),
  }));
  return {
    root,
    cases,
    paths: {
      taskName: 'Task901_Tiny',
      rawDir,
      croppedDir: path.join(root, 'nnUNet_cropped_data', 'Task901_Tiny'),
      preprocessedDir: path.join(root, 'nnUNet_preprocessed', 'Task901_Tiny'),
      resultsDir: path.join(root, 'results', 'nnUNet'),
    },
  };
}
