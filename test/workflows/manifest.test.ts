/** runOnce: idempotent skip with an input-hash manifest. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalJson, hashInputs, readManifest, runOnce } from '../../activities/common/manifest';

function stage(dir: string, inputs: unknown, inputFiles: string[], counter: { n: number }) {
  const out = path.join(dir, 'out.txt');
  return runOnce({
    manifestFile: path.join(dir, 'manifest.json'),
    stage: 'demo',
    inputs,
    inputFiles,
    outputs: (r: { file: string }) => [r.file],
    compute: async () => {
      counter.n++;
      fs.writeFileSync(out, `run ${counter.n}`);
      return { file: out };
    },
  });
}

test('canonical JSON and input hash ignore key order and include file contents', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } }), '{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-manifest-'));
  const f = path.join(dir, 'plans.json');
  fs.writeFileSync(f, '{"x":1}');
  const h = hashInputs({ a: 1, b: 2 }, [f]);
  assert.equal(hashInputs({ b: 2, a: 1 }, [f]), h);
  fs.writeFileSync(f, '{"x":2}');
  assert.notEqual(hashInputs({ a: 1, b: 2 }, [f]), h);
  fs.rmSync(dir, { recursive: true });
});

test('second run with the same inputs skips; changed input file or missing output recomputes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-manifest-'));
  const plans = path.join(dir, 'plans.json');
  fs.writeFileSync(plans, '{"stage":1}');
  const counter = { n: 0 };
  const first = await stage(dir, { configuration: '2d' }, [plans], counter);
  assert.deepEqual([first.skipped, counter.n], [false, 1]);
  const again = await stage(dir, { configuration: '2d' }, [plans], counter);
  assert.deepEqual([again.skipped, counter.n, again.result.file], [true, 1, first.result.file]);
  assert.equal(readManifest(path.join(dir, 'manifest.json'))?.stage, 'demo');
  fs.writeFileSync(plans, '{"stage":2}');
  assert.equal((await stage(dir, { configuration: '2d' }, [plans], counter)).skipped, false);
  fs.rmSync(first.result.file);
  assert.equal((await stage(dir, { configuration: '2d' }, [plans], counter)).skipped, false);
  assert.equal((await stage(dir, { configuration: '3d_fullres' }, [plans], counter)).skipped, false);
  assert.equal(counter.n, 4);
  fs.rmSync(dir, { recursive: true });
});

test('a failed compute leaves no manifest, so the next run computes again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-manifest-'));
  const manifestFile = path.join(dir, 'manifest.json');
  await assert.rejects(runOnce({ manifestFile, stage: 's', inputs: 1, outputs: () => [], compute: async () => { throw new Error('disk full'); } }), /disk full/);
  assert.equal(fs.existsSync(manifestFile), false);
  await assert.rejects(runOnce({ manifestFile, stage: 's', inputs: 1, outputs: () => [path.join(dir, 'never')], compute: async () => 1 }), /declared outputs missing/);
  assert.equal(fs.existsSync(manifestFile), false);
  fs.rmSync(dir, { recursive: true });
});
