/** scripts/setup-native: the wheel pins are well formed and complete, and bad options fail before any download. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/temporal';

const dir = path.join(repoRoot, 'scripts', 'setup-native');
const ROLES = ['tf-cpu', 'tf-gpu', 'cuda'];

interface Pin { role: string; version: string; platform: string; file: string; sha256: string }

function pins(): Pin[] {
  return fs.readFileSync(path.join(dir, 'wheels.lock'), 'utf8').split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      assert.equal(f.length, 5, `wheels.lock line needs 5 columns: ${l}`);
      return { role: f[0]!, version: f[1]!, platform: f[2]!, file: f[3]!, sha256: f[4]! };
    });
}

function defaultVersion(): string {
  const m = /^DEFAULT_TF_VERSION="([^"]+)"/m.exec(fs.readFileSync(path.join(dir, 'setup.sh'), 'utf8'));
  assert.ok(m, 'setup.sh sets DEFAULT_TF_VERSION');
  return m[1]!;
}

test('every pin is a wheel file name with its sha256; TensorFlow wheels carry the version of their row', () => {
  for (const p of pins()) {
    assert.ok(ROLES.includes(p.role), `role ${p.role}`);
    assert.match(p.sha256, /^[0-9a-f]{64}$/, p.file);
    const parts = p.file.replace(/\.whl$/, '').split('-');
    assert.ok(p.file.endsWith('.whl') && parts.length === 5, `PEP 427 name-version-python-abi-platform.whl: ${p.file}`);
    if (p.role !== 'cuda') {
      assert.match(parts[0]!, /^tensorflow(_cpu)?$/, p.file);
      assert.equal(parts[1], p.version, p.file);
    }
    assert.ok(parts[4]!.includes(p.platform.replace('linux-', '')), `${p.file} is for ${p.platform}`);
  }
});

test('the default TensorFlow has a CPU and a GPU build with its CUDA libraries on Linux x86_64', () => {
  const v = defaultVersion();
  const at = (role: string): Pin[] => pins().filter((p) => p.role === role && p.version === v && p.platform === 'linux-x86_64');
  assert.equal(at('tf-cpu').length, 1);
  assert.equal(at('tf-gpu').length, 1);
  const cuda = at('cuda').map((p) => p.file.split('-')[0]);
  for (const lib of ['nvidia_cuda_runtime_cu12', 'nvidia_cudnn_cu12', 'nvidia_cublas_cu12']) assert.ok(cuda.includes(lib), `${lib} pinned`);
});

function setup(...args: string[]): { code: number | null; stderr: string } {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-setup-native-'));
  try {
    const r = spawnSync('bash', [path.join(dir, 'setup.sh'), ...args], { env: { ...process.env, NNUNET_CACHE_DIR: cache }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stderr: r.stderr };
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

test('an unknown option or an unpinned version is refused before anything is fetched', (t) => {
  const bogus = setup('--bogus');
  assert.equal(bogus.code, 1);
  assert.match(bogus.stderr, /unknown option '--bogus' \(use --cpu, --gpu, --tf VERSION, --prefix DIR\)/);
  const unpinned = setup('--cpu', '--tf', '0.0.1');
  assert.equal(unpinned.code, 1);
  if (/is required|only Linux/.test(unpinned.stderr)) return t.skip(`this machine cannot build it anyway: ${unpinned.stderr.trim()}`);
  assert.match(unpinned.stderr, new RegExp(`no pinned tf-cpu wheel for TensorFlow 0\\.0\\.1 .*pinned versions: .*${defaultVersion().replace(/\./g, '\\.')}`));
});
