/**
 * Bad inputs end to end: the real `nnunet run -t TASK` against a real Temporal server and a real `nnunet worker`
 * (one of each, shared by all cases: TEMPORAL_ADDRESS), on tiny demo tasks broken in one way each. Every case
 * must fail with exit code 1 and a message naming the file and the fix, on the first attempt (BadInput is not
 * retried), and leave nothing half-written in the cropped/preprocessed/results folders.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { demoTaskName, writeDemoDataset } from '../../activities/io/demo';
import { readNifti, writeNifti } from '../../activities/io/nifti';
import { startDevServer, type DevServer } from '../../client/temporal/devserver';
import { assertBuilt } from '../client/cli-helpers';
import { temporalUnavailable } from '../helpers/temporal';
import { listFiles, makeDataEnv, startCli, type CliProcess, type DataEnv } from './helpers';
import { storageMarkerFile } from '../../activities/io/layout';

const skip = temporalUnavailable() ?? false;
let data: DataEnv;
let server: DevServer;
let worker: CliProcess;
let env: Record<string, string>;

before(async () => {
  if (skip) return;
  assertBuilt();
  data = makeDataEnv('bad');
  server = await startDevServer({ dbFile: path.join(data.root, 'temporal', 'temporal.db'), uiPort: false, readyTimeoutMs: 180_000 });
  env = { ...data.env, TEMPORAL_ADDRESS: server.address };
  worker = startCli(['worker', '--queue', 'all'], env, 900_000);
});

after(async () => {
  if (skip) return;
  worker?.child.kill('SIGINT');
  await worker?.done;
  await server?.stop();
  data?.remove();
});

const rawDir = (taskId: number): string => path.join(data.env.nnUNet_raw_data_base, 'nnUNet_raw_data', demoTaskName({ taskId }));

/** A 3-case demo task (5 where a stage after verify must run), to be broken by the caller. */
async function demoTask(taskId: number, cases = 3): Promise<string> {
  await writeDemoDataset(data.env.nnUNet_raw_data_base, { taskId, cases, testCases: 0 });
  return rawDir(taskId);
}

interface RunJson { status: string; error?: string; state?: { nodes: Array<{ id: string; status: string; attempt?: number; error?: string }> } }

