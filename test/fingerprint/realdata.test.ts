/**
 * Fingerprint of 4 real MSD Hippocampus cases (../shared/realdata), checked against properties computed here
 * independently from the NIfTI voxels, and the pooled statistics against numpy when python3 + numpy exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import type { DatasetPropertiesJson } from '../../activities/fingerprint/dataset-properties';
import { readNiftiSync } from '../../activities/io/nifti';
import { arraySpacing } from '../../activities/io/geometry';
import { encodeNpy } from '../../activities/io/npy';
import { parseDatasetProperties } from '../../activities/planning/fingerprint';

const repoRoot = path.resolve(__dirname, '..', '..', ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []));
const hippo = path.join(path.resolve(repoRoot, '..', 'shared'), 'realdata', 'Task04_Hippocampus');
const CASES = ['hippocampus_001', 'hippocampus_003', 'hippocampus_004', 'hippocampus_006'];

/** A v1 task folder holding 4 real cases (files copied with the _0000 channel suffix: links out of the task folder are refused by default). */
function makeTask(root: string): string {
  const raw = path.join(root, 'nnUNet_raw_data', 'Task004_Hippocampus');
  fs.mkdirSync(path.join(raw, 'imagesTr'), { recursive: true });
  fs.mkdirSync(path.join(raw, 'labelsTr'), { recursive: true });
  for (const id of CASES) {
    fs.copyFileSync(path.join(hippo, 'imagesTr', `${id}.nii.gz`), path.join(raw, 'imagesTr', `${id}_0000.nii.gz`));
    fs.copyFileSync(path.join(hippo, 'labelsTr', `${id}.nii.gz`), path.join(raw, 'labelsTr', `${id}.nii.gz`));
  }
  fs.writeFileSync(path.join(raw, 'dataset.json'), JSON.stringify({
    name: 'Hippocampus', modality: { '0': 'MRI' }, labels: { '0': 'background', '1': 'Anterior', '2': 'Posterior' },
    numTraining: CASES.length, numTest: 0, test: [],
    training: CASES.map((id) => ({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` })),
  }));
  return raw;
}

/** Independent: bbox of nonzero voxels (hole filling never changes a bbox), label voxels in it, every 10th. */
function expected(id: string) {
  const img = readNiftiSync(path.join(hippo, 'imagesTr', `${id}.nii.gz`));
  const lab = readNiftiSync(path.join(hippo, 'labelsTr', `${id}.nii.gz`));
  const [nz, ny, nx] = img.shape;
  const lo = [nz, ny, nx];
  const hi = [-1, -1, -1];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    if (img.data[(z * ny + y) * nx + x] === 0) continue;
    [z, y, x].forEach((v, a) => { lo[a] = Math.min(lo[a], v); hi[a] = Math.max(hi[a], v); });
  }
  const samples: number[] = [];
  let rank = 0;
  for (let z = lo[0]; z <= hi[0]; z++) for (let y = lo[1]; y <= hi[1]; y++) for (let x = lo[2]; x <= hi[2]; x++) {
    const i = (z * ny + y) * nx + x;
    if (lab.data[i] > 0) { if (rank++ % 10 === 0) samples.push(Math.fround(img.data[i])); }
  }
  return { size: hi.map((h, a) => h - lo[a] + 1), raw: [nz, ny, nx], spacing: arraySpacing(img.geometry), samples };
}

function numpyStats(values: number[]): Record<string, number> | null {
  const file = path.join(os.tmpdir(), `nnunet-fp-samples-${process.pid}.npy`);
  fs.writeFileSync(file, encodeNpy({ data: Float32Array.from(values), shape: [values.length], dtype: 'float32' }));
  try {
    const py = `import json,sys,numpy as np\nv=np.load(sys.argv[1]).astype(np.float64)\nprint(json.dumps(dict(median=np.median(v),mean=np.mean(v),sd=np.std(v),mn=v.min(),mx=v.max(),percentile_99_5=np.percentile(v,99.5),percentile_00_5=np.percentile(v,0.5))))`;
    const r = spawnSync('python3', ['-c', py, file], { encoding: 'utf8', timeout: 30000 });
    return r.status === 0 ? JSON.parse(r.stdout) : null;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

test('fingerprint of 4 real Hippocampus cases matches an independent computation', { skip: !fs.existsSync(hippo) && `no ${hippo} (shared test data absent)` }, async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-fp-real-'));
  try {
    const rawDir = makeTask(root);
    const paths = {
      taskName: 'Task004_Hippocampus', rawDir, resultsDir: path.join(root, 'results'),
      croppedDir: path.join(root, 'nnUNet_cropped_data', 'Task004_Hippocampus'),
      preprocessedDir: path.join(root, 'nnUNet_preprocessed', 'Task004_Hippocampus'),
    };
    const r = await runFingerprint(paths, { numProcesses: 2 });
    const props = JSON.parse(fs.readFileSync(r.fingerprintFile, 'utf8')) as DatasetPropertiesJson;
    parseDatasetProperties(props, r.fingerprintFile);
    const exp = CASES.map(expected);
    assert.deepEqual(props.case_identifiers, CASES);
    assert.deepEqual(props.all_sizes, exp.map((e) => e.size));
    assert.deepEqual(props.all_spacings, exp.map((e) => e.spacing));
    assert.deepEqual(props.original_sizes, exp.map((e) => e.raw));
    CASES.forEach((id, k) => {
      const ratio = exp[k].size.reduce((a, b) => a * b) / exp[k].raw.reduce((a, b) => a * b);
      assert.ok(Math.abs(props.size_reductions[id] - ratio) < 1e-12);
      assert.deepEqual(props.class_presence[id], [1, 2]);
    });
    const pooled = exp.flatMap((e) => e.samples);
    const got = props.intensityproperties['0'];
    const sorted = [...pooled].sort((a, b) => a - b);
    assert.equal(got.mn, sorted[0]);
    assert.equal(got.mx, sorted[sorted.length - 1]);
    const np = numpyStats(pooled);
    if (!np) { t.diagnostic('python3 with numpy not available: numpy comparison skipped'); return; }
    for (const [k, v] of Object.entries(np)) {
      const mine = got[k as keyof typeof got] as number;
      assert.ok(Math.abs(mine - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${k}: ${mine} vs numpy ${v}`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
