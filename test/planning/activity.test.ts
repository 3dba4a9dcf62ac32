/** The `plan` activity: plans files in nnU-Net's structure, atomic and idempotent, configurations incl. the cascade. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { plan } from '../../activities/planning/activity';
import { readPlansFile } from '../../activities/planning/plans-file';
import { stages } from '../../activities/planning/plans';
import { formatSummary, summarizePlans } from '../../activities/planning/summary';
import { BadInputError } from '../../activities/common/errors';

function liverLikeFingerprint(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `liver_${String(i).padStart(3, '0')}`);
  return {
    all_spacings: ids.map(() => [1, 0.7676, 0.7676]),
    all_sizes: ids.map(() => [482, 512, 512]),
    modalities: { '0': 'CT' },
    all_classes: [1, 2],
    size_reductions: Object.fromEntries(ids.map((id) => [id, 0.9])),
    intensityproperties: null,
  };
}

function taskDir(): { dir: string; paths: { taskName: string; rawDir: string; croppedDir: string; preprocessedDir: string; resultsDir: string } } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-plan-'));
  const pp = path.join(dir, 'pp', 'Task003_Liver');
  fs.mkdirSync(pp, { recursive: true });
  return { dir, paths: { taskName: 'Task003_Liver', rawDir: '', croppedDir: path.join(dir, 'cropped'), preprocessedDir: pp, resultsDir: '' } };
}

test('plan writes nnUNetPlansv2.1_plans_3D.json / _2D.json with the cascade, and a re-run leaves them untouched', async () => {
  const { dir, paths } = taskDir();
  try {
    const fp = path.join(paths.preprocessedDir, 'dataset_properties.json');
    fs.writeFileSync(fp, JSON.stringify(liverLikeFingerprint(131)));
    const out = await plan({ paths, fingerprintFile: fp });
    assert.equal(out.plansIdentifier, 'nnUNetPlansv2.1');
    assert.deepEqual(out.configurations, ['3d_fullres', '3d_lowres', '3d_cascade_fullres', '2d']);
    assert.equal(out.plansFiles['3d'], path.join(paths.preprocessedDir, 'nnUNetPlansv2.1_plans_3D.json'));
    const p3 = readPlansFile(out.plansFiles['3d']!);
    assert.equal(p3.num_stages, 2);
    assert.deepEqual(stages(p3)[1]!.patch_size, [128, 128, 128]);
    assert.deepEqual(stages(p3)[0]!.median_patient_size_in_voxels, [195, 207, 207]); // #856's lowres median
    assert.equal(p3.data_identifier, 'nnUNetData_plans_v2.1');
    assert.equal(p3.preprocessor_name, 'GenericPreprocessor');
    assert.equal(p3.list_of_npz_files[0], path.join(paths.croppedDir, 'liver_000.npz'));
    const p2 = readPlansFile(out.plansFiles['2d']!);
    assert.equal(p2.data_identifier, 'nnUNetData_plans_v2.1_2D');
    assert.equal(p2.unet_max_num_features, 480);
    const before = fs.statSync(out.plansFiles['3d']!).mtimeMs;
    const again = await plan({ paths, fingerprintFile: fp });
    assert.deepEqual(again, out);
    assert.equal(fs.statSync(out.plansFiles['3d']!).mtimeMs, before);
    assert.deepEqual(fs.readdirSync(paths.preprocessedDir).filter((f) => f.startsWith('.tmp-')), []);
    const text = formatSummary(summarizePlans(p3), true);
    assert.match(text, /3d_lowres/);
    assert.match(text, /patch size {7}128 x 128 x 128/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('plan with an 11 GB target and a missing fingerprint', async () => {
  const { dir, paths } = taskDir();
  try {
    const fp = path.join(paths.preprocessedDir, 'dataset_properties.json');
    fs.writeFileSync(fp, JSON.stringify(liverLikeFingerprint(20)));
    const out = await plan({ paths, fingerprintFile: fp, gpuMemoryTargetGb: 11 });
    assert.equal(out.plansIdentifier, 'nnUNetPlansv2.1_big');
    assert.deepEqual(out.plansIdentifiers, { '3d': 'nnUNetPlansv2.1_big', '2d': 'nnUNetPlansv2.1' }, 'the 2D planner keeps its own identifier');
    assert.ok(fs.existsSync(path.join(paths.preprocessedDir, 'nnUNetPlansv2.1_big_plans_3D.json')));
    await assert.rejects(plan({ paths, fingerprintFile: path.join(dir, 'nope.json') }), BadInputError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
