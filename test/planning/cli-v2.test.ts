/** `nnunet plan --fingerprint … --dataset-json … --planner CLASS --json` prints nnU-Net v2's plans.json (skips without dist/). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../config';
import { readVector } from '../helpers/vectors';

const cli = path.join(repoRoot(), 'dist', 'client', 'cli.js');
const skip = fs.existsSync(cli) ? undefined : `${cli} not built (run npm run build): skipping CLI test`;

type Vector = { dataset_name: string; dataset_json: unknown; fingerprint: unknown } & Record<string, unknown>;

const run = (args: string[]) => spawnSync(process.execPath, [cli, 'plan', ...args], { encoding: 'utf8' });

test('nnunet plan with a v2 fingerprint and dataset.json prints the plans.json nnU-Net v2 wrote; bad input exits non-zero', { skip }, () => {
  const v = readVector<{ vectors: Vector[] }>('planner_nnunet_v2.json').vectors[9]!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-plan-v2-'));
  try {
    const datasetDir = path.join(dir, v.dataset_name);
    fs.mkdirSync(datasetDir);
    const fp = path.join(datasetDir, 'dataset_fingerprint.json');
    const ds = path.join(datasetDir, 'dataset.json');
    fs.writeFileSync(fp, JSON.stringify(v.fingerprint));
    fs.writeFileSync(ds, JSON.stringify(v.dataset_json));
    for (const [planner, plansName] of [['nnUNetPlannerResEncM', 'nnUNetResEncUNetMPlans'], ['ExperimentPlanner', 'nnUNetPlans']] as const) {
      const r = run(['--fingerprint', fp, '--dataset-json', ds, '--planner', planner, '--json']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), v[plansName]);
    }
    const renamed = JSON.parse(run(['--fingerprint', fp, '--dataset-json', ds, '--plans-name', 'MyPlans', '--overwrite-target-spacing', '3,1,1', '--json']).stdout);
    assert.equal(renamed.plans_name, 'MyPlans');
    assert.deepEqual(renamed.configurations['3d_fullres'].spacing, [3, 1, 1]);
    assert.equal(renamed.configurations['3d_fullres'].data_identifier, 'MyPlans_3d_fullres');
    const wrongFile = run(['--fingerprint', ds, '--dataset-json', ds]);
    assert.notEqual(wrongFile.status, 0);
    assert.match(wrongFile.stderr, /dataset_fingerprint\.json needs "spacings"/);
    const noDatasetJson = run(['--fingerprint', fp, '--planner', 'nnUNetPlannerResEncL']);
    assert.equal(noDatasetJson.status, 2);
    assert.match(noDatasetJson.stderr, /needs --dataset-json/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
