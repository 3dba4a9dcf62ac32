/**
 * The nnU-Net v1 side of `bench vs-nnunet`: bench/nnunet_v1_reference.py run by a python3 that has torch and
 * nnU-Net 1.7 ($NNUNET_V1_PYTHON, python3 on PATH, or Debian's /usr/bin/python3), one part per process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runJsonChild } from './child';

export interface NnunetPython { python: string; versions: Record<string, string> }

function script(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'bench', 'nnunet_v1_reference.py')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'bench', 'nnunet_v1_reference.py');
}

/** The first python3 that imports nnU-Net v1's trainer, or the reason none does (the bench then skips nnU-Net). */
export function findNnunetPython(): NnunetPython | string {
  const candidates = [process.env.NNUNET_V1_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const reasons: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, [script(), 'check'], { encoding: 'utf8', timeout: 180_000 });
    const line = r.stdout?.trim().split('\n').pop();
    if (r.status === 0 && line) return { python, versions: JSON.parse(line) as Record<string, string> };
    reasons.push(`${python}: ${r.error?.message ?? r.stderr?.trim().split('\n').pop() ?? `exit code ${r.status}`}`);
  }
  return `no python3 with torch and nnU-Net v1 (pip install nnunet==1.7.1 batchgenerators==0.25 medpy==0.4.0; or set NNUNET_V1_PYTHON): ${reasons.join('; ')}`;
}

export function runNnunetPart<T>(py: NnunetPython, part: string, args: object): T {
  return runJsonChild<T>(py.python, [script(), part, JSON.stringify(args)], `nnU-Net v1 ${part}`);
}
