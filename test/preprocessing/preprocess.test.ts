import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runFingerprint } from '../../activities/fingerprint/fingerprint';
import { plan } from '../../activities/planning/activity';
import { readPlansFile } from '../../activities/planning/plans-file';
import { stages } from '../../activities/planning/plans';
import { runPreprocess } from '../../activities/preprocessing/preprocess';
import { loadPreprocessedCase, preprocessedNpy } from '../../activities/preprocessing/preprocess-case';
import { preprocessTestCase } from '../../activities/preprocessing/test-case';
import { roundHalfEven } from '../../activities/common/numeric';
import { writeFixtureTask } from '../fingerprint/task-fixture';

function meanStd(v: number[]) {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { m, s: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) };
}

test('fingerprint -> plan -> preprocess 3d_fullres and 2d on a crafted task', async () => {
  const fx = writeFixtureTask();
  try {
    const fp = await runFingerprint(fx.paths, { numProcesses: 1 });
    const planned = await plan({ paths: fx.paths, fingerprintFile: fp.fingerprintFile });
    const plansFile = planned.plansFiles['3d']!;
    const plans = readPlansFile(plansFile);
    const stage = stages(plans).at(-1)!;
    const perm = plans.transpose_forward;

    const r = await runPreprocess(fx.paths, plansFile, '3d_fullres', { numProcesses: 1 });
    assert.equal(path.basename(r.dataDir), `nnUNetData_plans_v2.1_stage${stages(plans).length - 1}`);
    assert.equal(r.numCases, 3);
    assert.equal(r.computedCases, 3);
    const ct = plans.dataset_properties.intensityproperties!['0']!;
    const [lo, hi] = [(ct.percentile_00_5! - ct.mean!) / ct.sd!, (ct.percentile_99_5! - ct.mean!) / ct.sd!];

    for (const id of ['case_0', 'case_1', 'case_2']) {
      const { data, shape, properties: p } = loadPreprocessedCase(r.dataDir, id);
      const cropT = perm.map((a) => p.size_after_cropping[a]);
      const spT = perm.map((a) => p.original_spacing[a]);
      const want = cropT.map((s, a) => roundHalfEven((spT[a] / stage.current_spacing[a]) * s));
      assert.deepEqual(shape, [3, ...want], `${id} shape`);
      assert.deepEqual(p.size_after_resampling, want);
      assert.deepEqual(p.spacing_after_resampling, stage.current_spacing);
      const n = want[0] * want[1] * want[2];
      const seg = data.subarray(2 * n);
      for (let i = 0; i < n; i++) {
        assert.ok(data[i] >= lo - 1e-5 && data[i] <= hi + 1e-5, `CT channel clipped (${data[i]})`);
        assert.ok([-1, 0, 1, 2].includes(seg[i]), `seg value ${seg[i]}`);
      }
      // T2 (nonCT): z-scored over seg >= 0 when the plan uses the mask, else over everything.
      const inside: number[] = [];
      for (let i = 0; i < n; i++) if (!plans.use_mask_for_norm['1'] || seg[i] >= 0) inside.push(data[n + i]);
      const { m, s } = meanStd(inside);
      assert.ok(Math.abs(m) < 1e-5 && Math.abs(s - 1) < 1e-4, `T2 z-score mean ${m} sd ${s}`);
      // Class locations: in bounds, on their class, all of them for these small classes.
      for (const c of plans.all_classes) {
        const locs = p.class_locations[String(c)];
        let count = 0;
        for (let i = 0; i < n; i++) if (seg[i] === c) count++;
        assert.equal(locs.length, count);
        for (const [z, y, x] of locs) {
          assert.ok(z < want[0] && y < want[1] && x < want[2]);
          assert.equal(seg[(z * want[1] + y) * want[2] + x], c);
        }
      }
    }

    // A test case preprocessed from its files (no label) gets the same image channels as the training case.
    const t = await preprocessTestCase(fx.cases[1].channels.map((_, c) => path.join(fx.paths.rawDir, 'imagesTr', `case_1_000${c}.nii.gz`)), plans, '3d_fullres', plansFile);
    const train = loadPreprocessedCase(r.dataDir, 'case_1');
    assert.deepEqual([t.numChannels + 1, ...t.shape], train.shape);
    const nImg = 2 * t.shape[0] * t.shape[1] * t.shape[2];
    assert.ok(Buffer.from(t.data.buffer, 0, nImg * 4).equals(Buffer.from(train.data.buffer, 0, nImg * 4)));
    assert.deepEqual(t.properties.crop_bbox, train.properties.crop_bbox);
    assert.ok(t.data.subarray(nImg).every((v) => v === 0 || v === -1), 'synthesised seg: 0 inside, -1 outside');

    // Idempotent: nothing recomputed; a deleted case is rebuilt identically in worker threads.
    const bytes = fs.readFileSync(preprocessedNpy(r.dataDir, 'case_1'));
    assert.equal((await runPreprocess(fx.paths, plansFile, '3d_fullres', { numProcesses: 1 })).computedCases, 0);
    fs.rmSync(preprocessedNpy(r.dataDir, 'case_1'));
    const again = await runPreprocess(fx.paths, plansFile, '3d_fullres', { numProcesses: 2 });
    assert.equal(again.computedCases, 1);
    assert.ok(fs.readFileSync(preprocessedNpy(r.dataDir, 'case_1')).equals(bytes));
    assert.ok(fs.existsSync(path.join(fx.paths.preprocessedDir, 'gt_segmentations', 'case_1.nii.gz')));

    // 2D: own folder, never resampled across the first (transposed) axis.
    const plans2d = planned.plansFiles['2d']!;
    const r2 = await runPreprocess(fx.paths, plans2d, '2d', { numProcesses: 1 });
    assert.equal(path.basename(r2.dataDir), 'nnUNetData_plans_v2.1_2D_stage0');
    const p2 = loadPreprocessedCase(r2.dataDir, 'case_2').properties;
    const perm2 = readPlansFile(plans2d).transpose_forward;
    assert.equal(p2.spacing_after_resampling[0], p2.original_spacing[perm2[0]]);
    assert.equal(p2.size_after_resampling[0], p2.size_after_cropping[perm2[0]]);

    // Wrong pairings are refused with a message.
    await assert.rejects(runPreprocess(fx.paths, plans2d, '3d_fullres', { numProcesses: 1 }), (e: Error) => e.name === 'BadInput');
    if (stages(plans).length === 1) {
      await assert.rejects(runPreprocess(fx.paths, plansFile, '3d_lowres', { numProcesses: 1 }), /no lowres stage/);
    }
  } finally {
    fs.rmSync(fx.root, { recursive: true, force: true });
  }
});