/** Runs the task; returns stderr, the failed node and the JSON outcome. */
async function runFails(taskId: number, extraEnv: Record<string, string> = {}, extraArgs: string[] = []): Promise<{ stderr: string; failed: { id: string; attempt?: number; error?: string }; out: RunJson; ms: number }> {
  const r = await startCli(['run', '-t', String(taskId), '-c', '2d', '-f', '0', '--epochs', '1', '--iters', '1', '--no-find-best', '--json', ...extraArgs], { ...env, ...extraEnv }, 240_000).done;
  console.log(`task ${taskId}: exit ${r.code} in ${r.ms} ms\n${r.stderr.split('\n').filter((l) => /failed|error|BadInput/i.test(l)).join('\n')}`);
  assert.equal(r.code, 1, `exit code 1 expected\n${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as RunJson;
  assert.equal(out.status, 'failed');
  const failed = out.state?.nodes.find((n) => n.status === 'failed');
  assert.ok(failed, `a failed node in the state\n${r.stdout}`);
  assert.equal(failed.attempt ?? 1, 1, `bad input is not retried: ${failed.id} attempt ${failed.attempt}`);
  assert.match(failed.error ?? '', /BadInput/, `the failure is a BadInput: ${failed.error}`);
  return { stderr: r.stderr, failed, out, ms: r.ms };
}

/** Nothing of this task in the derived folders, or only complete files (no temporary siblings). */
function assertNothingHalfWritten(taskName: string, allowed: { cropped?: boolean; preprocessed?: boolean } = {}): void {
  const roots = {
    cropped: path.join(data.env.nnUNet_raw_data_base, 'nnUNet_cropped_data', taskName),
    preprocessed: path.join(data.env.nnUNet_preprocessed, taskName),
  };
  for (const [k, dir] of Object.entries(roots)) {
    const files = listFiles(dir);
    assert.deepEqual(files.filter((f) => /(^|\/)\.tmp-|\.tmp$/.test(f)), [], `no temporary files under ${dir}`);
    if (!allowed[k as keyof typeof allowed]) assert.deepEqual(files, [], `nothing written under ${dir}`);
  }
  // The storage marker the client writes at the start (io/storage-marker.ts) is the one file a failed run leaves there.
  const marker = path.relative(data.env.RESULTS_FOLDER, storageMarkerFile({ resultsDir: path.join(data.env.RESULTS_FOLDER, 'nnUNet'), taskName }));
  const results = listFiles(data.env.RESULTS_FOLDER).filter((f) => f.includes(taskName) && f !== marker);
  assert.deepEqual(results, [], `nothing of ${taskName} under the results folder`);
}

test('missing modality file', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(911);
  const missing = path.join(dir, 'imagesTr', 'demo_001_0001.nii.gz');
  fs.rmSync(missing);
  const r = await runFails(911);
  assert.equal(r.failed.id, 'verify');
  assert.match(r.stderr, /demo_001_0001\.nii\.gz/);
  assertNothingHalfWritten(demoTaskName({ taskId: 911 }));
});

test('corrupted .nii.gz (truncated gzip)', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(912);
  const file = path.join(dir, 'imagesTr', 'demo_002_0000.nii.gz');
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
  const r = await runFails(912);
  assert.match(r.stderr, /demo_002_0000\.nii\.gz/);
  assert.match(r.stderr, /truncated or corrupt gzip/);
  assertNothingHalfWritten(demoTaskName({ taskId: 912 }));
});

test('label value 7 in a 3-class task', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(913);
  const file = path.join(dir, 'labelsTr', 'demo_000.nii.gz');
  const label = await readNifti(file);
  label.data[Math.floor(label.data.length / 2)] = 7;
  await writeNifti(file, label);
  const r = await runFails(913);
  assert.equal(r.failed.id, 'verify');
  assert.match(r.stderr, /demo_000\.nii\.gz/);
  assert.match(r.stderr, /\b7\b/);
  assertNothingHalfWritten(demoTaskName({ taskId: 913 }));
});

test('image/label shape mismatch', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(914);
  const file = path.join(dir, 'labelsTr', 'demo_001.nii.gz');
  const label = await readNifti(file);
  const [nz, ny, nx] = label.shape;
  const cut = { ...label, shape: [nz - 1, ny, nx], data: label.data.slice(0, (nz - 1) * ny * nx) };
  await writeNifti(file, cut);
  const r = await runFails(914);
  assert.equal(r.failed.id, 'verify');
  assert.match(r.stderr, /demo_001/);
  assert.match(r.stderr, /shape/i);
  assertNothingHalfWritten(demoTaskName({ taskId: 914 }));
});

test('path escaping the task folder in dataset.json', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(915);
  const jsonFile = path.join(dir, 'dataset.json');
  const ds = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as { training: Array<{ image: string; label: string }> };
  ds.training[0].label = '../../../../../etc/passwd.nii.gz';
  fs.writeFileSync(jsonFile, JSON.stringify(ds, null, 2));
  const r = await runFails(915);
  assert.equal(r.failed.id, 'verify');
  assert.match(r.stderr, /dataset\.json/);
  assert.match(r.stderr, /etc\/passwd/);
  assertNothingHalfWritten(demoTaskName({ taskId: 915 }));
});

test('empty imagesTr', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(916);
  for (const f of fs.readdirSync(path.join(dir, 'imagesTr'))) fs.rmSync(path.join(dir, 'imagesTr', f));
  const r = await runFails(916);
  assert.equal(r.failed.id, 'verify');
  assert.match(r.stderr, /imagesTr\/ is empty/);
  assertNothingHalfWritten(demoTaskName({ taskId: 916 }));
});

test('--no-verify: an undeclared label value is refused where labels are read (fingerprint), not dropped', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(919);
  const file = path.join(dir, 'labelsTr', 'demo_001.nii.gz');
  const label = await readNifti(file);
  label.data[Math.floor(label.data.length / 3)] = 9;
  await writeNifti(file, label);
  const r = await runFails(919, {}, ['--no-verify']);
  assert.equal(r.failed.id, 'fingerprint');
  assert.match(r.stderr, /demo_001\.nii\.gz: label values 9 are not declared in dataset\.json/);
  assert.match(r.stderr, /declare the values under "labels" in dataset\.json/);
  assertNothingHalfWritten(demoTaskName({ taskId: 919 }), { cropped: true });
});

test('--no-verify: a NaN voxel is refused at the fingerprint with the file, the count and the fix', { skip, timeout: 300_000 }, async () => {
  const dir = await demoTask(920);
  const file = path.join(dir, 'imagesTr', 'demo_002_0000.nii.gz');
  const image = await readNifti(file);
  const data = Float32Array.from(image.data);
  data[17] = NaN;
  await writeNifti(file, { ...image, data, dtype: 'float32' });
  const r = await runFails(920, {}, ['--no-verify']);
  assert.equal(r.failed.id, 'fingerprint');
  assert.match(r.stderr, /demo_002_0000\.nii\.gz: contains 1 NaN and 0 Inf voxels/);
  assert.match(r.stderr, /replace them with finite values/);
  assertNothingHalfWritten(demoTaskName({ taskId: 920 }), { cropped: true });
});

/**
 * An output folder that cannot be written. chmod does not stop root (CI runs as root), so the folder is put
 * under a regular file, which nobody can make a folder. Embedded mode (the CLI's own server and workers, same
 * filesystem) checks this before it starts anything: exit 1, the folder, the setting and the fix; nothing runs.
 */
async function runUnwritable(taskId: number, override: Record<string, string>, blocker: string): Promise<string> {
  fs.writeFileSync(blocker, 'not a folder');
  const r = await startCli(['run', '-t', String(taskId), '-c', '2d', '-f', '0', '--epochs', '1', '--iters', '1', '--no-find-best'], { ...data.env, ...override }, 120_000).done;
  console.log(`task ${taskId}: exit ${r.code} in ${r.ms} ms\n${r.stderr.trim()}`);
  assert.equal(r.code, 1, `exit code 1 expected\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`${blocker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a file, not a folder; set [^()]+ \\(paths\\.\\w+\\) to a folder you can write`));
  assert.doesNotMatch(r.stdout + r.stderr, /starting the embedded Temporal server|started nnunet-task/, 'nothing was started');
  return r.stderr;
}

test('preprocessed folder not writable (a path under a regular file, which even root cannot create)', { skip, timeout: 300_000 }, async () => {
  await demoTask(917);
  const blocker = path.join(data.root, 'a-file');
  const stderr = await runUnwritable(917, { nnUNet_preprocessed: path.join(blocker, 'preprocessed') }, blocker);
  assert.match(stderr, /nnUNet_preprocessed/);
  assertNothingHalfWritten(demoTaskName({ taskId: 917 }));
});

test('results folder not writable', { skip, timeout: 300_000 }, async () => {
  await demoTask(918);
  const blocker = path.join(data.root, 'b-file');
  const stderr = await runUnwritable(918, { RESULTS_FOLDER: path.join(blocker, 'results') }, blocker);
  assert.match(stderr, /RESULTS_FOLDER/);
  assertNothingHalfWritten(demoTaskName({ taskId: 918 }));
});
