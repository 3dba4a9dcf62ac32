/**
 * `nnunet preprocess --method v2` through the compiled CLI on the real SCT cases with nnunetv2's own plans
 * (the fixture), and `--method` refusing an unknown method. The fingerprint's CLI path (10^8 replayed draws,
 * ~20 s here) runs with NNUNET_SLOW_PARITY=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ROOT, runCli } from '../client/cli-helpers';

const realdata = path.join(ROOT, '..', 'shared', 'realdata', 'SCT_errsm30');
const fixtures = path.join(ROOT, 'test', 'fixtures', 'v2-preprocess', 'Dataset901_SCT');
const skip = (!fs.existsSync(CLI) && `${CLI} not built`) || (!fs.existsSync(realdata) && `no ${realdata} (shared test data absent)`) || undefined;

function makeDataset(root: string): string {
  const dir = path.join(root, 'Dataset901_SCT');
  for (const sub of ['imagesTr', 'labelsTr']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.copyFileSync(path.join(fixtures, 'dataset.json'), path.join(dir, 'dataset.json'));
  for (const f of fs.readdirSync(path.join(realdata, 'imagesTr'))) {
    fs.copyFileSync(path.join(realdata, 'imagesTr', f), path.join(dir, 'imagesTr', f.replace(/\.nii\.gz$/, '_0000.nii.gz')));
    fs.copyFileSync(path.join(realdata, 'labelsTr', f), path.join(dir, 'labelsTr', f));
  }
  return dir;
}

test('nnunet preprocess --method v2 writes each planned configuration; --method v3 exits 2', { skip }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-cli-v2-'));
  try {
    const dataset = makeDataset(root);
    const env = { nnUNet_preprocessed: path.join(root, 'preprocessed'), nnUNet_raw_data_base: path.join(root, 'raw'), RESULTS_FOLDER: path.join(root, 'results') };
    const missing = runCli(['preprocess', '-t', dataset, '--method', 'v2'], { env });
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /nnUNetPlans\.json: no such plans file/);
    const r = runCli(['preprocess', '-t', dataset, '--method', 'v2', '--plans-file', path.join(fixtures, 'plans.json'), '-p', '2', '--json'], { env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Array<{ configuration: string; dataFolder: string; numCases: number }>;
    assert.deepEqual(out.map((o) => o.configuration), ['2d', '3d_fullres']);
    for (const o of out) assert.equal(fs.readdirSync(o.dataFolder).filter((f) => f.endsWith('.npz')).length, 4);
    assert.equal(runCli(['preprocess', '-t', dataset, '--method', 'v3'], { env }).status, 2);
    if (process.env.NNUNET_SLOW_PARITY === '1') {
      const fp = runCli(['fingerprint', '-t', dataset, '--method', 'v2', '--json'], { env, timeoutMs: 300_000 });
      assert.equal(fp.status, 0, fp.stderr);
      const want = JSON.parse(fs.readFileSync(path.join(fixtures, 'fingerprint.json'), 'utf8')) as Record<string, unknown>;
      const got = JSON.parse(fs.readFileSync(JSON.parse(fp.stdout).fingerprintFile, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(got.foreground_intensity_properties_per_channel, want.foreground_intensity_properties_per_channel);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
