/** Reference vectors committed under test/fixtures/vectors (see the README.md there for where each came from). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../config';

export const VECTORS_DIR = path.join(repoRoot(), 'test', 'fixtures', 'vectors');

/** Path of a vector file; throws when it is missing, so a test never passes by skipping its reference. */
export function vectorFile(name: string): string {
  const file = path.join(VECTORS_DIR, name);
  if (!fs.existsSync(file)) throw new Error(`reference vector ${file} is missing: restore it from git (test/fixtures/vectors/README.md)`);
  return file;
}

export function readVector<T>(name: string): T {
  return JSON.parse(fs.readFileSync(vectorFile(name), 'utf8')) as T;
}