test('the largest-spacing axis goes first: preprocessed arrays are the transposed, normalized cropped arrays', async () => {
  const fx = writeFixtureTask({ '0': 'noNorm', '1': 'MRI' }, [[1, 1, 3], [1, 1, 3], [1, 1, 3]]);
  try {
    const fp = await runFingerprint(fx.paths, { numProcesses: 1 });
    const planned = await plan({ paths: fx.paths, fingerprintFile: fp.fingerprintFile, planner: 'ExperimentPlanner3D_v21' });
    const plansFile = planned.plansFiles['3d']!;
    assert.deepEqual(readPlansFile(plansFile).transpose_forward, [2, 0, 1]);
    const r = await runPreprocess(fx.paths, plansFile, '3d_fullres', { numProcesses: 1 });
    const { data, shape, properties: p } = loadPreprocessedCase(r.dataDir, 'case_0');
    const [cz, cy, cx] = p.size_after_cropping;
    assert.deepEqual(shape, [3, cx, cz, cy]);
    const box = [[1, 5], [1, 6], [2, 7]]; // case_0's crop box
    const n = cx * cz * cy;
    for (let z = 0; z < cz; z++) for (let y = 0; y < cy; y++) for (let x = 0; x < cx; x++) {
      const raw = (((z + box[0][0]) * 7) + (y + box[1][0])) * 8 + (x + box[2][0]);
      const o = (x * cz + z) * cy + y;
      assert.equal(data[o], fx.cases[0].channels[0][raw], 'noNorm channel: the transposed raw value');
      assert.equal(data[2 * n + o], fx.cases[0].label[raw], 'seg transposed alike');
    }
  } finally {
    fs.rmSync(fx.root, { recursive: true, force: true });
  }
});

test('the fingerprint and preprocess activities run outside Temporal and return the contract outputs', async () => {
  const fx = writeFixtureTask();
  try {
    const { fingerprint } = await import('../../activities/fingerprint/activity');
    const { preprocess } = await import('../../activities/preprocessing/activity');
    const fp = await fingerprint({ paths: fx.paths, numProcesses: 1 });
    assert.deepEqual(fp, { fingerprintFile: path.join(fx.paths.preprocessedDir, 'dataset_properties.json'), numCases: 3 });
    const planned = await plan({ paths: fx.paths, fingerprintFile: fp.fingerprintFile });
    const out = await preprocess({ paths: fx.paths, plansFile: planned.plansFiles['3d']!, configuration: '3d_fullres', numProcesses: 1 });
    assert.deepEqual(out, { dataDir: path.join(fx.paths.preprocessedDir, 'nnUNetData_plans_v2.1_stage0'), numCases: 3 });
  } finally {
    fs.rmSync(fx.root, { recursive: true, force: true });
  }
});
