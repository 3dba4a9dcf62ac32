/** The demo's --regions / --ignore-label variants: their dataset.json, the ignore marks, and verify's region checks. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEMO_IGNORE_LABEL, demoLabelsJson, demoTaskName, markIgnored, writeDemoDataset } from '../../activities/io/demo';
import { verifyDatasetFolder } from '../../activities/io/verify';

test('--regions / --ignore-label: v2 labels with nested regions, regions_class_order and the ignore label', () => {
  assert.deepEqual(demoLabelsJson({ taskId: 1, regions: true, ignoreLabel: true }), {
    channel_names: { 0: 'CT', 1: 'MRI' }, labels: { background: 0, organ: [1, 2], lesion: [2], ignore: 3 },
    regions_class_order: [1, 2], file_ending: '.nii.gz',
  });
  assert.deepEqual((demoLabelsJson({ taskId: 1, ignoreLabel: true }) as { labels: unknown }).labels, { background: 0, organ: 1, lesion: 2, ignore: 3 });
  assert.equal(demoTaskName({ taskId: 7, regions: true, ignoreLabel: true }), 'Task007_DemoRegionsIgnore');
});

test('markIgnored leaves every third z-slice and the right half annotated', () => {
  const label = new Uint8Array(3 * 2 * 4).fill(1);
  markIgnored(label, [3, 2, 4]);
  const at = (z: number, y: number, x: number) => label[(z * 2 + y) * 4 + x];
  assert.equal(at(0, 0, 0), 1);
  assert.equal(at(1, 1, 1), DEMO_IGNORE_LABEL);
  assert.equal(at(2, 0, 2), 1);
});

test('verify passes the region demo and names a missing regions_class_order', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-regions-'));
  try {
    const demo = await writeDemoDataset(root, { taskId: 907, cases: 2, testCases: 0, regions: true, ignoreLabel: true });
    const ok = await verifyDatasetFolder(demo.outDir);
    assert.deepEqual(ok.problems.filter((p) => p.severity === 'error'), []);
    const jsonFile = path.join(demo.outDir, 'dataset.json');
    const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
    delete json.regions_class_order;
    fs.writeFileSync(jsonFile, JSON.stringify(json));
    const bad = await verifyDatasetFolder(demo.outDir);
    assert.ok(bad.problems.some((p) => /regions_class_order is missing/.test(p.message)), JSON.stringify(bad.problems));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
