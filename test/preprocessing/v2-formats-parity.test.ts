/**
 * nnU-Net v2's fingerprint and DefaultPreprocessor on datasets that are not NIfTI, against nnunetv2 2.8.1 reading
 * them with its own reader/writers (fixtures and the tiny raw datasets from scripts/parity/v2_formats.py):
 * grayscale PNG and RGB PNG (NaturalImage2DIO: spacing (999, 1, 1), no sitk_stuff; an RGB picture is three
 * channels), .mha (SimpleITKIO: anisotropic spacing, origin, oblique direction) and 3D .tif (Tiff3DIO: spacing
 * from the sidecar json, no sitk_stuff). The fingerprint (10^5 samples)
 * must be identical, every planned configuration's run_case identical as in v2-parity.test.ts, and sitk_stuff
 * present exactly where nnunetv2 records it, with its values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFingerprintV2 } from '../../activities/fingerprint/v2/fingerprint';
import { locationClassesV2 } from '../../activities/preprocessing/v2/labels';
import { resolveConfigurationV2, type PlansJsonV2 } from '../../activities/preprocessing/v2/plans';
import { runCaseV2 } from '../../activities/preprocessing/v2/run-case';
import { readDataset } from '../../activities/io/dataset';
import { assertCase, type CaseRecord } from './v2-case-record';

const repoRoot = path.resolve(__dirname, '..', '..', ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []));
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'v2-formats');
const DATASETS = ['Dataset961_Png', 'Dataset962_Rgb', 'Dataset963_Mha', 'Dataset964_Tif'];

type Sitk = { spacing: number[]; origin: number[]; direction: number[] };
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

for (const name of DATASETS) {
  const dir = path.join(fixtures, name);

  test(`${name}: v2 fingerprint equals nnunetv2's (10^5 foreground samples)`, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-v2formats-'));
    try {
      const got = await runFingerprintV2(dir, path.join(out, 'fp.json'), { numProcesses: 1, foregroundVoxelsForStats: 1e5 });
      const want = readJson<typeof got>(path.join(dir, 'fingerprint-1e5.json'));
      assert.deepEqual(got.spacings, want.spacings);
      assert.deepEqual(got.shapes_after_crop, want.shapes_after_crop);
      assert.equal(got.median_relative_size_after_cropping, want.median_relative_size_after_cropping);
      assert.deepEqual(got.foreground_intensity_properties_per_channel, want.foreground_intensity_properties_per_channel);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test(`${name}: v2 run_case equals nnunetv2's on every planned configuration`, async () => {
    const plans = readJson<PlansJsonV2>(path.join(dir, 'plans.json'));
    const records = readJson<Record<string, Record<string, CaseRecord & { sitk_stuff?: Sitk }>>>(path.join(dir, 'cases.json'));
    const d = readDataset(dir);
    const classes = locationClassesV2(readJson<{ labels: Record<string, number> }>(path.join(dir, 'dataset.json')).labels, name);
    let checked = 0;
    for (const [configuration, cases] of Object.entries(records)) {
      const cfg = resolveConfigurationV2(plans, configuration, `${name}/plans.json`);
      for (const [id, want] of Object.entries(cases)) {
        const c = d.training.find((t) => t.id === id)!;
        const got = await runCaseV2(c.images, c.label!, cfg, classes, d.readerWriter);
        assertCase(`${name} ${configuration} ${id}`, got, want);
        assert.deepEqual(got.properties.sitk_stuff, want.sitk_stuff, `${name} ${id}: sitk_stuff as nnunetv2 records it`);
        checked++;
      }
    }
    assert.ok(checked >= 3, `only ${checked} cases checked`);
  });
}
