/** Locates ../shared beside the checkout; tests skip with a message when it is absent. */
import * as fs from 'node:fs';
import * as path from 'node:path';

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

export const SHARED_DIR = path.resolve(repoRoot(), '..', 'shared');

/** The parsed vector file, or a skip reason. */
export function loadVectors<T>(name: string): { data?: T; skip?: string } {
  const file = path.join(SHARED_DIR, 'vectors', name);
  if (!fs.existsSync(file)) return { skip: `${file} not found (../shared is absent): skipping reference-vector test` };
  return { data: JSON.parse(fs.readFileSync(file, 'utf8')) as T };
}
