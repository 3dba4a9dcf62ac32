import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { evaluateFolders } from '../../activities/evaluation/evaluate-folder';
import { buildSummary, foregroundMean, meanForegroundDice, nanmean, readSummary, writeSummary } from '../../activities/evaluation/summary';
import { metricsForClasses, jointHistogram } from '../../activities/evaluation/metrics';
import { readLabelVolume } from '../../activities/evaluation/label-io';
import { writeNiftiSync } from '../../activities/io/nifti';
import { defaultGeometry } from '../../activities/io/geometry';
import { BadInputError } from '../../activities/common/errors';

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-eval-'));
}

function writeLabels(file: string, values: number[], shape: [number, number, number] = [1, 2, values.length / 2]): void {
  writeNiftiSync(file, { data: Uint8Array.from(values), dtype: 'uint8', shape, geometry: defaultGeometry([1, 1, 2]) });
}

test('nanmean ignores NaN and is NaN when nothing is left', () => {
  assert.equal(nanmean([1, NaN, 0]), 0.5);
  assert.ok(Number.isNaN(nanmean([NaN, NaN])));
  assert.ok(Number.isNaN(nanmean([])));
});

test('summary has nnU-Net v1 shape; NaN written as null and read back as NaN', () => {
  const c1 = metricsForClasses(jointHistogram(Uint8Array.from([0, 1, 1, 2]), Uint8Array.from([0, 1, 0, 0])), [0, 1, 2]);
  const c2 = metricsForClasses(jointHistogram(Uint8Array.from([0, 1, 0, 0]), Uint8Array.from([0, 1, 0, 0])), [0, 1, 2]);
  const s = buildSummary([{ test: 'p/a.nii.gz', reference: 'r/a.nii.gz', perClass: c1 }, { test: 'p/b.nii.gz', reference: 'r/b.nii.gz', perClass: c2 }], [0, 1, 2], { task: 'Task004' });
  assert.deepEqual(Object.keys(s), ['name', 'description', 'timestamp', 'task', 'author', 'results', 'id']);
  assert.deepEqual(Object.keys(s.results.all[0]), ['0', '1', '2', 'test', 'reference']);
  assert.equal(s.results.all[1].test, 'p/b.nii.gz');
  assert.match(s.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  assert.match(s.id, /^[0-9a-f]{12}$/);
  // class 1: Dice 2/3 and 1 → mean 5/6; class 2: Dice 0 (case 1) and NaN (case 2) → nanmean 0
  assert.equal(s.results.mean['1'].Dice, (2 / 3 + 1) / 2);
  assert.equal(s.results.mean['2'].Dice, 0);
  assert.equal(s.results.foreground_mean?.Dice, ((2 / 3 + 1) / 2 + 0) / 2);
  assert.equal(meanForegroundDice(s), ((2 / 3 + 1) / 2 + 0) / 2);
  const dir = tmp();
  const file = path.join(dir, 'summary.json');
  writeSummary(file, s);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.includes('NaN'));
  assert.doesNotThrow(() => JSON.parse(text));
  const back = readSummary(file);
  assert.ok(Number.isNaN((back.results.all[1]['2'] as Record<string, number>).Dice));
  assert.equal(back.results.mean['1'].Dice, s.results.mean['1'].Dice);
});

test('readSummary accepts Python json NaN tokens (summary.json written by nnU-Net)', () => {
  const dir = tmp();
  const file = path.join(dir, 'summary.json');
  fs.writeFileSync(file, '{"author": "Fabian", "results": {"all": [{"1": {"Dice": NaN, "Precision": -Infinity}, "test": "a NaN.nii.gz"}], "mean": {"1": {"Dice": NaN}}}}');
  const s = readSummary(file);
  assert.ok(Number.isNaN(s.results.mean['1'].Dice));
  assert.equal(s.results.all[0].test, 'a NaN.nii.gz');
  assert.ok(Number.isNaN(meanForegroundDice(s)));
});

test('foreground mean skips labels 0, -1 and 99', () => {
  const t = (d: number): Record<string, number> => ({ Dice: d });
  assert.deepEqual(foregroundMean({ '0': t(0.1), '1': t(0.5), '2': t(NaN), '3': t(1), '99': t(0) }), { Dice: 0.75 });
});

