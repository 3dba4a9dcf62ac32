/** `nnunet plan --fingerprint` end to end through the compiled CLI (skips when dist/ has not been built). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../config';

const cli = path.join(repoRoot(), 'dist', 'client', 'cli.js');
const skip = fs.existsSync(cli) ? undefined : `${cli} not built (run npm run build): skipping CLI test`;

test('nnunet plan --fingerprint prints Hippocampus-like plans; bad input exits 2', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-plan-cli-'));
  try {
    const n = 260;
    const fp = path.join(dir, 'fp.json');
    fs.writeFileSync(fp, JSON.stringify({
      all_spacings: Array.from({ length: n }, () => [1, 1, 1]),
      all_sizes: Array.from({ length: n }, () => [36, 50, 35]),
      modalities: { '0': 'MRI' }, all_classes: [1, 2],
      size_reductions: Object.fromEntries(Array.from({ length: n }, (_, i) => [`hippocampus_${i}`, 1])),
    }));
    const r = spawnSync(process.execPath, [cli, 'plan', '--fingerprint', fp, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { configurations: string[]; cascade: boolean; plans: Array<{ configuration: string; patch_size: number[]; batch_size: number }> };
    assert.deepEqual(out.configurations, ['3d_fullres', '2d']);
    assert.equal(out.cascade, false);
    const byConf = Object.fromEntries(out.plans.map((p) => [p.configuration, p]));
    assert.deepEqual(byConf['3d_fullres']!.patch_size, [40, 56, 40]);
    assert.equal(byConf['3d_fullres']!.batch_size, 9);
    assert.deepEqual(byConf['2d']!.patch_size, [56, 40]);
    const text = spawnSync(process.execPath, [cli, 'plan', '--fingerprint', fp], { encoding: 'utf8' });
    assert.match(text.stdout, /patch size {7}40 x 56 x 40/);
    const bad = spawnSync(process.execPath, [cli, 'plan', '--fingerprint', path.join(dir, 'missing.json')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no such file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
