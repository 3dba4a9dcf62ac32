/** Config: defaults.yaml < environment < --config FILE; every invalid value is exit code 2 naming its key. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../config';
import { workerSettingsOf } from '../../worker';
import { assertBuilt, runCli } from '../client/cli-helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-config-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const file = path.join(tmp, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
};

test('defaults: folders under ./nnunet_data of the current directory, nnU-Net training defaults', () => {
  const c = loadConfig({ env: {}, cwd: '/data/project' });
  assert.equal(c.paths.rawDataBase, '/data/project/nnunet_data/nnUNet_raw_data_base');
  assert.equal(c.paths.preprocessed, '/data/project/nnunet_data/nnUNet_preprocessed');
  assert.equal(c.paths.results, '/data/project/nnunet_data/nnUNet_trained_models');
  assert.equal(c.temporal.address, undefined, 'no address = embedded server');
  assert.equal(c.temporal.namespace, 'default');
  assert.equal(c.training.epochs, 1000);
  assert.equal(c.training.iterationsPerEpoch, 250);
  assert.equal(c.planning.gpuMemoryTargetGb, 8);
  assert.equal(c.numProcesses, 8);
  assert.equal(c.worker.maxConcurrentTraining, 1);
});

test('environment overrides defaults, with nnU-Net and Temporal variable names', () => {
  const c = loadConfig({
    cwd: '/work',
    env: {
      nnUNet_raw_data_base: '/d/raw', nnUNet_preprocessed: 'pp', RESULTS_FOLDER: '/d/res',
      TEMPORAL_ADDRESS: 'temporal.lab:7233', TEMPORAL_NAMESPACE: 'nnunet',
      TEMPORAL_TLS_CERT: '/certs/c.pem', TEMPORAL_TLS_KEY: '/certs/c.key', TEMPORAL_TLS_CA: '/certs/ca.pem',
      nnUNet_def_n_proc: '3',
    },
  });
  assert.equal(c.paths.rawDataBase, '/d/raw');
  assert.equal(c.paths.preprocessed, '/work/pp', 'relative env paths resolve against the current directory');
  assert.equal(c.paths.results, '/d/res');
  assert.equal(c.temporal.address, 'temporal.lab:7233');
  assert.equal(c.temporal.namespace, 'nnunet');
  assert.deepEqual(c.temporal.tls, { certPath: '/certs/c.pem', keyPath: '/certs/c.key', caPath: '/certs/ca.pem' });
  assert.equal(c.numProcesses, 3);
});

test("the worker's settings: tensor backend and checkpoint frequency, overridable by NNUNET_BACKEND and NNUNET_CHECKPOINT_EVERY_EPOCHS", () => {
  // Training slots depend on the machine's GPUs (test/worker/gpus.test.ts); here only the explicit choices.
  const cpu = { slots: 1 };
  assert.deepEqual(workerSettingsOf(loadConfig({ env: {} }), cpu), { backend: 'auto', trainingSlots: 1 }, 'defaults: best backend, nnU-Net checkpoints');
  const c = loadConfig({ env: { NNUNET_BACKEND: 'cpu', NNUNET_CHECKPOINT_EVERY_EPOCHS: '1' } });
  assert.deepEqual(workerSettingsOf(c, cpu), { backend: 'cpu', checkpointEveryEpochs: 1, trainingSlots: 1 });
  assert.deepEqual(workerSettingsOf(c, { gpus: ['0', '1'] }), { backend: 'cpu', checkpointEveryEpochs: 1, trainingDevices: ['0', '1'] });
  assert.throws(() => loadConfig({ env: { NNUNET_BACKEND: 'gpu' } }), (e: unknown) => e instanceof ConfigError && /worker\.backend.*env NNUNET_BACKEND/.test(e.message));
  assert.throws(() => loadConfig({ env: { NNUNET_CHECKPOINT_EVERY_EPOCHS: '0' } }), (e: unknown) => e instanceof ConfigError && /worker\.checkpointEveryEpochs/.test(e.message));
});

test('--config FILE overrides environment; its relative paths resolve against the file', () => {
  const file = write('site/nnunet.yaml', 'paths:\n  results: ./models\ntemporal:\n  namespace: from-file\ntraining:\n  epochs: 50\n');
  const c = loadConfig({ configFile: file, cwd: '/elsewhere', env: { RESULTS_FOLDER: '/env/res', TEMPORAL_NAMESPACE: 'from-env', nnUNet_preprocessed: '/env/pp' } });
  assert.equal(c.paths.results, path.join(tmp, 'site', 'models'));
  assert.equal(c.temporal.namespace, 'from-file');
  assert.equal(c.paths.preprocessed, '/env/pp', 'keys the file does not set keep the environment value');
  assert.equal(c.training.epochs, 50);
  assert.equal(c.training.iterationsPerEpoch, 250, 'siblings of a set key keep their defaults');
});

test('invalid values: ConfigError with exit code 2 naming the key and where it came from', () => {
  const cases: Array<[Parameters<typeof loadConfig>[0], RegExp]> = [
    [{ env: { nnUNet_def_n_proc: 'many' } }, /numProcesses: .*number.*env nnUNet_def_n_proc/],
    [{ env: { TEMPORAL_ADDRESS: 'no port' } }, /temporal\.address: expected host:port \(from env TEMPORAL_ADDRESS\)/],
    [{ env: { TEMPORAL_TLS_CERT: '/c.pem' } }, /temporal\.tls: certPath and keyPath go together/],
    [{ env: {}, configFile: write('typo.yaml', 'training:\n  epoch: 5\n') }, /training\.epoch: unknown key \(from .*typo\.yaml\)/],
    [{ env: {}, configFile: write('neg.yaml', 'training:\n  epochs: -1\n') }, /training\.epochs: .*(>0|positive|small).*neg\.yaml/],
    [{ env: {}, configFile: write('bad.yaml', 'paths: [\n') }, /bad\.yaml: not valid YAML/],
    [{ env: {}, configFile: write('list.yaml', '- a\n- b\n') }, /list\.yaml: expected a YAML mapping/],
    [{ env: {}, configFile: path.join(tmp, 'missing.yaml') }, /missing\.yaml: cannot read \(ENOENT\)/],
  ];
  for (const [opts, message] of cases) {
    assert.throws(() => loadConfig(opts), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('the CLI exits 2 with one clear line naming the key (real child process)', () => {
  assertBuilt();
  const file = write('cli-bad.yaml', 'planning:\n  gpuMemoryTargetGb: lots\n');
  const r = runCli(['--config', file, 'status', '-t', '4']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^nnunet: invalid config: planning\.gpuMemoryTargetGb: .*cli-bad\.yaml/m);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, got:\n${r.stderr}`);

  const env = runCli(['run', '-t', '4'], { env: { nnUNet_def_n_proc: 'x' } });
  assert.equal(env.status, 2, env.stderr);
  assert.match(env.stderr, /numProcesses.*env nnUNet_def_n_proc/);
});

test("nnU-Net v2's variables: nnUNet_raw holds Dataset folders, nnUNet_results is the results folder unless v1's RESULTS_FOLDER is set too", () => {
  const v2 = loadConfig({ cwd: '/work', env: { nnUNet_raw: 'raw2', nnUNet_preprocessed: '/d/pp', nnUNet_results: '/d/results2' } });
  assert.equal(v2.paths.raw, '/work/raw2', 'relative nnUNet_raw resolves against the current directory');
  assert.equal(v2.paths.preprocessed, '/d/pp');
  assert.equal(v2.paths.results, '/d/results2');
  assert.equal(v2.paths.rawDataBase, '/work/nnunet_data/nnUNet_raw_data_base', 'v1 raw data base keeps its default');
  const both = loadConfig({ env: { nnUNet_results: '/d/results2', RESULTS_FOLDER: '/d/results1', nnUNet_raw_data_base: '/d/base' } });
  assert.equal(both.paths.results, '/d/results1', "RESULTS_FOLDER wins: the results tree is v1's");
  assert.equal(both.paths.raw, undefined, 'without nnUNet_raw, Dataset folders are looked for in nnUNet_raw_data_base');
});

test('training.augmentationWorkers: auto by default (absent from the settings), nnUNet_n_proc_DA sets it, 0 allowed, negative refused', () => {
  const cpu = { slots: 1 };
  assert.equal(loadConfig({ env: {} }).training.augmentationWorkers, 'auto');
  assert.equal(workerSettingsOf(loadConfig({ env: {} }), cpu).augmentationWorkers, undefined);
  assert.equal(workerSettingsOf(loadConfig({ env: { nnUNet_n_proc_DA: '0' } }), cpu).augmentationWorkers, 0);
  assert.equal(workerSettingsOf(loadConfig({ env: { nnUNet_n_proc_DA: '3' } }), cpu).augmentationWorkers, 3);
  assert.throws(() => loadConfig({ env: { nnUNet_n_proc_DA: '-1' } }), (e: unknown) => e instanceof ConfigError && /training\.augmentationWorkers/.test(e.message));
});

test('training.precision: absent by default (and from the worker settings), NNUNET_PRECISION=bfloat16 reaches them, float32 stays absent, others refused', () => {
  const cpu = { slots: 1 };
  assert.equal(loadConfig({ env: {} }).training.precision, undefined);
  assert.equal('precision' in workerSettingsOf(loadConfig({ env: {} }), cpu), false);
  assert.equal(workerSettingsOf(loadConfig({ env: { NNUNET_PRECISION: 'bfloat16' } }), cpu).precision, 'bfloat16');
  assert.equal('precision' in workerSettingsOf(loadConfig({ env: { NNUNET_PRECISION: 'float32' } }), cpu), false);
  assert.throws(() => loadConfig({ env: { NNUNET_PRECISION: 'float16' } }), (e: unknown) => e instanceof ConfigError && /training\.precision/.test(e.message));
});