test('evaluateFolders scores NIfTI folders, writes PRED/summary.json, default labels = all found', async () => {
  const ref = tmp();
  const pred = tmp();
  writeLabels(path.join(ref, 'a.nii.gz'), [0, 1, 1, 2, 2, 0]);
  writeLabels(path.join(pred, 'a.nii.gz'), [0, 1, 0, 2, 2, 2]);
  writeLabels(path.join(ref, 'b.nii.gz'), [0, 0, 0, 0, 1, 1]);
  writeLabels(path.join(pred, 'b.nii.gz'), [0, 0, 0, 0, 1, 1]);
  const s = await evaluateFolders(ref, pred);
  assert.deepEqual(Object.keys(s.results.mean), ['0', '1', '2']);
  assert.equal((s.results.all[0]['1'] as Record<string, number>).Dice, 2 / 3);
  assert.equal((s.results.all[0]['2'] as Record<string, number>).Dice, 4 / 5);
  assert.ok(Number.isNaN((s.results.all[1]['2'] as Record<string, number>).Dice));
  assert.equal(s.results.mean['2'].Dice, 4 / 5);
  assert.ok(fs.existsSync(path.join(pred, 'summary.json')));
  const only = await evaluateFolders(ref, pred, { labels: [1], summaryFile: null });
  assert.deepEqual(Object.keys(only.results.mean), ['1']);
  assert.equal(only.results.mean['1'].Dice, (2 / 3 + 1) / 2);
});

test('evaluateFolders refuses mismatched folders and shapes, naming the files', async () => {
  const ref = tmp();
  const pred = tmp();
  writeLabels(path.join(ref, 'a.nii.gz'), [0, 1, 1, 0]);
  writeLabels(path.join(pred, 'b.nii.gz'), [0, 1, 1, 0]);
  await assert.rejects(evaluateFolders(ref, pred), (e: unknown) => e instanceof BadInputError && /a\.nii\.gz/.test(e.message) && /b\.nii\.gz/.test(e.message));
  fs.rmSync(path.join(pred, 'b.nii.gz'));
  writeLabels(path.join(pred, 'a.nii.gz'), [0, 1, 1, 0, 0, 0]);
  await assert.rejects(evaluateFolders(ref, pred), (e: unknown) => e instanceof BadInputError && /shape/.test(e.message));
});

test('real Hippocampus labels: a case against itself scores Dice 1; a shifted copy scores below 1', async (t) => {
  const labelsDir = path.resolve(repoRoot(), '..', 'shared', 'realdata', 'Task04_Hippocampus', 'labelsTr');
  if (!fs.existsSync(labelsDir)) {
    t.skip(`../shared not found (${labelsDir}): skipping the real-data check`);
    return;
  }
  const name = fs.readdirSync(labelsDir).filter((f) => f.endsWith('.nii.gz')).sort()[0];
  const pred = tmp();
  const vol = await readLabelVolume(path.join(labelsDir, name));
  const shifted = new (vol.data.constructor as new (n: number) => Uint8Array)(vol.data.length);
  shifted.set(vol.data.subarray(0, vol.data.length - 1), 1);
  writeNiftiSync(path.join(pred, name), { ...vol, data: shifted });
  const ref = tmp();
  fs.copyFileSync(path.join(labelsDir, name), path.join(ref, name));
  const self = await evaluateFolders(ref, ref, { summaryFile: null });
  assert.equal(self.results.mean['1'].Dice, 1);
  assert.equal(self.results.mean['2'].Dice, 1);
  const s = await evaluateFolders(ref, pred, { labels: [1, 2], summaryFile: null });
  assert.ok(s.results.mean['1'].Dice < 1 && s.results.mean['1'].Dice > 0.3);
});

test('nnunet evaluate CLI: table, --json and exit code 2 for a missing folder', (t) => {
  const cli = path.join(repoRoot(), 'dist', 'client', 'cli.js');
  if (!fs.existsSync(cli) || !__filename.endsWith('.js')) {
    t.skip('CLI check runs on the compiled build (npm test)');
    return;
  }
  const ref = tmp();
  const pred = tmp();
  writeLabels(path.join(ref, 'a.nii.gz'), [0, 1, 1, 0]);
  writeLabels(path.join(pred, 'a.nii.gz'), [0, 1, 0, 0]);
  const r = spawnSync(process.execPath, [cli, 'evaluate', '--ref', ref, '--pred', pred, '-l', '1', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).results.mean['1'].Dice, 2 / 3);
  const table = spawnSync(process.execPath, [cli, 'evaluate', '--ref', ref, '--pred', pred], { encoding: 'utf8' });
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /mean foreground Dice 0\.6667/);
  const bad = spawnSync(process.execPath, [cli, 'evaluate', '--ref', path.join(ref, 'nope'), '--pred', pred], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});
