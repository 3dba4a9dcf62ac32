/**
 * Hostile and broken inputs through the real CLI (dist/client/cli.js in a child process, no Temporal): each case
 * must end with a clear error naming the file and the fix, the documented exit code, within seconds (nothing
 * may hang or fill memory), and leave no partial output. The Temporal path of the same checks (`nnunet run`)
 * is test/e2e/bad-inputs.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { encodeNifti1, readNiftiSync, writeNiftiSync } from '../../activities/io/nifti';
import { CLI, cleanEnv } from '../client/cli-helpers';
import { tmpDir } from './helpers';
import { TINY_SHAPE, writeTinyTask } from './tiny-task';

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

/** `nnunet ARGS` with its data folders under `root`; a shell prefix (e.g. `umask 077;`) where given. */
function nnunet(root: string, args: string[], opts: { env?: Record<string, string>; shell?: string; timeoutMs?: number } = {}): Run {
  const env = cleanEnv({
    nnUNet_raw_data_base: path.join(root, 'raw'), nnUNet_preprocessed: path.join(root, 'pp'), RESULTS_FOLDER: path.join(root, 'results'),
    ...opts.env,
  });
  const t0 = Date.now();
  const r = opts.shell
    ? spawnSync('sh', ['-c', `${opts.shell} exec "$0" "$@"`, process.execPath, CLI, ...args], { env, encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000 })
    : spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** A fresh root with a valid 2-case v1 task (2 channels, labels 0..2) in it. */
function taskRoot(cases = 2): { root: string; dir: string } {
  const root = tmpDir('nnunet-hostile-');
  const dir = writeTinyTask(path.join(root, 'raw', 'nnUNet_raw_data'), { format: 'v1', cases });
  return { root, dir };
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every file under `dir` (relative), [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => !e.isDirectory()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name))).sort();
}

function assertNoTemporaries(root: string): void {
  const all = filesUnder(root);
  assert.deepEqual(all.filter((f) => /(^|\/)\.tmp-/.test(f)), [], `no temporary files under ${root}: ${all.join(', ')}`);
}

