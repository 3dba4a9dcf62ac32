/**
 * Runs Python (Debian's /usr/bin/python3, or NNUNET_PARITY_PYTHON) for the round-trip tests: our files must load
 * with pickle / torch.load. `pythonWith` says why Python cannot be used, so tests skip with that message.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../../config';

export const PYTHON = process.env.NNUNET_PARITY_PYTHON ?? '/usr/bin/python3';

export const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'nnunet-files');

const cache = new Map<string, string | undefined>();

/** undefined when PYTHON imports every module, else the reason to skip. */
export function pythonLacks(modules: string[]): string | undefined {
  const key = modules.join(',');
  if (!cache.has(key)) {
    const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 60000 });
    cache.set(key, r.status === 0 ? undefined : `${PYTHON} cannot import ${modules.join(', ')} (${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()})`);
  }
  return cache.get(key);
}

/** Runs a Python script with arguments; throws with its stderr when it fails. */
export function runPython(script: string, args: string[] = []): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A Python function `same(a, b)` → list of differences, strict about containers (tuple vs list, ndarray dtype and
 * shape, dict vs OrderedDict when `ordered_strict`) and by value for numbers (numpy scalars equal to Python's).
 */
export const PY_COMPARE = `
import collections, numpy as np
def same(a, b, path='', ordered_strict=True):
    out = []
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return [f'{path}: {type(a).__name__} vs {type(b).__name__}']
        if a.dtype.newbyteorder('=') != b.dtype.newbyteorder('=') and not (a.dtype.kind == b.dtype.kind == 'U'):
            return [f'{path}: dtype {a.dtype} vs {b.dtype}']
        if a.shape != b.shape or not (a.tolist() == b.tolist()):
            return [f'{path}: {a!r} vs {b!r}']
        return []
    if isinstance(a, dict):
        if not isinstance(b, dict): return [f'{path}: dict vs {type(b).__name__}']
        if ordered_strict and isinstance(a, collections.OrderedDict) != isinstance(b, collections.OrderedDict):
            return [f'{path}: {type(a).__name__} vs {type(b).__name__}']
        if list(a.keys()) != list(b.keys()) and set(a.keys()) != set(b.keys()): return [f'{path}: keys {list(a)} vs {list(b)}']
        for k in a: out += same(a[k], b[k], f'{path}.{k!r}', ordered_strict)
        return out
    if isinstance(a, (list, tuple)):
        if type(a) != type(b): return [f'{path}: {type(a).__name__} vs {type(b).__name__}']
        if len(a) != len(b): return [f'{path}: length {len(a)} vs {len(b)}']
        for i, (x, y) in enumerate(zip(a, b)): out += same(x, y, f'{path}[{i}]', ordered_strict)
        return out
    if isinstance(a, (set, frozenset, str, bytes)) or a is None:
        return [] if type(a) == type(b) and a == b else [f'{path}: {a!r} vs {b!r}']
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return [] if bool(a) == bool(b) and isinstance(b, (bool, np.bool_)) else [f'{path}: {a!r} vs {b!r}']
    return [] if a == b else [f'{path}: {a!r} vs {b!r}']
`;
