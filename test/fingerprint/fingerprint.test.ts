import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { croppedJson, croppedNpy, readFloat32Npy } from '../../activities/fingerprint/cropped-store';
import type { DatasetPropertiesJson } from '../../activities/fingerprint/dataset-properties';
import { parseDatasetProperties } from '../../activities/planning/fingerprint';
import { FIXTURE_BOXES, FIXTURE_SHAPE, FIXTURE_SPACINGS, idx3, writeFixtureTask, type FixtureCase } from './task-fixture';

/** Every 10th label voxel (C order inside the box) of channel c, computed straight from the raw arrays. */
function expectedSamples(cases: FixtureCase[], c: number): number[] {
  const out: number[] = [];
  cases.forEach((k, ci) => {
    const box = FIXTURE_BOXES[ci];
    let rank = 0;
    for (let z = box[0][0]; z < box[0][1]; z++) for (let y = box[1][0]; y < box[1][1]; y++) for (let x = box[2][0]; x < box[2][1]; x++) {
      const i = idx3(FIXTURE_SHAPE, z, y, x);
      if (k.label[i] > 0) { if (rank % 10 === 0) out.push(k.channels[c][i]); rank++; }
    }
  });
  return out;
}

/** Textbook statistics (numpy's linear percentile: value at (n-1)q/100 interpolated). */
function stats(v: number[]) {
  const s = [...v].sort((a, b) => a - b);
  const pct = (q: number) => { const h = (s.length - 1) * q / 100; const lo = Math.floor(h); return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)]) - s[lo]); };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, sd, mn: s[0], mx: s[s.length - 1], median: pct(50), percentile_99_5: pct(99.5), percentile_00_5: pct(0.5) };
}

const close = (a: number | null, b: number, what: string) =>
  assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('fingerprint of a crafted task: nnU-Net fields, cropped files, intensity statistics', async () => {
  const fx = writeFixtureTask();
  try {
    const r = await runFingerprint(fx.paths, { numProcesses: 1 });
    assert.equal(r.computed, true);
    assert.equal(r.numCases, 3);
    const props = JSON.parse(fs.readFileSync(r.fingerprintFile, 'utf8')) as DatasetPropertiesJson;
    parseDatasetProperties(props, r.fingerprintFile); // the planner accepts it
    assert.deepEqual(props.case_identifiers, ['case_0', 'case_1', 'case_2']);
    assert.deepEqual(props.all_sizes, FIXTURE_BOXES.map((b) => b.map(([a, e]) => e - a)));
    props.all_spacings.forEach((s, k) => s.forEach((v, a) => assert.ok(Math.abs(v - FIXTURE_SPACINGS[k][a]) < 1e-6)));
    assert.deepEqual(props.all_classes, [1, 2]);
    assert.deepEqual(props.modalities, { '0': 'CT', '1': 'T2' });
    const raw = FIXTURE_SHAPE[0] * FIXTURE_SHAPE[1] * FIXTURE_SHAPE[2];
    FIXTURE_BOXES.forEach((b, k) => {
      const kept = b.reduce((a, [s, e]) => a * (e - s), 1);
      close(props.size_reductions[`case_${k}`], kept / raw, 'size reduction');
      assert.deepEqual(props.class_presence[`case_${k}`], [1, 2]);
    });
    for (const c of [0, 1]) {
      const want = stats(expectedSamples(fx.cases, c));
      const got = props.intensityproperties[String(c)];
      for (const key of Object.keys(want) as Array<keyof typeof want>) close(got[key], want[key], `channel ${c} ${key}`);
      assert.equal(Object.keys(got.local_props).length, 3);
    }
    // Cropped case: (C+1, z, y, x) float32, seg last, nnU-Net's properties.
    const { data, shape } = readFloat32Npy(croppedNpy(fx.paths.croppedDir, 'case_1'));
    assert.deepEqual(shape, [3, 6, 5, 7]);
    const cp = JSON.parse(fs.readFileSync(croppedJson(fx.paths.croppedDir, 'case_1'), 'utf8'));
    assert.deepEqual(cp.crop_bbox, FIXTURE_BOXES[1]);
    assert.deepEqual(cp.original_size_of_raw_data, [...FIXTURE_SHAPE]);
    assert.deepEqual(cp.classes, [0, 1, 2]);
    assert.equal(data[0], fx.cases[1].channels[0][idx3(FIXTURE_SHAPE, 0, 2, 1)]);
    assert.ok(fs.existsSync(path.join(fx.paths.croppedDir, 'gt_segmentations', 'case_1.nii.gz')));
    assert.ok(fs.existsSync(path.join(fx.paths.preprocessedDir, 'dataset.json')));
  } finally {
    fs.rmSync(fx.root, { recursive: true, force: true });
  }
});

test('fingerprint is idempotent and worker threads give the same result', async () => {
  const fx = writeFixtureTask();
  try {
    const first = await runFingerprint(fx.paths, { numProcesses: 1 });
    const before = fs.readFileSync(first.fingerprintFile, 'utf8');
    const npyTime = fs.statSync(croppedNpy(fx.paths.croppedDir, 'case_0')).mtimeMs;
    const again = await runFingerprint(fx.paths, { numProcesses: 1 });
    assert.equal(again.computed, false, 'same inputs: nothing recomputed');

    // Without the fingerprint file it is rebuilt from the stored cropped cases, in 2 worker threads.
    fs.rmSync(first.fingerprintFile);
    const threaded = await runFingerprint(fx.paths, { numProcesses: 2 });
    assert.equal(threaded.computed, true);
    assert.equal(fs.readFileSync(threaded.fingerprintFile, 'utf8'), before);
    assert.equal(fs.statSync(croppedNpy(fx.paths.croppedDir, 'case_0')).mtimeMs, npyTime, 'cropped case reused');

    // A changed input file invalidates the fingerprint.
    const label = path.join(fx.paths.rawDir, 'labelsTr', 'case_0.nii.gz');
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(label, t, t);
    assert.equal((await runFingerprint(fx.paths, { numProcesses: 2 })).computed, true);
  } finally {
    fs.rmSync(fx.root, { recursive: true, force: true });
  }
});

test('a case with mismatched channel shapes is refused naming the file', async () => {
  const fx = writeFixtureTask();
  try {
    const { writeNiftiSync } = await import('../../activities/io/nifti');
    const { geometryFromArraySpacing } = await import('../../activities/io/geometry');
    const bad = path.join(fx.paths.rawDir, 'imagesTr', 'case_2_0001.nii.gz');
    writeNiftiSync(bad, { data: new Float32Array(8), shape: [2, 2, 2], dtype: 'float32', geometry: geometryFromArraySpacing([1, 1, 1]) });
    await assert.rejects(runFingerprint(fx.paths, { numProcesses: 2 }), (e: Error) => e.name === 'BadInput' && e.message.includes('case_2_0001'));
  } finally {
    fs.rmSync(fx.root, { recursive: true, force: true });
  }
});