/** Fails with `code`; stderr names `file` and matches every pattern (what is wrong, the fix). */
function assertRefused(r: Run, code: number, file: string, ...patterns: RegExp[]): void {
  assert.equal(r.code, code, `exit ${code} expected, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(esc(file)), `the message names ${file}:\n${r.stderr}`);
  for (const p of patterns) assert.match(r.stderr, p);
}

// ---------------------------------------------------------------------------------------------------------------
// Files that are not files: devices, FIFOs, links leaving the task folder

test('an image that is a symbolic link out of the task folder is refused, naming the config key and the flag', () => {
  const { root, dir } = taskRoot();
  const outside = path.join(root, 'elsewhere.nii.gz');
  const image = path.join(dir, 'imagesTr', 'case_000_0000.nii.gz');
  fs.renameSync(image, outside);
  fs.symlinkSync(outside, image);
  const r = nnunet(root, ['verify', '-t', dir]);
  assertRefused(r, 1, image, /symbolic link leading outside the task folder/, /data\.allowExternalSymlinks/, /--allow-external-symlinks/);
  assert.equal(nnunet(root, ['--allow-external-symlinks', 'verify', '-t', dir]).code, 0, 'the flag allows it');
  assert.equal(nnunet(root, ['verify', '-t', dir], { env: { NNUNET_ALLOW_EXTERNAL_SYMLINKS: '1' } }).code, 0, 'the env variable allows it');
  // A link that stays inside the task folder is fine.
  const inside = path.join(dir, 'imagesTr', 'real.nii.gz');
  fs.rmSync(image);
  fs.renameSync(outside, inside);
  fs.symlinkSync('real.nii.gz', image);
  const ok = nnunet(root, ['verify', '-t', dir]);
  assert.doesNotMatch(ok.stderr, /symbolic link/);
});

test('an image linked to /dev/zero is refused at once, even where external links are allowed', () => {
  const { root, dir } = taskRoot();
  const image = path.join(dir, 'imagesTr', 'case_001_0000.nii.gz');
  fs.rmSync(image);
  fs.symlinkSync('/dev/zero', image);
  assertRefused(nnunet(root, ['verify', '-t', dir]), 1, image, /outside the task folder/);
  const r = nnunet(root, ['--allow-external-symlinks', 'verify', '-t', dir]);
  assertRefused(r, 1, path.relative(dir, image), /is a device, not a regular file/, /replace it/);
  assert.ok(r.ms < 10_000, `refused in ${r.ms} ms`);
  const i = nnunet(root, ['inspect', image]);
  assertRefused(i, 1, image, /is a device/);
});

test('a FIFO in place of an image is refused without opening it (opening would block)', () => {
  const { root, dir } = taskRoot();
  const image = path.join(dir, 'imagesTr', 'case_000_0001.nii.gz');
  fs.rmSync(image);
  const mk = spawnSync('mkfifo', [image]);
  assert.equal(mk.status, 0, 'mkfifo is available');
  const r = nnunet(root, ['verify', '-t', dir], { timeoutMs: 20_000 });
  assertRefused(r, 1, path.relative(dir, image), /FIFO/, /not a regular file/);
  const p = nnunet(root, ['plan-and-preprocess', '-t', dir], { timeoutMs: 20_000 });
  assertRefused(p, 1, image, /FIFO/);
  assert.deepEqual(filesUnder(path.join(root, 'pp')), [], 'nothing preprocessed');
  assertNoTemporaries(root);
});

// ---------------------------------------------------------------------------------------------------------------
// Headers that promise more than a machine has, or less than the file holds

/** A gzip'd NIfTI whose header says `dims` float32 while the file holds `payload` bytes of zeros. */
function lyingNifti(file: string, dims: [number, number, number], payload: number): void {
  const header = encodeNifti1({ data: new Float32Array(1), shape: [1, 1, 1], dtype: 'float32', geometry: { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] } }).subarray(0, 352);
  dims.forEach((d, i) => header.writeInt16LE(d, 42 + 2 * i));
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([header, Buffer.alloc(payload)])));
}

test('a small .nii.gz whose header promises 1024³ float32 is refused from its header, in well under a second', () => {
  const root = tmpDir('nnunet-hostile-');
  const file = path.join(root, 'huge.nii.gz');
  lyingNifti(file, [1024, 1024, 1024], 1 << 20);
  assert.ok(fs.statSync(file).size < 100_000);
  const r = nnunet(root, ['inspect', file]);
  assertRefused(r, 1, file, /1024x1024x1024 float32/, /needs about \d+(\.\d+)? GB of memory/, /data\.maxImageMemoryGb/, /NNUNET_MAX_IMAGE_MEMORY_GB/);
  // The CLI's own start-up is ~0.5 s; reading the file costs next to nothing.
  const t0 = Date.now();
  assert.throws(() => readNiftiSync(file), /needs about/);
  assert.ok(Date.now() - t0 < 500, `refused in ${Date.now() - t0} ms`);
  // Within a raised limit the same header is honoured (then the data is found missing, without reading 4 GB).
  const raised = nnunet(root, ['inspect', file], { env: { NNUNET_MAX_IMAGE_MEMORY_GB: '64' } });
  assert.equal(raised.code, 1);
  assert.doesNotMatch(raised.stderr, /needs about/);
});

test('the memory limit is a config key: a lower data.maxImageMemoryGb refuses an ordinary image, naming the key', () => {
  const { root, dir } = taskRoot();
  const cfg = path.join(root, 'tight.yaml');
  fs.writeFileSync(cfg, 'data:\n  maxImageMemoryGb: 0.000001\n');
  const file = path.join(dir, 'imagesTr', 'case_000_0001.nii.gz');
  assertRefused(nnunet(root, ['--config', cfg, 'inspect', file]), 1, file, /data\.maxImageMemoryGb/);
  assertRefused(nnunet(root, ['--config', cfg, 'verify', '-t', dir]), 1, path.relative(dir, file), /needs about/);
});

test('a gzip stream that inflates beyond what its header promises is refused (decompression stops there)', () => {
  const root = tmpDir('nnunet-hostile-');
  const file = path.join(root, 'bomb.nii.gz');
  lyingNifti(file, [4, 5, 6], 64 << 20);
  const r = nnunet(root, ['inspect', file]);
  assertRefused(r, 1, file, /decompresses to more than the \d+ bytes its header promises/, /re-export/);
});

test('already handled: a truncated .nii.gz, a missing file and a dataset.json path leaving the folder', () => {
  const { root, dir } = taskRoot();
  const cut = path.join(dir, 'imagesTr', 'case_000_0000.nii.gz');
  const bytes = fs.readFileSync(cut);
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
  const missing = path.join(dir, 'labelsTr', 'case_001.nii.gz');
  fs.rmSync(missing);
  const r = nnunet(root, ['verify', '-t', dir]);
  assertRefused(r, 1, 'imagesTr/case_000_0000.nii.gz', /truncated or corrupt gzip/, /re-copy or re-export/);
  assert.match(r.stderr, /labelsTr\/case_001\.nii\.gz: file is missing/);
  const json = path.join(dir, 'dataset.json');
  const ds = JSON.parse(fs.readFileSync(json, 'utf8')) as { training: Array<{ label: string }> };
  ds.training[0].label = '../../../../etc/passwd.nii.gz';
  fs.writeFileSync(json, JSON.stringify(ds));
  assertRefused(nnunet(root, ['verify', '-t', dir]), 1, 'dataset.json', /points outside the task folder/, /may only name files inside it/);
});

// ---------------------------------------------------------------------------------------------------------------
// Values that would corrupt a run silently: NaN/Inf, undeclared labels, unknown spacing

function poison(file: string, value: number, count = 1): void {
  const v = readNiftiSync(file);
  const data = Float32Array.from(v.data);
  for (let i = 0; i < count; i++) data[i * 7] = value;
  writeNiftiSync(file, { data, shape: v.shape, dtype: 'float32', geometry: v.geometry });
}

test('NaN/Inf voxels are refused by plan-and-preprocess without --verify: file, count and fix, no preprocessed array', () => {
  const { root, dir } = taskRoot();
  const file = path.join(dir, 'imagesTr', 'case_001_0001.nii.gz');
  poison(file, NaN, 3);
  const r = nnunet(root, ['plan-and-preprocess', '-t', dir]);
  assertRefused(r, 1, file, /contains 3 NaN and 0 Inf voxels/, /replace them with finite values/);
  assert.deepEqual(filesUnder(path.join(root, 'pp')), [], 'no fingerprint, plans or preprocessed arrays');
  assertNoTemporaries(root);
  poison(file, Infinity, 1);
  assertRefused(nnunet(root, ['verify', '-t', dir]), 1, 'case_001_0001.nii.gz', /2 NaN and 1 Inf voxels/);
});

test('a label value dataset.json does not declare is refused by plan-and-preprocess without --verify', () => {
  const { root, dir } = taskRoot();
  const file = path.join(dir, 'labelsTr', 'case_001.nii.gz');
  const v = readNiftiSync(file);
  v.data[5] = 7;
  writeNiftiSync(file, v);
  const r = nnunet(root, ['plan-and-preprocess', '-t', dir]);
  assertRefused(r, 1, file, /label values 7 are not declared in dataset\.json \(declared: 0, 1, 2\)/, /fix the label file, or declare the values/);
  assert.deepEqual(filesUnder(path.join(root, 'pp')), []);
  assertNoTemporaries(root);
});

/** A NIfTI with spacing 2.5 whose pixdim[1] is then set to `pixdim`; without sform when `noSform`. */
function badPixdim(file: string, pixdim: number, noSform: boolean): void {
  const bytes = encodeNifti1({ data: new Float32Array(24).fill(1), shape: [2, 3, 4], dtype: 'float32', geometry: { spacing: [2.5, 2.5, 2.5], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] } });
  bytes.writeFloatLE(pixdim, 80);
  if (noSform) bytes.writeInt16LE(0, 254);
  fs.writeFileSync(file, bytes);
}

test('a pixdim of 0 or NaN takes the sform\'s spacing; without a sform it is refused, never 1 mm', () => {
  const root = tmpDir('nnunet-hostile-');
  for (const p of [0, NaN]) {
    const file = path.join(root, `pixdim-${p}.nii`);
    badPixdim(file, p, false);
    const r = nnunet(root, ['inspect', '--json', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { geometry: { spacing: number[] } }).geometry.spacing, [2.5, 2.5, 2.5]);
    const q = path.join(root, `qform-only-${p}.nii`);
    badPixdim(q, p, true);
    assertRefused(nnunet(root, ['inspect', q]), 1, q, new RegExp(`pixdim\\[1\\] is ${p}`), /voxel size is unknown/, /set_zooms/);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// predict: every input checked before the first case; the output folder checked before any work

const TASK = 'Task099_Toy';

/** A task with 3D plans for one modality and a (dummy) fold_0 checkpoint: enough for predict's checks. */
function predictSetup(): { root: string; input: string } {
  const root = tmpDir('nnunet-hostile-');
  const raw = path.join(root, 'raw', 'nnUNet_raw_data', TASK);
  fs.mkdirSync(raw, { recursive: true });
  fs.writeFileSync(path.join(raw, 'dataset.json'), JSON.stringify({ name: 'Toy', modality: { 0: 'MR' }, labels: { 0: 'background', 1: 'organ' }, numTraining: 0, training: [], test: [] }));
  const pp = path.join(root, 'pp', TASK);
  fs.mkdirSync(pp, { recursive: true });
  const stage = { patch_size: [4, 8, 8], current_spacing: [2, 1, 1], pool_op_kernel_sizes: [[1, 2, 2]], conv_kernel_sizes: [[1, 3, 3], [3, 3, 3]] };
  fs.writeFileSync(path.join(pp, 'nnUNetPlansv2.1_plans_3D.json'), JSON.stringify({
    plans_kind: '3d', num_stages: 1, num_modalities: 1, num_classes: 1, base_num_features: 4, unet_max_num_features: 320,
    normalization_schemes: { 0: 'nonCT' }, use_mask_for_norm: { 0: false }, transpose_forward: [0, 1, 2], transpose_backward: [0, 1, 2],
    data_identifier: 'nnUNetData_plans_v2.1', plans_per_stage: { 0: stage }, dataset_properties: { intensityproperties: null },
  }));
  const fold = path.join(root, 'results', 'nnUNet', '3d_fullres', TASK, 'nnUNetTrainerV2__nnUNetPlansv2.1', 'fold_0');
  fs.mkdirSync(fold, { recursive: true });
  fs.writeFileSync(path.join(fold, 'model_final_checkpoint.model'), 'never loaded: the checks fail first');
  const input = path.join(root, 'in');
  fs.mkdirSync(input);
  for (const id of ['a', 'b', 'c']) {
    writeNiftiSync(path.join(input, `${id}_0000.nii.gz`), { data: Float32Array.from({ length: 5 * 9 * 10 }, (_, i) => (i % 17) + 1), shape: [5, 9, 10], dtype: 'float32', geometry: { spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] } });
  }
  return { root, input };
}

const predictArgs = (input: string, out: string): string[] => ['predict', '-i', input, '-o', out, '-t', TASK, '-m', '3d_fullres', '--backend', 'cpu'];

test('predict refuses NaN inputs and a corrupt later case before predicting the first: every problem listed, nothing written', () => {
  const { root, input } = predictSetup();
  poison(path.join(input, 'b_0000.nii.gz'), NaN, 2);
  const c = path.join(input, 'c_0000.nii.gz');
  const bytes = fs.readFileSync(c);
  fs.writeFileSync(c, bytes.subarray(0, bytes.length - 40));
  const out = path.join(root, 'out');
  const r = nnunet(root, predictArgs(input, out));
  assertRefused(r, 1, path.join(input, 'b_0000.nii.gz'), /contains 2 NaN and 0 Inf voxels/, /nothing was predicted/);
  assert.match(r.stderr, new RegExp(`${esc(c)}: (truncated or corrupt gzip|header promises)`));
  assert.equal(fs.existsSync(out), false, 'no output folder');
});

test('predict refuses a FIFO among its inputs without opening it', () => {
  const { root, input } = predictSetup();
  const fifo = path.join(input, 'b_0000.nii.gz');
  fs.rmSync(fifo);
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const out = path.join(root, 'out');
  const r = nnunet(root, predictArgs(input, out), { timeoutMs: 20_000 });
  assertRefused(r, 1, fifo, /FIFO \(named pipe\), not a regular file/, /nothing was predicted/);
  assert.equal(fs.existsSync(out), false);
});

test('predict and plan-and-preprocess check their output folders first (a path under a regular file: even root cannot write it)', () => {
  const { root, input } = predictSetup();
  const blocker = path.join(root, 'a-file');
  fs.writeFileSync(blocker, 'not a folder');
  const r = nnunet(root, predictArgs(input, path.join(blocker, 'out')));
  assertRefused(r, 1, blocker, /is a file, not a folder/, /pass -o a folder you can write/);
  assert.doesNotMatch(r.stderr, /backend:/, 'refused before the backend started');

  const task = taskRoot();
  const p = nnunet(task.root, ['plan-and-preprocess', '-t', task.dir], { env: { nnUNet_preprocessed: path.join(blocker, 'pp') } });
  assertRefused(p, 1, blocker, /cannot write the preprocessed folder/, /set nnUNet_preprocessed \(paths\.preprocessed\) to a folder you can write/);
  assert.deepEqual(filesUnder(path.join(task.root, 'raw', 'nnUNet_cropped_data')), [], 'no cropped data');
});

// ---------------------------------------------------------------------------------------------------------------
// convert-msd: never destroys, never widens permissions

function msdTask(root: string): string {
  const msd = path.join(root, 'Task05_Prostate');
  for (const sub of ['imagesTr', 'labelsTr']) fs.mkdirSync(path.join(msd, sub), { recursive: true });
  const image = path.join(msd, 'imagesTr', 'p_00.nii.gz');
  writeNiftiSync(image, { data: new Float32Array(2 * 4 * 5 * 6).fill(1), shape: [2, ...TINY_SHAPE], dtype: 'float32', geometry: { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] } });
  writeNiftiSync(path.join(msd, 'labelsTr', 'p_00.nii.gz'), { data: new Uint8Array(120), shape: TINY_SHAPE, dtype: 'uint8', geometry: { spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] } });
  fs.chmodSync(path.join(msd, 'labelsTr', 'p_00.nii.gz'), 0o600);
  fs.writeFileSync(path.join(msd, 'dataset.json'), JSON.stringify({ name: 'Prostate', modality: { 0: 'T2', 1: 'ADC' }, labels: { 0: 'background', 1: 'PZ' }, numTraining: 1, training: [{ image: './imagesTr/p_00.nii.gz', label: './labelsTr/p_00.nii.gz' }], test: [] }));
  return msd;
}

test('convert-msd refuses an existing task folder unless --overwrite, which keeps the user\'s files', () => {
  const root = tmpDir('nnunet-hostile-');
  const msd = msdTask(root);
  const first = nnunet(root, ['convert-msd', '-i', msd]);
  assert.equal(first.code, 0, first.stderr);
  const out = path.join(root, 'raw', 'nnUNet_raw_data', 'Task005_Prostate');
  fs.writeFileSync(path.join(out, 'notes.txt'), 'my notes');
  fs.writeFileSync(path.join(out, 'imagesTs', 'mine_0000.nii.gz'), 'my test image');
  const again = nnunet(root, ['convert-msd', '-i', msd]);
  assertRefused(again, 1, out, /already exists; nothing was changed/, /--overwrite/);
  assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'my notes');
  const over = nnunet(root, ['convert-msd', '-i', msd, '--overwrite']);
  assert.equal(over.code, 0, over.stderr);
  assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'my notes', 'files it does not write are kept');
  assert.ok(fs.existsSync(path.join(out, 'imagesTs', 'mine_0000.nii.gz')));
  assertNoTemporaries(path.join(root, 'raw'));
});

test('convert-msd follows the umask and keeps a private source private (no forced 0644)', () => {
  const root = tmpDir('nnunet-hostile-');
  const msd = msdTask(root);
  const r = nnunet(root, ['convert-msd', '-i', msd], { shell: 'umask 077;' });
  assert.equal(r.code, 0, r.stderr);
  const out = path.join(root, 'raw', 'nnUNet_raw_data', 'Task005_Prostate');
  for (const f of ['dataset.json', 'labelsTr/p_00.nii.gz', 'imagesTr/p_00_0000.nii.gz', 'imagesTr/p_00_0001.nii.gz']) {
    assert.equal(fs.statSync(path.join(out, f)).mode & 0o777, 0o600, `${f} under umask 077`);
  }
  const open = nnunet(root, ['convert-msd', '-i', msd, '-t', '6'], { shell: 'umask 022;' });
  assert.equal(open.code, 0, open.stderr);
  const out6 = path.join(root, 'raw', 'nnUNet_raw_data', 'Task006_Prostate');
  assert.equal(fs.statSync(path.join(out6, 'dataset.json')).mode & 0o777, 0o644);
  assert.equal(fs.statSync(path.join(out6, 'labelsTr', 'p_00.nii.gz')).mode & 0o777, 0o600, 'a 0600 source stays 0600');
});

// ---------------------------------------------------------------------------------------------------------------
// Messages

test('verify: problems on stderr, dataset.json errors by line and column, a 4D label gets a label\'s fix', () => {
  const { root, dir } = taskRoot();
  const label = path.join(dir, 'labelsTr', 'case_000.nii.gz');
  const v = readNiftiSync(label);
  writeNiftiSync(label, { ...v, shape: [2, ...v.shape], data: Uint8Array.from([...v.data, ...v.data]) });
  const r = nnunet(root, ['verify', '-t', dir]);
  assertRefused(r, 1, 'labelsTr/case_000.nii.gz', /is 4D \(2 volumes\): a label must be one 3D map of integer values/, /merge per-class volumes/);
  assert.equal(r.stdout, '', 'nothing on stdout for a bad dataset');
  assert.doesNotMatch(r.stderr.split('\n').find((l) => l.includes('case_000.nii.gz')) ?? '', /convert-msd/);
  fs.writeFileSync(path.join(dir, 'dataset.json'), '{\n  "name": "x",\n  modality: {}\n}\n');
  const j = nnunet(root, ['verify', '-t', dir]);
  assertRefused(j, 1, 'dataset.json', /not valid JSON: .* at line 3, column 3/);
});

test('a config with several errors lists all of them (exit 2)', () => {
  const root = tmpDir('nnunet-hostile-');
  const cfg = path.join(root, 'bad.yaml');
  fs.writeFileSync(cfg, 'numProcesses: -1\ndata:\n  maxImageMemoryGb: lots\nbogus: 1\n');
  const r = nnunet(root, ['--config', cfg, 'verify', '-t', '4']);
  assert.equal(r.code, 2, r.stderr);
  for (const key of ['numProcesses', 'data.maxImageMemoryGb', 'bogus: unknown key']) assert.match(r.stderr, new RegExp(esc(key)));
  assert.match(r.stderr, /3 problems/);
});

test('a task folder without dataset.json fails the same by id and by path (exit 1); a path to nothing is a usage error (2)', () => {
  const { root, dir } = taskRoot();
  fs.rmSync(path.join(dir, 'dataset.json'));
  for (const ref of ['901', dir]) {
    const r = nnunet(root, ['verify', '-t', ref]);
    assertRefused(r, 1, 'dataset.json', /cannot read dataset\.json \(ENOENT\); every task folder needs one/);
    const p = nnunet(root, ['plan-and-preprocess', '-t', ref]);
    assertRefused(p, 1, 'dataset.json', /every task folder needs one/);
  }
  const none = nnunet(root, ['verify', '-t', path.join(root, 'nowhere')]);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /no such folder; -t takes a task id/);
});
