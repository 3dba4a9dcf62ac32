/** `nnunet fingerprint / plan / preprocess -t` end to end through the compiled CLI (skips when dist/ is not built). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFixtureTask } from '../fingerprint/task-fixture';

const repoRoot = path.resolve(__dirname, '..', '..', ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []));
const cli = path.join(repoRoot, 'dist', 'client', 'cli.js');
const skip = fs.existsSync(cli) ? undefined : `${cli} not built (run npm run build): skipping CLI test`;

test('nnunet fingerprint, plan, preprocess -t on a crafted task; a missing task exits 2', { skip }, () => {
  const fx = writeFixtureTask();
  try {
    const env = {
      ...process.env,
      nnUNet_raw_data_base: fx.root,
      nnUNet_preprocessed: path.join(fx.root, 'nnUNet_preprocessed'),
      RESULTS_FOLDER: path.join(fx.root, 'results'),
    };
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
    const fp = run('fingerprint', '-t', '901', '-p', '2', '--json');
    assert.equal(fp.status, 0, fp.stderr);
    assert.equal(JSON.parse(fp.stdout).numCases, 3);
    assert.equal(run('plan', '-t', '901').status, 0);
    const pp = run('preprocess', '-t', '901', '--json');
    assert.equal(pp.status, 0, pp.stderr);
    const out = JSON.parse(pp.stdout) as Array<{ configuration: string; dataDir: string; numCases: number }>;
    assert.deepEqual(out.map((o) => o.configuration), ['2d', '3d_fullres']);
    for (const o of out) assert.equal(fs.readdirSync(o.dataDir).filter((f) => f.endsWith('.npy')).length, 3);
    assert.match(run('fingerprint', '-t', '901').stdout, /up to date/);
    const missing = run('preprocess', '-t', '977');
    assert.equal(missing.status, 2);
  } finally {
    fs.rmSync(fx.root, { recursive: true, force: true });
  }
});
