/** Locates ../shared beside the checkout; tests skip with a message when it is absent. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../config';

export { repoRoot };
export const SHARED_DIR = path.resolve(repoRoot(), '..', 'shared');

/** The parsed vector file, or a skip reason. */
export function loadVectors<T>(name: string): { data?: T; skip?: string } {
  const file = path.join(SHARED_DIR, 'vectors', name);
  if (!fs.existsSync(file)) return { skip: `${file} not found (../shared is absent): skipping reference-vector test` };
  return { data: JSON.parse(fs.readFileSync(file, 'utf8')) as T };
}
