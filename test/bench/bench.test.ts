/**
 * The benchmark harness: the help listing, and that a stage job in its child process does the real work and
 * reports time and peak RSS (a 2-case demo task: fingerprint, plan, 3d_fullres preprocessing).
 * Runs from dist/ (the child is dist/bench/job-runner.js): `npm run build && node scripts/run-tests.js bench`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoDataset } from '../../activities/io/demo';
import { plan } from '../../activities/planning/activity';
import { runJob } from '../../bench/child';
import { freshPaths } from '../../bench/datasets';
import { helpText, SUBCOMMANDS } from '../../bench/index';
import { trainingStepFlops } from '../../bench/unet-flops';

const BENCH_MAIN = path.join(__dirname, '..', '..', 'bench', 'index.js');

test('npm run bench with no subcommand lists every subcommand and exits 0; an unknown one exits 2', () => {
  const r = spawnSync(process.execPath, [BENCH_MAIN], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  for (const name of ['preprocessing', 'inference', 'training', 'backends', 'vs-nnunet', 'profile', 'iteration', 'precision', 'v2-augmentation']) assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'));
  assert.equal(r.stdout.trim(), helpText());
  assert.deepEqual(Object.keys(SUBCOMMANDS).sort(), ['backends', 'inference', 'iteration', 'precision', 'preprocessing', 'profile', 'training', 'v2-augmentation', 'vs-nnunet']);
  const bad = spawnSync(process.execPath, [BENCH_MAIN, 'nope'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown benchmark 'nope'/);
});

test('vs-nnunet --help lists its parts and options and exits 0; an unknown part is refused by name', () => {
  const r = spawnSync(process.execPath, [BENCH_MAIN, 'vs-nnunet', '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  for (const part of ['train', 'infer', 'preprocess', 'gemm', 'learn']) assert.match(r.stdout, new RegExp(`^  ${part} +\\S`, 'm'));
  assert.match(r.stdout, /--parts .*--quick/s);
  const bad = spawnSync(process.execPath, [BENCH_MAIN, 'vs-nnunet', '--parts', 'train,nope'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown part 'nope'/);
});

test('the U-Net FLOP count: one 3x3 conv pair per level, counted by hand for a 2D two-level network', () => {
  // Encoder: 1->32 and 32->32 at 8x8, bottleneck 32->64 (stride 2) and 64->64 at 4x4; decoder: up 64->32 at 8x8,
  // 64->32 and 32->32 at 8x8, head 32->2. Forward MACs x2, training = 3 x forward x batch.
  const mac = 1 * 32 * 9 * 64 + 32 * 32 * 9 * 64 + 32 * 64 * 9 * 16 + 64 * 64 * 9 * 16 + 64 * 32 * 64 + 64 * 32 * 9 * 64 + 32 * 32 * 9 * 64 + 32 * 2 * 64;
  const stage = { pool_op_kernel_sizes: [[2, 2]], conv_kernel_sizes: [[3, 3], [3, 3]], patch_size: [8, 8], batch_size: 3 };
  assert.equal(trainingStepFlops(stage, 1, 2), 3 * 2 * mac * 3);
});

test('stage jobs run in a child process: fingerprint and 3d_fullres preprocessing of 2 demo cases, with time and peak RSS', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-bench-test-'));
  try {
    const { outDir } = await writeDemoDataset(path.join(root, 'raw'), { taskId: 950, cases: 2, testCases: 0 });
    const paths = freshPaths(outDir, path.join(root, 'work'));
    const fp = runJob({ kind: 'fingerprint', paths, numProcesses: 1 });
    assert.equal(fp.numCases, 2);
    const fingerprintFile = path.join(paths.preprocessedDir, 'dataset_properties.json');
    assert.ok(fs.existsSync(fingerprintFile));
    assert.ok(fp.seconds > 0 && fp.peakRssBytes > 20 * 2 ** 20, `seconds ${fp.seconds}, peak RSS ${fp.peakRssBytes}`);
    const { plansFiles } = await plan({ paths, fingerprintFile });
    const pp = runJob({ kind: 'preprocess', paths, plansFile: plansFiles['3d']!, configuration: '3d_fullres', numProcesses: 1 });
    assert.equal(pp.numCases, 2);
    assert.ok(pp.seconds > 0 && pp.peakRssBytes > 20 * 2 ** 20);
    const npy = fs.readdirSync(paths.preprocessedDir, { recursive: true }).map(String).filter((f) => f.endsWith('.npy'));
    assert.equal(npy.length, 2);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
